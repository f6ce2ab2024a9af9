// permessage-deflate's compression (RFC 7692 §7.2) around zlib: one message in, its compressed
// payload out (raw DEFLATE, sync-flushed, the 00 00 ff ff tail removed), and back. With context
// takeover each side keeps its window from message to message, and so must its peer.
#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "proto/extensions.hpp"
#include "proto/receiver.hpp"

struct z_stream_s;

namespace ws {

// RFC 7692 §7.2.1: the bytes of a sync-flushed compressor's output to send, without the
// 00 00 ff ff it always ends with (its size when that tail is not there). Exercise 8.
std::size_t without_sync_tail(std::string_view deflated);

// What zlib allocated for one stream, counted as it allocates (the -v memory lines are true).
struct ZlibMemory {
    std::size_t bytes = 0;
};

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
    // The bytes this compressor holds (zlib's state, window and hash tables).
    std::size_t memory() const;
    int window_bits() const { return window_bits_; }

private:
    std::unique_ptr<z_stream_s> z_;
    std::unique_ptr<ZlibMemory> memory_;
    int window_bits_;
    bool no_context_takeover_;
};

class Inflater {
public:
    // `window_bits` 8-15: the peer's agreed window (a larger distance is corrupt data).
    explicit Inflater(bool no_context_takeover, int window_bits = 15);
    ~Inflater();
    Inflater(const Inflater&) = delete;
    Inflater& operator=(const Inflater&) = delete;

    enum class Status { ok, too_big, corrupt };
    // Appends the inflated message to `out` (the compressed payload of all its frames, joined).
    // Stops at `limit` inflated bytes with too_big, before the rest costs memory (a
    // decompression bomb is 1009, not an out-of-memory); `corrupt` is not DEFLATE (1007).
    // After either, the stream starts afresh (the connection fails anyway).
    Status inflate(std::string_view compressed, std::string& out, std::size_t limit);
    std::size_t memory() const;

private:
    Status inflate_message(std::string_view compressed, std::string& out, std::size_t limit);

    std::unique_ptr<z_stream_s> z_;
    std::unique_ptr<ZlibMemory> memory_;
    bool no_context_takeover_;
};

// A side that resets after every message keeps nothing between messages, so every connection
// on one thread (a server's loop) can use the same stream for it: one compressor per window
// size, one decompressor. A connection using them costs no memory while idle.
class SharedStreams {
public:
    explicit SharedStreams(int mem_level = 8) : mem_level_(mem_level) {}
    Deflater& deflater(int window_bits);
    Inflater& inflater();
    std::size_t memory() const;

private:
    int mem_level_;
    std::array<std::unique_ptr<Deflater>, 16> deflaters_;  // by window bits
    std::unique_ptr<Inflater> inflater_;
};

// One connection's permessage-deflate, as its handshake agreed it: what it sends is compressed
// with its side's window, what it receives is inflated with the peer's. A side with context
// takeover has a stream of its own, made at its first message and kept for the connection's
// life (the window is the state both ends share); a side without uses `shared` when given.
class MessageDeflate {
public:
    MessageDeflate(Role role, const ext::DeflateParams& agreed, const ext::DeflateConfig& config,
                   SharedStreams* shared = nullptr);

    // Whether a message of this size is worth compressing (config.min_size): a message may
    // always go uncompressed (RSV1 clear), RFC 7692 §6.
    bool worth_compressing(std::size_t size) const { return size >= min_size_; }
    void compress(std::string_view message, std::string& out);
    Inflater::Status inflate(std::string_view compressed, std::string& out, std::size_t limit);

    const ext::DeflateParams& agreed() const { return agreed_; }
    int send_window_bits() const { return send_bits_; }
    bool send_resets() const { return send_resets_; }  // our side has no context takeover
    // This connection's own streams' memory now (the shared ones are counted once, by their
    // owner), and the most they can take: zlib's documented sizes for the agreed windows.
    std::size_t memory() const;
    std::size_t memory_bound() const;

private:
    Deflater& deflater();
    Inflater& inflater();
    int send_level() const;  // zlib's memLevel for our compressor

    ext::DeflateParams agreed_;
    int send_bits_, receive_bits_, mem_level_;
    bool send_resets_, receive_resets_;
    std::size_t min_size_;
    SharedStreams* shared_;
    std::unique_ptr<Deflater> deflater_;
    std::unique_ptr<Inflater> inflater_;
};

}  // namespace ws
