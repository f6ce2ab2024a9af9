#include "net/loop.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

namespace ws::net {
namespace {
// The waker's tag: no Watcher lives at address 1.
constexpr std::uint64_t kWakeTag = 1;
}  // namespace

Loop::Loop()
    : epoll_(::epoll_create1(EPOLL_CLOEXEC)),
      wake_fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)),
      events_(1024),
      now_(Clock::now()) {
    if (!epoll_) throw std::system_error(errno, std::generic_category(), "cannot create an epoll instance");
    if (!wake_fd_) throw std::system_error(errno, std::generic_category(), "cannot create an eventfd");
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kWakeTag;
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, wake_fd_.get(), &ev) != 0)
        throw std::system_error(errno, std::generic_category(), "cannot watch the eventfd");
}

void Loop::watch(int fd, std::uint32_t events, Watcher& w) {
    epoll_event ev{};
    ev.events = events;
    ev.data.ptr = &w;
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0)
        throw std::system_error(errno, std::generic_category(), "cannot watch a socket with epoll");
}

void Loop::modify(int fd, std::uint32_t events, Watcher& w) {
    epoll_event ev{};
    ev.events = events;
    ev.data.ptr = &w;
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &ev);
}

void Loop::unwatch(int fd) { ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr); }

void Loop::wake() const {
    std::uint64_t one = 1;
    [[maybe_unused]] auto rc = ::write(wake_fd_.get(), &one, sizeof one);  // async-signal-safe
}

void Loop::defer(std::function<void()> call) { deferred_.push_back(std::move(call)); }

void Loop::place(Timer* t, std::uint32_t i) {
    heap_[i] = t;
    t->index_ = i;
}

void Loop::sift_up(std::uint32_t i) {
    Timer* t = heap_[i];
    while (i > 0) {
        std::uint32_t parent = (i - 1) / 2;
        if (heap_[parent]->when_ <= t->when_) break;
        place(heap_[parent], i);
        i = parent;
    }
    place(t, i);
}

void Loop::sift_down(std::uint32_t i) {
    Timer* t = heap_[i];
    auto n = static_cast<std::uint32_t>(heap_.size());
    for (;;) {
        std::uint32_t child = 2 * i + 1;
        if (child >= n) break;
        if (child + 1 < n && heap_[child + 1]->when_ < heap_[child]->when_) ++child;
        if (t->when_ <= heap_[child]->when_) break;
        place(heap_[child], i);
        i = child;
    }
    place(t, i);
}

void Loop::arm(Timer& t, Clock::time_point when) {
    if (t.armed()) {
        bool earlier = when < t.when_;
        t.when_ = when;
        earlier ? sift_up(t.index_) : sift_down(t.index_);
        return;
    }
    t.when_ = when;
    heap_.push_back(&t);
    sift_up(static_cast<std::uint32_t>(heap_.size() - 1));
}

void Loop::cancel(Timer& t) {
    if (!t.armed()) return;
    std::uint32_t i = t.index_;
    t.index_ = Timer::kNotArmed;
    Timer* last = heap_.back();
    heap_.pop_back();
    if (last == &t) return;
    place(last, i);
    sift_down(i);
    sift_up(last->index_);
}

void Loop::run_timers() {
    while (!heap_.empty() && heap_.front()->when_ <= now_) {
        Timer* t = heap_.front();
        cancel(*t);
        t->on_timer();  // may arm itself again, or others
    }
}

void Loop::run() {
    quit_ = false;
    while (!quit_) {
        int timeout = -1;
        if (!heap_.empty()) {
            auto left = std::chrono::ceil<std::chrono::milliseconds>(heap_.front()->when_ - Clock::now()).count();
            timeout = static_cast<int>(std::clamp<long long>(left, 0, 60'000));
        }
        if (!deferred_.empty()) timeout = 0;
        int n = ::epoll_wait(epoll_.get(), events_.data(), static_cast<int>(events_.size()), timeout);
        if (n < 0 && errno != EINTR) throw std::system_error(errno, std::generic_category(), "epoll_wait failed");
        now_ = Clock::now();
        for (int i = 0; i < n; ++i) {
            const epoll_event& ev = events_[static_cast<std::size_t>(i)];
            if (ev.data.u64 == kWakeTag) {
                std::uint64_t value;
                [[maybe_unused]] auto rc = ::read(wake_fd_.get(), &value, sizeof value);
                if (on_wake) on_wake();
                continue;
            }
            static_cast<Watcher*>(ev.data.ptr)->on_ready(ev.events);
        }
        run_timers();
        // By index: a deferred call may defer more.
        for (std::size_t i = 0; i < deferred_.size(); ++i) {
            auto call = std::move(deferred_[i]);
            call();
        }
        deferred_.clear();
    }
}

}  // namespace ws::net
