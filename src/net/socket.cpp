#include "net/socket.hpp"

#include "i18n/i18n.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace ws::net {

Fd& Fd::operator=(Fd&& other) noexcept {
    if (this != &other) {
        reset();
        fd_ = other.release();
    }
    return *this;
}

Fd::~Fd() { reset(); }

void Fd::reset() {
    // close() is never retried: on Linux the descriptor is gone even when it reports EINTR.
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

std::string Endpoint::str() const {
    return host.find(':') != std::string::npos ? "[" + host + "]:" + std::to_string(port)
                                               : host + ":" + std::to_string(port);
}

namespace {

Endpoint endpoint_of(const sockaddr_storage& ss) {
    char text[INET6_ADDRSTRLEN] = "?";
    Endpoint e;
    if (ss.ss_family == AF_INET) {
        auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
        inet_ntop(AF_INET, &a->sin_addr, text, sizeof text);
        e.port = ntohs(a->sin_port);
    } else if (ss.ss_family == AF_INET6) {
        auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
        inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text);
        e.port = ntohs(a->sin6_port);
    }
    e.host = text;
    return e;
}

struct AddrInfo {
    addrinfo* list = nullptr;
    ~AddrInfo() { if (list) freeaddrinfo(list); }
};

AddrInfo resolve(const std::string& host, std::uint16_t port, bool passive) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = passive ? AI_PASSIVE : 0;
    AddrInfo ai;
    std::string service = std::to_string(port);
    int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &ai.list);
    if (rc != 0)
        throw std::runtime_error(trf("cannot resolve {}: {}", host, gai_strerror(rc)));
    return ai;
}

}  // namespace

Listener::Listener(const std::string& host, std::uint16_t port, bool non_blocking) {
    AddrInfo ai = resolve(host, port, true);
    int last_error = 0;
    for (addrinfo* a = ai.list; a; a = a->ai_next) {
        Fd fd(::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | (non_blocking ? SOCK_NONBLOCK : 0),
                       a->ai_protocol));
        if (!fd) { last_error = errno; continue; }
        int one = 1;
        ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (::bind(fd.get(), a->ai_addr, a->ai_addrlen) != 0) { last_error = errno; continue; }
        if (::listen(fd.get(), SOMAXCONN) != 0) { last_error = errno; continue; }
        sockaddr_storage ss{};
        socklen_t len = sizeof ss;
        ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&ss), &len);
        local_ = endpoint_of(ss);
        fd_ = std::move(fd);
        non_blocking_ = non_blocking;
        return;
    }
    std::string where = host + ":" + std::to_string(port);
    std::string hint = last_error == EADDRINUSE ? tr(" — is another lesson still running? try --port 0")
                       : last_error == EACCES   ? tr(" — ports below 1024 need root; try --port 8080")
                                                : "";
    throw std::runtime_error(trf("cannot listen on {}: {}{}", where, std::strerror(last_error), hint));
}

Fd Listener::accept(Endpoint* peer, int* error) const {
    if (error) *error = 0;
    for (;;) {
        sockaddr_storage ss{};
        socklen_t len = sizeof ss;
        int fd = ::accept4(fd_.get(), reinterpret_cast<sockaddr*>(&ss), &len,
                           SOCK_CLOEXEC | (non_blocking_ ? SOCK_NONBLOCK : 0));
        if (fd >= 0) {
            if (peer) *peer = endpoint_of(ss);
            return Fd(fd);
        }
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (error && errno != EAGAIN && errno != EWOULDBLOCK) *error = errno;
        return Fd();
    }
}

Fd connect_to(const std::string& host, std::uint16_t port, std::chrono::milliseconds timeout) {
    AddrInfo ai = resolve(host, port, false);
    Deadline deadline = after(timeout);
    int last_error = 0;
    for (addrinfo* a = ai.list; a; a = a->ai_next) {
        // Non-blocking, so the connect can time out (and every later read and write too).
        Fd fd(::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol));
        if (!fd) { last_error = errno; continue; }
        int rc = ::connect(fd.get(), a->ai_addr, a->ai_addrlen);
        if (rc != 0 && errno != EINPROGRESS && errno != EINTR) { last_error = errno; continue; }
        if (rc != 0) {
            if (!wait_for(fd.get(), POLLOUT, deadline)) { last_error = ETIMEDOUT; continue; }
            int so_error = 0;
            socklen_t len = sizeof so_error;
            ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &so_error, &len);
            if (so_error != 0) { last_error = so_error; continue; }
        }
        set_no_delay(fd.get());
        return fd;
    }
    std::string hint = last_error == ETIMEDOUT ? tr(" — no answer in time (a firewall, or a wrong address?)")
                                               : tr(" — is the server running?");
    throw std::runtime_error(trf("cannot connect to {}:{}: {}{}", host, port, std::strerror(last_error), hint));
}

bool wait_for(int fd, short events, Deadline deadline) {
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left < 0) left = 0;
        pollfd p{fd, events, 0};
        int rc = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1 << 30)));
        if (rc > 0) return true;
        if (rc == 0) return false;
        if (errno != EINTR) return true;  // let the read/write report the error
    }
}

Endpoint peer_of(int fd) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    ::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len);
    return endpoint_of(ss);
}

void set_non_blocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

void set_no_delay(int fd) {
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

std::uint64_t raise_open_file_limit() {
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return 0;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &rl);
    }
    return rl.rlim_cur;
}

}  // namespace ws::net
