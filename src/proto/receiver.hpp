// The receiving side of a WebSocket connection (RFC 6455 §5, §6.2, §7): bytes in, events out.
// It checks every rule a frame must keep, unmasks, reassembles fragmented messages, validates
// text as it streams in, and enforces the message size limit. No I/O: the caller owns the bytes.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "proto/frame.hpp"
#include "proto/utf8.hpp"

namespace ws {

// A server receives masked frames from clients; a client receives unmasked ones (RFC 6455 §5.1).
enum class Role : std::uint8_t { server, client };

struct ReceiverLimits {
    std::uint64_t max_message = 16 * 1024 * 1024;  // bytes in one (reassembled) message; over it: 1009
};

struct Event {
    enum class Kind { need_more, message, ping, pong, close, fail };
    Kind kind = Kind::need_more;
    Opcode type = Opcode::text;   // message: text or binary
    std::string_view payload;     // message, ping, pong: valid until the next call to next()
    std::uint16_t code = 0;       // close: the peer's code (1005 when it sent none); fail: ours to send
    std::string_view reason;      // close: the peer's reason; fail: what rule was broken
};

class Receiver {
public:
    explicit Receiver(Role role, ReceiverLimits limits = {}) : limits_(limits), role_(role) {}

    // Looks at `bytes` (everything received and not yet consumed) and returns the next event.
    // `consumed` says how many bytes the caller may now drop; it can be non-zero even for
    // need_more (a large frame is taken in as it arrives). Unmasks in place.
    Event next(std::span<std::uint8_t> bytes, std::size_t& consumed);

    // Called for each frame whose header has been read, before its payload is handled, with the
    // header's bytes as they arrived; for a frame that arrived whole, `payload` is its unmasked
    // payload, otherwise it is empty. Used by the lessons' -v/-vv output; leave it empty for speed.
    std::function<void(const FrameHeader&, std::string_view header_bytes, std::string_view payload)> on_frame;

    const ReceiverLimits& limits() const { return limits_; }

    // Gives back the reassembly buffer when no message is in progress (for idle connections).
    void release_memory();

private:
    Event fail(std::uint16_t code, std::string_view reason);
    Event check_rules(const FrameHeader&);
    Event control_frame(const FrameHeader&, std::string_view payload);
    Event finish_message();

    ReceiverLimits limits_;
    Role role_;
    bool failed_ = false;
    Event failure_;

    // A data frame whose payload is still arriving.
    bool in_frame_ = false;
    FrameHeader frame_;
    std::uint64_t frame_remaining_ = 0;
    std::size_t mask_phase_ = 0;

    // A message being reassembled from several frames (or from a frame that arrived in pieces).
    bool message_open_ = false;
    bool delivered_ = false;  // message_ was handed out last call and may be cleared now
    Opcode message_type_ = Opcode::text;
    std::string message_;
    Utf8Validator utf8_;
};

}  // namespace ws
