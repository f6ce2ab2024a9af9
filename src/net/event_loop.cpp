#include "net/event_loop.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace ws::net {

Epoll::Epoll() : fd_(::epoll_create1(EPOLL_CLOEXEC)) {
    if (!fd_) throw std::system_error(errno, std::generic_category(), "cannot create an epoll instance");
}

void Epoll::add(int fd, std::uint32_t events, std::uint64_t tag) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = tag;
    if (::epoll_ctl(fd_.get(), EPOLL_CTL_ADD, fd, &ev) != 0)
        throw std::system_error(errno, std::generic_category(), "cannot watch a socket with epoll");
}

void Epoll::modify(int fd, std::uint32_t events, std::uint64_t tag) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = tag;
    ::epoll_ctl(fd_.get(), EPOLL_CTL_MOD, fd, &ev);
}

void Epoll::remove(int fd) { ::epoll_ctl(fd_.get(), EPOLL_CTL_DEL, fd, nullptr); }

std::span<epoll_event> Epoll::wait(std::span<epoll_event> out, std::chrono::milliseconds timeout) {
    int n = ::epoll_wait(fd_.get(), out.data(), static_cast<int>(out.size()), static_cast<int>(timeout.count()));
    if (n < 0) {
        if (errno == EINTR) return {};
        throw std::system_error(errno, std::generic_category(), "epoll_wait failed");
    }
    return out.first(static_cast<std::size_t>(n));
}

Waker::Waker() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    if (!fd_) throw std::system_error(errno, std::generic_category(), "cannot create an eventfd");
}

void Waker::wake() const {
    std::uint64_t one = 1;
    [[maybe_unused]] auto rc = ::write(fd_.get(), &one, sizeof one);
}

void Waker::drain() const {
    std::uint64_t value;
    [[maybe_unused]] auto rc = ::read(fd_.get(), &value, sizeof value);
}

}  // namespace ws::net
