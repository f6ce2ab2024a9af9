#include "net/transport.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

namespace ws::net {

IoResult Transport::read(void* into, std::size_t size) {
    for (;;) {
        ssize_t n = ::recv(fd_.get(), into, size, 0);
        if (n > 0) return {Io::done, static_cast<std::size_t>(n), 0};
        if (n == 0) return {Io::eof, 0, 0};
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return {Io::want_read, 0, 0};
        return {Io::error, 0, errno};
    }
}

IoResult Transport::write(std::string_view bytes) {
    for (;;) {
        ssize_t n = ::send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n >= 0) return {Io::done, static_cast<std::size_t>(n), 0};
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return {Io::want_write, 0, 0};
        return {Io::error, 0, errno};
    }
}

void Transport::shutdown_write() {
    if (fd_) ::shutdown(fd_.get(), SHUT_WR);
}

namespace {
short poll_events(Io status) { return status == Io::want_write ? POLLOUT : POLLIN; }
}  // namespace

IoStatus read_some(Transport& t, void* buffer, std::size_t size, std::size_t& n, Deadline deadline) {
    n = 0;
    for (;;) {
        IoResult r = t.read(buffer, size);
        switch (r.status) {
            case Io::done: n = r.bytes; return IoStatus::ok;
            case Io::eof: return IoStatus::eof;
            case Io::error: return r.error == ECONNRESET ? IoStatus::eof : IoStatus::error;
            case Io::want_read:
            case Io::want_write:
                if (!wait_for(t.fd(), poll_events(r.status), deadline)) return IoStatus::timeout;
        }
    }
}

IoStatus write_all(Transport& t, std::string_view bytes, Deadline deadline) {
    while (!bytes.empty()) {
        IoResult r = t.write(bytes);
        switch (r.status) {
            case Io::done: bytes.remove_prefix(r.bytes); break;
            case Io::eof: return IoStatus::eof;
            case Io::error: return r.error == EPIPE || r.error == ECONNRESET ? IoStatus::eof : IoStatus::error;
            case Io::want_read:
            case Io::want_write:
                if (!wait_for(t.fd(), poll_events(r.status), deadline)) return IoStatus::timeout;
        }
    }
    return IoStatus::ok;
}

}  // namespace ws::net
