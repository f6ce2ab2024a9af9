// The one I/O seam: read, write and shut down a connection's byte stream. Nothing else in the
// project calls recv() or send(). A connection holds a Transport and cannot tell what is under
// it: plain TCP now; lesson 7 puts TLS behind the same calls, where a read can need the socket
// to be writable first (and a write readable), which is why results say what they wait for.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "net/socket.hpp"

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

    // Reads at most `size` bytes. Never blocks on a non-blocking socket.
    IoResult read(void* into, std::size_t size);
    // Writes what it can of `bytes` (maybe less than all); never raises SIGPIPE.
    IoResult write(std::string_view bytes);
    // Ends our direction (TCP FIN); the peer's bytes can still be read.
    void shutdown_write();

    int fd() const { return fd_.get(); }
    explicit operator bool() const { return static_cast<bool>(fd_); }
    void close() { fd_.reset(); }

private:
    Fd fd_;
};

enum class IoStatus { ok, eof, timeout, error };

// Blocking use, for the thread-per-client lessons and the blocking client: every call has a
// deadline.
// One read of at most `size` bytes. `n` gets the count.
IoStatus read_some(Transport&, void* buffer, std::size_t size, std::size_t& n, Deadline deadline);
// Writes every byte, looping over partial writes.
IoStatus write_all(Transport&, std::string_view bytes, Deadline deadline);

}  // namespace ws::net
