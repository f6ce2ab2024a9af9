#include "net/transport.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "i18n/i18n.hpp"
#include "net/tls.hpp"

namespace ws::net {

namespace {
// The reason of the last failure on this thread (one per transport would cost every
// connection a string; a failure is reported before the next one can happen on this thread).
thread_local std::string tls_failure;
}  // namespace

Transport::Transport(Fd fd, ssl_st* ssl) : fd_(std::move(fd)), ssl_(ssl) {}

Transport::Transport(Transport&& other) noexcept
    : fd_(std::move(other.fd_)),
      ssl_(std::exchange(other.ssl_, nullptr)),
      handshaken_(other.handshaken_),
      fatal_(other.fatal_),
      shut_(other.shut_),
      deferred_(other.deferred_) {}

Transport& Transport::operator=(Transport&& other) noexcept {
    if (this != &other) {
        close();
        fd_ = std::move(other.fd_);
        ssl_ = std::exchange(other.ssl_, nullptr);
        handshaken_ = other.handshaken_;
        fatal_ = other.fatal_;
        shut_ = other.shut_;
        deferred_ = other.deferred_;
    }
    return *this;
}

Transport::~Transport() { close(); }

void Transport::close() {
    if (ssl_) {
        // A close_notify, if it fits in the socket now; nobody waits for the answer.
        if (handshaken_ && !fatal_ && !shut_ && fd_) SSL_shutdown(ssl_);
        SSL_free(ssl_);
        ssl_ = nullptr;
    }
    fd_.reset();
}

const std::string& Transport::error_text() const { return tls_failure; }

// What an OpenSSL call's return means for the caller. `bytes` were moved before it: they are
// returned first, and an end or an error that came behind them is kept for the next read.
IoResult Transport::tls_result(int ret, std::size_t bytes, bool reading) {
    IoResult r = tls_result_of(SSL_get_error(ssl_, ret), reading);
    if (bytes == 0) return r;
    if (r.status == Io::eof || r.status == Io::error) deferred_ = r.status;
    return {Io::done, bytes, 0};
}

IoResult Transport::tls_result_of(int ssl_error, bool reading) {
    switch (ssl_error) {
        case SSL_ERROR_WANT_READ: return {Io::want_read, 0, 0};
        case SSL_ERROR_WANT_WRITE: return {Io::want_write, 0, 0};
        case SSL_ERROR_ZERO_RETURN: return {Io::eof, 0, 0};  // close_notify: the peer ended its side cleanly
        case SSL_ERROR_SYSCALL: {
            int saved = errno;
            ERR_clear_error();
            fatal_ = true;
            // A peer gone without close_notify is an end, judged by the WebSocket close before it.
            if (reading && (saved == 0 || saved == ECONNRESET)) return {Io::eof, 0, 0};
            tls_failure = saved ? std::strerror(saved) : N_("the connection ended");
            return {Io::error, 0, saved ? saved : EPIPE};
        }
        default:  // a bad record, a failed handshake: OpenSSL says why
            fatal_ = true;
            tls_failure = last_tls_error();
            return {Io::error, 0, EPROTO};
    }
}

IoResult Transport::handshake() {
    if (!ssl_ || handshaken_) return {Io::done, 0, 0};
    ERR_clear_error();
    int ret = SSL_do_handshake(ssl_);
    if (ret == 1) {
        handshaken_ = true;
        return {Io::done, 0, 0};
    }
    IoResult r = tls_result(ret, 0, false);
    if (r.status == Io::eof) {
        tls_failure = N_("the peer closed the connection during the TLS handshake");
        return {Io::error, 0, ECONNRESET};
    }
    if (r.status == Io::error && tls_failure == "the connection ended")
        tls_failure = N_("the peer closed the connection during the TLS handshake");
    return r;
}

bool Transport::has_pending() const { return ssl_ && (deferred_ != Io::done || SSL_pending(ssl_) > 0); }

IoResult Transport::read_pending(void* into, std::size_t size) {
    if (deferred_ != Io::done) {
        Io status = std::exchange(deferred_, Io::done);
        return {status, 0, status == Io::error ? EPROTO : 0};
    }
    std::size_t n = 0;
    int pending = ssl_ ? SSL_pending(ssl_) : 0;
    if (pending <= 0) return {Io::want_read, 0, 0};
    ERR_clear_error();
    int ret = SSL_read_ex(ssl_, into, std::min(size, static_cast<std::size_t>(pending)), &n);
    if (ret != 1) return tls_result(ret, 0, true);
    return {Io::done, n, 0};
}

IoResult Transport::read(void* into, std::size_t size) {
    if (ssl_ && deferred_ != Io::done) return read_pending(into, size);
    if (ssl_) {
        // Fill `into` while OpenSSL or the socket has bytes: one SSL_read gives one record.
        auto* out = static_cast<unsigned char*>(into);
        std::size_t total = 0;
        while (total < size) {
            std::size_t n = 0;
            ERR_clear_error();
            int ret = SSL_read_ex(ssl_, out + total, size - total, &n);
            if (ret != 1) return tls_result(ret, total, true);
            total += n;
        }
        return {Io::done, total, 0};
    }
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
    if (ssl_) {
        if (bytes.empty()) return {Io::done, 0, 0};
        std::size_t n = 0;
        ERR_clear_error();
        int ret = SSL_write_ex(ssl_, bytes.data(), bytes.size(), &n);
        if (ret == 1) return {Io::done, n, 0};
        return tls_result(ret, 0, false);
    }
    for (;;) {
        ssize_t n = ::send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n >= 0) return {Io::done, static_cast<std::size_t>(n), 0};
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return {Io::want_write, 0, 0};
        return {Io::error, 0, errno};
    }
}

void Transport::send_unencrypted(std::string_view text) {
    if (fd_) [[maybe_unused]] auto n = ::send(fd_.get(), text.data(), text.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

void Transport::shutdown_write() {
    if (!fd_) return;
    if (ssl_ && handshaken_ && !fatal_ && !shut_) {
        SSL_shutdown(ssl_);  // sends close_notify; the peer's answer is read like any byte
        shut_ = true;
    }
    ::shutdown(fd_.get(), SHUT_WR);
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
