#include "proto/deflate.hpp"

#include <zlib.h>

#include <stdexcept>

namespace ws {
namespace {
constexpr unsigned char kTail[] = {0x00, 0x00, 0xff, 0xff};  // an empty stored block: what a sync flush ends with
constexpr std::size_t kChunk = 16 * 1024;
}  // namespace

Deflater::Deflater(int window_bits, int mem_level, bool no_context_takeover)
    : z_(std::make_unique<z_stream_s>()), no_context_takeover_(no_context_takeover) {
    // Negative window bits: raw DEFLATE, no zlib header or checksum (RFC 7692 §7.2.1).
    if (deflateInit2(z_.get(), Z_DEFAULT_COMPRESSION, Z_DEFLATED, -window_bits, mem_level, Z_DEFAULT_STRATEGY) != Z_OK)
        throw std::runtime_error("zlib: cannot start a compressor");
}

Deflater::~Deflater() { deflateEnd(z_.get()); }

void Deflater::compress(std::string_view message, std::string& out) {
    std::size_t start = out.size();
    z_->next_in = reinterpret_cast<Bytef*>(const_cast<char*>(message.data()));
    z_->avail_in = static_cast<uInt>(message.size());
    // Until the sync flush has all been written: zlib says so by leaving room in the output.
    do {
        std::size_t at = out.size();
        out.resize(at + std::max(kChunk, message.size() / 2 + 64));
        z_->next_out = reinterpret_cast<Bytef*>(out.data() + at);
        z_->avail_out = static_cast<uInt>(out.size() - at);
        deflate(z_.get(), Z_SYNC_FLUSH);
        out.resize(out.size() - z_->avail_out);
    } while (z_->avail_out == 0);
    // §7.2.1: remove the 4-byte tail. (When the output filled exactly at the flush, the last
    // call may have added a second empty block: still valid DEFLATE before the tail removed.)
    if (out.size() - start >= 4 && std::string_view(out).substr(out.size() - 4) == std::string_view(reinterpret_cast<const char*>(kTail), 4))
        out.resize(out.size() - 4);
    if (no_context_takeover_) deflateReset(z_.get());
}

Inflater::Inflater(bool no_context_takeover)
    : z_(std::make_unique<z_stream_s>()), no_context_takeover_(no_context_takeover) {
    if (inflateInit2(z_.get(), -15) != Z_OK) throw std::runtime_error("zlib: cannot start a decompressor");
}

Inflater::~Inflater() { inflateEnd(z_.get()); }

Inflater::Status Inflater::inflate(std::string_view compressed, std::string& out, std::size_t limit) {
    std::size_t start = out.size();
    // The message, then the tail the sender removed (§7.2.2).
    for (std::string_view part : {compressed, std::string_view(reinterpret_cast<const char*>(kTail), 4)}) {
        z_->next_in = reinterpret_cast<Bytef*>(const_cast<char*>(part.data()));
        z_->avail_in = static_cast<uInt>(part.size());
        while (z_->avail_in > 0) {
            std::size_t at = out.size();
            std::size_t room = std::min(kChunk, limit + 1 - (at - start));
            out.resize(at + room);
            z_->next_out = reinterpret_cast<Bytef*>(out.data() + at);
            z_->avail_out = static_cast<uInt>(room);
            int rc = ::inflate(z_.get(), Z_SYNC_FLUSH);
            out.resize(out.size() - z_->avail_out);
            if (rc == Z_STREAM_END) {
                // A final block: legal, but the next message starts a new stream.
                inflateReset(z_.get());
                break;
            }
            if (rc != Z_OK && rc != Z_BUF_ERROR) {
                inflateReset(z_.get());
                return Status::corrupt;
            }
            if (out.size() - start > limit) return Status::too_big;
            if (rc == Z_BUF_ERROR && z_->avail_out != 0) break;  // no progress possible: input used up
        }
    }
    if (no_context_takeover_) inflateReset(z_.get());
    return Status::ok;
}

}  // namespace ws
