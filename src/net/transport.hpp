// The one I/O seam: read, write and shut down a connection's byte stream. Nothing else in the
// project calls recv() or send(). A connection holds a Transport and cannot tell what is under
// it: plain TCP, or TLS (lesson 7) behind the same calls, where a read can need the socket to
// be writable first (and a write readable), which is why results say what they wait for.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "net/socket.hpp"

struct ssl_st;

namespace ws::net {

enum class Io : std::uint8_t {
    done,        // `bytes` were moved (a read of 0 bytes is never done: that is eof)
    want_read,   // nothing now: call again once the socket is readable
    want_write,  // nothing now: call again once the socket is writable
    eof,         // the peer ended its side cleanly
    error,       // the connection broke; `error` holds errno
};

struct IoResult {
    Io status = Io::done;
    std::size_t bytes = 0;
    int error = 0;
};

class Transport {
public:
    Transport() = default;
    explicit Transport(Fd fd) : fd_(std::move(fd)) {}
    // TLS over `fd` (TlsContext::wrap makes these): handshake() first, then the same calls.
    Transport(Fd fd, ssl_st* ssl);
    Transport(Transport&&) noexcept;
    Transport& operator=(Transport&&) noexcept;
    ~Transport();

    // Reads at most `size` bytes. Never blocks on a non-blocking socket. With TLS it reads
    // until `size` is full or neither OpenSSL nor the socket has more, since epoll cannot see
    // the decrypted bytes OpenSSL holds; a read may then want the socket writable first.
    IoResult read(void* into, std::size_t size);
    // Writes what it can of `bytes` (maybe less than all); never raises SIGPIPE. After
    // want_read or want_write, call again with the same bytes (more may follow them).
    IoResult write(std::string_view bytes);
    // Ends our direction (TLS close_notify, then TCP FIN); the peer's bytes can still be read.
    void shutdown_write();

    // TLS only: one step of the handshake (done at once for plain TCP). On error,
    // error_text() says why.
    IoResult handshake();
    // After a failed TLS handshake: a last word in plain text, for a peer that spoke no TLS.
    void send_unencrypted(std::string_view text);
    bool secure() const { return ssl_ != nullptr; }
    // TLS: decrypted bytes OpenSSL holds (epoll cannot see them), or an end or error that came
    // behind the last bytes read: either way, a read now has something to say.
    bool has_pending() const;
    // Reads only what has_pending() promised, never from the socket: a loop over it ends.
    IoResult read_pending(void* into, std::size_t size);
    bool handshake_done() const { return !ssl_ || handshaken_; }
    ssl_st* ssl() const { return ssl_; }
    const std::string& error_text() const;

    int fd() const { return fd_.get(); }
    explicit operator bool() const { return static_cast<bool>(fd_); }
    void close();

private:
    IoResult tls_result(int ret, std::size_t bytes, bool reading);
    IoResult tls_result_of(int ssl_error, bool reading);

    Fd fd_;
    ssl_st* ssl_ = nullptr;  // owned: freed with the transport
    bool handshaken_ = false;
    bool fatal_ = false;     // OpenSSL failed: no close_notify may follow (SSL_shutdown(3))
    bool shut_ = false;      // close_notify sent
    Io deferred_ = Io::done; // an end or error found after some bytes: returned by the next read
};

enum class IoStatus { ok, eof, timeout, error };

// Blocking use, for the thread-per-client lessons and the blocking client: every call has a
// deadline.
// One read of at most `size` bytes. `n` gets the count.
IoStatus read_some(Transport&, void* buffer, std::size_t size, std::size_t& n, Deadline deadline);
// Writes every byte, looping over partial writes.
IoStatus write_all(Transport&, std::string_view bytes, Deadline deadline);

}  // namespace ws::net
