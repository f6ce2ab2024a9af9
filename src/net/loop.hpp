// The event loop (Linux epoll): one thread watches every socket and is told which are ready,
// instead of one blocked thread per client. It also keeps timers and runs deferred calls.
// Bytes only; no WebSocket rule lives here.
//
// One turn of the loop:  wait (until a socket is ready or the next timer is due)
//                        → each ready socket's watcher → each due timer → the deferred calls
#pragma once

#include <sys/epoll.h>

#include <cstdint>
#include <functional>
#include <limits>
#include <vector>

#include "net/socket.hpp"

namespace ws::net {

class Loop;

// Told when its socket is ready. Level-triggered: a socket stays "ready" while unread bytes
// (or free buffer space) remain.
class Watcher {
public:
    virtual void on_ready(std::uint32_t events) = 0;  // EPOLLIN, EPOLLOUT, EPOLLHUP, EPOLLERR

protected:
    ~Watcher() = default;
};

// A timer costs nothing until armed; an armed timer is one entry in the loop's heap, so a
// thousand idle connections with no deadline cost the loop nothing at all.
class Timer {
public:
    virtual void on_timer() = 0;
    bool armed() const { return index_ != kNotArmed; }
    Clock::time_point when() const { return when_; }

protected:
    ~Timer() = default;

private:
    friend class Loop;
    static constexpr std::uint32_t kNotArmed = std::numeric_limits<std::uint32_t>::max();
    Clock::time_point when_{};
    std::uint32_t index_ = kNotArmed;
};

class Loop {
public:
    Loop();
    Loop(const Loop&) = delete;
    Loop& operator=(const Loop&) = delete;

    // Sockets. watch() throws std::system_error (the kernel may refuse, e.g. out of memory).
    void watch(int fd, std::uint32_t events, Watcher&);
    void modify(int fd, std::uint32_t events, Watcher&);
    void unwatch(int fd);

    // Timers: arm() sets or moves the deadline; cancel() is safe on an unarmed timer.
    void arm(Timer&, Clock::time_point when);
    void cancel(Timer&);

    // Runs `call` after this turn's sockets and timers, before the next wait. A deferred call
    // may defer more; they run in the same turn, in order.
    void defer(std::function<void()> call);

    // Turns until quit() is called (from the loop's own thread).
    void run();
    void quit() { quit_ = true; }

    // Safe from any thread and from a signal handler: the loop wakes and calls on_wake.
    void wake() const;
    std::function<void()> on_wake;

    // The time this turn started: one clock read per turn, not per connection.
    Clock::time_point now() const { return now_; }
    std::size_t timers_armed() const { return heap_.size(); }

private:
    void run_timers();
    void sift_up(std::uint32_t i);
    void sift_down(std::uint32_t i);
    void place(Timer*, std::uint32_t i);

    Fd epoll_;
    Fd wake_fd_;
    std::vector<Timer*> heap_;  // a binary min-heap on when_; each timer knows its index
    std::vector<std::function<void()>> deferred_;
    std::vector<epoll_event> events_;
    Clock::time_point now_;
    bool quit_ = false;
};

}  // namespace ws::net
