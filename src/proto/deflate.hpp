// permessage-deflate's compression (RFC 7692 §7.2) around zlib: one message in, its compressed
// payload out (raw DEFLATE, sync-flushed, the 00 00 ff ff tail removed), and back. With context
// takeover each side keeps its window from message to message, and so must its peer.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

struct z_stream_s;

namespace ws {

class Deflater {
public:
    // `window_bits` 9-15 (what was agreed for this side), `mem_level` 1-9 (zlib's, memory
    // against speed); `no_context_takeover`: every message compressed on its own.
    Deflater(int window_bits, int mem_level, bool no_context_takeover);
    ~Deflater();
    Deflater(const Deflater&) = delete;
    Deflater& operator=(const Deflater&) = delete;

    // Appends the compressed form of one whole message to `out`.
    void compress(std::string_view message, std::string& out);

private:
    std::unique_ptr<z_stream_s> z_;
    bool no_context_takeover_;
};

class Inflater {
public:
    // The peer's window is never larger than 15 bits: inflating with 15 takes any agreement.
    explicit Inflater(bool no_context_takeover);
    ~Inflater();
    Inflater(const Inflater&) = delete;
    Inflater& operator=(const Inflater&) = delete;

    enum class Status { ok, too_big, corrupt };
    // Appends the inflated message to `out` (the compressed payload of all its frames, joined).
    // Stops at `limit` inflated bytes with too_big, before the rest costs memory (a
    // decompression bomb is 1009, not an out-of-memory); `corrupt` is not DEFLATE (1007).
    Status inflate(std::string_view compressed, std::string& out, std::size_t limit);

private:
    std::unique_ptr<z_stream_s> z_;
    bool no_context_takeover_;
};

}  // namespace ws
