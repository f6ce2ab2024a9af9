// Sockets, and nothing about WebSocket: an owning file descriptor, a listener, a client
// connection. Reading and writing is the transport's (net/transport.hpp).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ws::net {

// Owns a file descriptor; closes it once, never throws from the destructor.
class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    Fd(Fd&& other) noexcept : fd_(other.release()) {}
    Fd& operator=(Fd&& other) noexcept;
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd();

    int get() const { return fd_; }
    explicit operator bool() const { return fd_ >= 0; }
    int release() { int fd = fd_; fd_ = -1; return fd; }
    void reset();

private:
    int fd_ = -1;
};

struct Endpoint {
    std::string host;
    std::uint16_t port = 0;
    std::string str() const;  // "127.0.0.1:8080", "[::1]:8080"
};

// socket + bind + listen. Port 0 asks the kernel for a free port; local() tells which.
// Throws std::runtime_error with a sentence saying what to do ("try --port 0").
class Listener {
public:
    Listener(const std::string& host, std::uint16_t port, bool non_blocking = false);
    Endpoint local() const { return local_; }
    int fd() const { return fd_.get(); }
    // The next waiting client. An empty Fd when there is none (non-blocking) or on an error,
    // which `error` then holds (EMFILE when out of descriptors: not exceptional for a server
    // under load, so no exception). A non-blocking listener hands out non-blocking sockets.
    Fd accept(Endpoint* peer = nullptr, int* error = nullptr) const;

private:
    Fd fd_;
    Endpoint local_;
    bool non_blocking_ = false;
};

Endpoint peer_of(int fd);
void set_non_blocking(int fd);
void set_no_delay(int fd);

using Clock = std::chrono::steady_clock;
using Deadline = Clock::time_point;
inline Deadline after(std::chrono::milliseconds ms) { return Clock::now() + ms; }

// Connects to host:port within `timeout`, with TCP_NODELAY. The socket is non-blocking, as
// every socket a Transport moves bytes on is (blocking use waits with poll and a deadline).
// Throws std::runtime_error saying what failed ("connection refused — is the server running?").
Fd connect_to(const std::string& host, std::uint16_t port,
              std::chrono::milliseconds timeout = std::chrono::seconds(10));

// Waits until `fd` is ready for `events` (POLLIN, POLLOUT) or the deadline passes.
bool wait_for(int fd, short events, Deadline deadline);

// Raises the soft limit on open files to the hard limit; returns the new soft limit.
std::uint64_t raise_open_file_limit();

}  // namespace ws::net
