#include "proto/deflate.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <stdexcept>

namespace ws {
namespace {
constexpr unsigned char kTail[] = {0x00, 0x00, 0xff, 0xff};  // an empty stored block: what a sync flush ends with
constexpr std::size_t kChunk = 16 * 1024;     // more room for a compressor's output, when its first guess was short
constexpr std::size_t kMaxChunk = 256 * 1024;  // the most room an inflater's output grows by at once
// A compressor that starts afresh for every message clears its hash table every time: 2^(memLevel+8)
// bytes, 64 KiB at zlib's default 8, which costs more than compressing a chat message. Such a
// compressor uses at most this level (a 4 KiB table; make bench: twice the messages per second).
constexpr int kResetMemLevel = 4;

// zlib's allocations, each with its size in front, so the stream's memory is known exactly.
constexpr std::size_t kPrefix = alignof(std::max_align_t);
void* counted_alloc(void* opaque, uInt items, uInt size) {
    std::size_t n = std::size_t(items) * size;
    auto* p = static_cast<unsigned char*>(std::malloc(n + kPrefix));
    if (!p) return Z_NULL;
    *reinterpret_cast<std::size_t*>(p) = n;
    static_cast<ZlibMemory*>(opaque)->bytes += n;
    return p + kPrefix;
}
void counted_free(void* opaque, void* address) {
    if (!address) return;
    auto* p = static_cast<unsigned char*>(address) - kPrefix;
    static_cast<ZlibMemory*>(opaque)->bytes -= *reinterpret_cast<std::size_t*>(p);
    std::free(p);
}
std::unique_ptr<z_stream_s> counted_stream(ZlibMemory& memory) {
    auto z = std::make_unique<z_stream_s>();
    z->zalloc = counted_alloc;
    z->zfree = counted_free;
    z->opaque = &memory;
    return z;
}

// Resets a stream when it goes out of scope, if `now` still says so then.
struct StreamReset {
    z_stream_s* z;
    bool now;
    bool deflating = false;
    ~StreamReset() {
        if (now) deflating ? deflateReset(z) : inflateReset(z);
    }
};
}  // namespace

Deflater::Deflater(int window_bits, int mem_level, bool no_context_takeover)
    : memory_(std::make_unique<ZlibMemory>()), window_bits_(window_bits), no_context_takeover_(no_context_takeover) {
    z_ = counted_stream(*memory_);
    // Negative window bits: raw DEFLATE, no zlib header or checksum (RFC 7692 §7.2.1).
    if (deflateInit2(z_.get(), Z_DEFAULT_COMPRESSION, Z_DEFLATED, -window_bits, mem_level, Z_DEFAULT_STRATEGY) != Z_OK)
        throw std::runtime_error("zlib: cannot start a compressor");
}

Deflater::~Deflater() { deflateEnd(z_.get()); }

void Deflater::compress(std::string_view message, std::string& out) {
    // Without context takeover the next message starts afresh; after an exception (out of
    // memory), any stream does: its half-compressed message must not begin the next one.
    StreamReset reset{z_.get(), true, true};
    std::size_t start = out.size();
    z_->next_in = reinterpret_cast<Bytef*>(const_cast<char*>(message.data()));
    z_->avail_in = static_cast<uInt>(message.size());
    // Until the sync flush has all been written: zlib says so by leaving room in the output.
    // The first try has room for the worst case (deflateBound, and the flush's few bytes), so
    // it is almost always the only one; room is made by resize, which writes it first: no more
    // than needed.
    std::size_t room = deflateBound(z_.get(), static_cast<uLong>(message.size())) + 16;
    do {
        std::size_t at = out.size();
        out.resize(at + room);
        z_->next_out = reinterpret_cast<Bytef*>(out.data() + at);
        z_->avail_out = static_cast<uInt>(room);
        deflate(z_.get(), Z_SYNC_FLUSH);
        out.resize(out.size() - z_->avail_out);
        room = kChunk;
    } while (z_->avail_out == 0);
    // §7.2.1: remove the 4-byte tail. (When the output filled exactly at the flush, the last
    // call may have added a second empty block: still valid DEFLATE before the tail removed.)
    out.resize(start + without_sync_tail(std::string_view(out).substr(start)));
    // An empty message right after a flush makes zlib write nothing at all; its payload must
    // still be a block's start, to which the receiver's 00 00 ff ff adds the rest: the single
    // byte 00 (an empty stored block, RFC 7692 §7.2.3.6).
    if (out.size() == start) out.push_back('\0');
    reset.now = no_context_takeover_;
}

std::size_t Deflater::memory() const { return sizeof(z_stream_s) + memory_->bytes; }

Inflater::Inflater(bool no_context_takeover, int window_bits)
    : memory_(std::make_unique<ZlibMemory>()), no_context_takeover_(no_context_takeover) {
    z_ = counted_stream(*memory_);
    if (inflateInit2(z_.get(), -window_bits) != Z_OK) throw std::runtime_error("zlib: cannot start a decompressor");
}

std::size_t Inflater::memory() const { return sizeof(z_stream_s) + memory_->bytes; }

Inflater::~Inflater() { inflateEnd(z_.get()); }

Inflater::Status Inflater::inflate(std::string_view compressed, std::string& out, std::size_t limit) {
    // An empty payload carries no bits: the message is empty. (Putting the tail after nothing
    // would start a block the next message could never finish.)
    if (compressed.empty()) return Status::ok;
    // However this ends, a stream without context takeover starts the next message afresh,
    // and so does any stream after a failure or an exception (out of memory while growing the
    // output): a shared stream must never carry one connection's half message into another's.
    StreamReset reset{z_.get(), true};
    Status status = inflate_message(compressed, out, limit);
    reset.now = no_context_takeover_ || status != Status::ok;
    return status;
}

Inflater::Status Inflater::inflate_message(std::string_view compressed, std::string& out, std::size_t limit) {
    std::size_t start = out.size();
    // The message, then the tail the sender removed (§7.2.2). Room for the output grows as it
    // fills (a few times the input first, then doubling), never past the limit and one byte.
    std::size_t grow = std::min<std::size_t>(std::max<std::size_t>(256, compressed.size() * 4), kMaxChunk);
    for (std::string_view part : {compressed, std::string_view(reinterpret_cast<const char*>(kTail), 4)}) {
        z_->next_in = reinterpret_cast<Bytef*>(const_cast<char*>(part.data()));
        z_->avail_in = static_cast<uInt>(part.size());
        for (;;) {
            std::size_t at = out.size();
            std::size_t room = std::min(grow, limit + 1 - (at - start));
            out.resize(at + room);
            z_->next_out = reinterpret_cast<Bytef*>(out.data() + at);
            z_->avail_out = static_cast<uInt>(room);
            int rc = ::inflate(z_.get(), Z_SYNC_FLUSH);
            out.resize(out.size() - z_->avail_out);
            if (rc != Z_OK && rc != Z_BUF_ERROR && rc != Z_STREAM_END) return Status::corrupt;
            if (out.size() - start > limit) return Status::too_big;
            if (rc == Z_STREAM_END) {
                // A final block (BFINAL, RFC 7692 §7.2.3.5): legal, and the message ends there;
                // the tail is not added (it would begin the next stream), and the next message
                // starts a new stream. Bytes after the final block are not DEFLATE.
                if (z_->avail_in != 0) return Status::corrupt;
                inflateReset(z_.get());
                return Status::ok;
            }
            // Done with this part once its input is used up and zlib left room unused (a full
            // output may mean more is waiting inside zlib: then it is called again).
            if (z_->avail_in == 0 && z_->avail_out != 0) break;
            if (z_->avail_out == 0) grow = std::min(grow * 2, kMaxChunk);
        }
    }
    return Status::ok;
}

Deflater& SharedStreams::deflater(int window_bits) {
    auto& d = deflaters_.at(static_cast<std::size_t>(window_bits));
    if (!d) d = std::make_unique<Deflater>(window_bits, std::min(mem_level_, kResetMemLevel), true);
    return *d;
}

Inflater& SharedStreams::inflater() {
    if (!inflater_) inflater_ = std::make_unique<Inflater>(true, 15);  // 15 bits inflates any peer's window
    return *inflater_;
}

std::size_t SharedStreams::memory() const {
    std::size_t total = inflater_ ? inflater_->memory() : 0;
    for (const auto& d : deflaters_) total += d ? d->memory() : 0;
    return total;
}

MessageDeflate::MessageDeflate(Role role, const ext::DeflateParams& agreed, const ext::DeflateConfig& config,
                               SharedStreams* shared)
    : agreed_(agreed),
      send_bits_(role == Role::server ? agreed.server_max_window_bits : agreed.client_max_window_bits),
      receive_bits_(role == Role::server ? agreed.client_max_window_bits : agreed.server_max_window_bits),
      mem_level_(config.mem_level),
      send_resets_(role == Role::server ? agreed.server_no_context_takeover : agreed.client_no_context_takeover),
      receive_resets_(role == Role::server ? agreed.client_no_context_takeover : agreed.server_no_context_takeover),
      min_size_(config.min_size),
      shared_(shared) {
    // zlib cannot compress with a raw 8-bit window and makes a 9-bit one instead: the
    // negotiation never agrees to 8 for our side, and a peer's "8" is inflated with 9.
    send_bits_ = std::max(send_bits_, 9);
    receive_bits_ = std::max(receive_bits_, 9);
}

int MessageDeflate::send_level() const { return send_resets_ ? std::min(mem_level_, kResetMemLevel) : mem_level_; }

Deflater& MessageDeflate::deflater() {
    if (send_resets_ && shared_) return shared_->deflater(send_bits_);
    if (!deflater_) deflater_ = std::make_unique<Deflater>(send_bits_, send_level(), send_resets_);
    return *deflater_;
}

Inflater& MessageDeflate::inflater() {
    if (receive_resets_ && shared_) return shared_->inflater();
    if (!inflater_) inflater_ = std::make_unique<Inflater>(receive_resets_, receive_bits_);
    return *inflater_;
}

void MessageDeflate::compress(std::string_view message, std::string& out) { deflater().compress(message, out); }

Inflater::Status MessageDeflate::inflate(std::string_view compressed, std::string& out, std::size_t limit) {
    return inflater().inflate(compressed, out, limit);
}

std::size_t MessageDeflate::memory_bound() const {
    // zconf.h: deflate needs (1 << (windowBits+2)) + (1 << (memLevel+9)) bytes, inflate
    // (1 << windowBits), each "plus a few kilobytes" of state (under 8 KiB for zlib 1.2.13).
    constexpr std::size_t kDeflateState = 8 * 1024, kInflateState = 8 * 1024;
    std::size_t total = 0;
    if (!(send_resets_ && shared_))
        total += (std::size_t(1) << (send_bits_ + 2)) + (std::size_t(1) << (send_level() + 9)) + kDeflateState;
    if (!(receive_resets_ && shared_)) total += (std::size_t(1) << receive_bits_) + kInflateState;
    return total;
}

std::size_t MessageDeflate::memory() const {
    return (deflater_ ? deflater_->memory() : 0) + (inflater_ ? inflater_->memory() : 0);
}

}  // namespace ws
