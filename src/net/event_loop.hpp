// The epoll event loop's parts (Linux): one thread watches every socket and is told which are
// ready, instead of one blocked thread per client. Bytes only; no WebSocket rules here.
#pragma once

#include <sys/epoll.h>

#include <chrono>
#include <cstdint>
#include <span>

#include "net/socket.hpp"

namespace ws::net {

class Epoll {
public:
    Epoll();
    // Level-triggered: a socket stays "ready" while unread bytes (or free buffer space) remain.
    void add(int fd, std::uint32_t events, std::uint64_t tag);
    void modify(int fd, std::uint32_t events, std::uint64_t tag);
    void remove(int fd);
    // Waits up to `timeout` and returns the ready sockets in `out`.
    std::span<epoll_event> wait(std::span<epoll_event> out, std::chrono::milliseconds timeout);

private:
    Fd fd_;
};

// Wakes a loop from another thread or from a signal handler (write() is async-signal-safe).
class Waker {
public:
    Waker();
    int fd() const { return fd_.get(); }
    void wake() const;   // safe in a signal handler
    void drain() const;  // called by the loop after it woke up

private:
    Fd fd_;
};

}  // namespace ws::net
