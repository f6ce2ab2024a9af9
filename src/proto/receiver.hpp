// The receiving side of a WebSocket connection (RFC 6455 §5, §6.2, §7): bytes in, events out.
// It checks every rule a frame must keep, unmasks, reassembles fragmented messages, validates
// text as it streams in, and enforces the message size limit. No I/O: the caller owns the bytes.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "proto/frame.hpp"
#include "proto/utf8.hpp"

namespace ws {

// The heap memory a string holds (none while its text fits in the string itself).
inline std::size_t heap_bytes(const std::string& s) { return s.capacity() > std::string().capacity() ? s.capacity() : 0; }

// A server receives masked frames from clients; a client receives unmasked ones (RFC 6455 §5.1).
enum class Role : std::uint8_t { server, client };

struct ReceiverLimits {
    std::uint64_t max_message = 16 * 1024 * 1024;  // bytes in one (reassembled) message; over it: 1009
};

struct Event {
    enum class Kind : std::uint8_t { need_more, message, ping, pong, close, fail };
    Kind kind = Kind::need_more;
    Opcode type = Opcode::text;   // message: text or binary
    FrameError error = FrameError::none;  // fail: which rule was broken
    std::uint16_t code = 0;       // close: the peer's code (1005 when it sent none); fail: ours to send
    std::string_view payload;     // message, ping, pong: the payload; close: the reason. Valid until the next call
    std::string_view reason;      // close: the peer's reason; fail: describe(error)
    bool compressed = false;      // message: RSV1 was set (permessage-deflate: the payload is deflated)
};

// Told about every frame as its header is read: the lessons' -v/-vv output. The payload is the
// unmasked payload for a frame that arrived whole, else empty (it is still arriving).
class FrameObserver {
public:
    virtual void on_frame(const FrameHeader&, std::string_view header_bytes, std::string_view payload,
                          bool incoming) = 0;
    // A message that crossed compressed (permessage-deflate): its compressed payload (all its
    // frames' joined) and the message itself. After its frames were shown.
    virtual void on_inflated(std::string_view /*compressed*/, std::string_view /*message*/, bool /*incoming*/) {}

protected:
    ~FrameObserver() = default;
};

class Receiver {
public:
    explicit Receiver(Role role, ReceiverLimits limits = {}) : limits_(limits), role_(role) {}

    // Looks at `bytes` (everything received and not yet consumed) and returns the next event.
    // `consumed` says how many bytes the caller may now drop; it can be non-zero even for
    // need_more (a large frame is taken in as it arrives). Unmasks in place.
    Event next(std::span<std::uint8_t> bytes, std::size_t& consumed);

    // Frames are shown to this observer as they arrive (null: nobody is watching; fastest).
    FrameObserver* observer = nullptr;
    // An extension that uses RSV1 was agreed (permessage-deflate, RFC 7692): RSV1 may then mark
    // a message's first frame, and such a message is handed out as it came (deflated), its
    // UTF-8 left to be checked after inflating.
    bool rsv1_allowed = false;

    const ReceiverLimits& limits() const { return limits_; }
    Role role() const { return role_; }
    bool failed() const { return failed_ != FrameError::none; }
    bool message_in_progress() const { return message_open_; }
    bool frame_in_progress() const { return in_frame_; }

    // Gives back the reassembly buffer when no message is in progress (for idle connections).
    void release_memory();
    // How much memory the receiver holds now (its reassembly buffer).
    std::size_t memory() const { return message_ ? sizeof(std::string) + heap_bytes(*message_) : 0; }

private:
    Event fail(FrameError);
    FrameError check_rules(const FrameHeader&) const;
    Event control_frame(const FrameHeader&, std::string_view payload);
    Event finish_message();
    void open_message(const FrameHeader&);

    ReceiverLimits limits_;
    Role role_;
    FrameError failed_ = FrameError::none;

    // A data frame whose payload is still arriving.
    bool in_frame_ = false;
    bool frame_fin_ = false;
    bool frame_masked_ = false;
    std::uint8_t mask_phase_ = 0;
    std::array<std::uint8_t, 4> frame_mask_{};
    std::uint64_t frame_remaining_ = 0;

    // A message being reassembled from several frames (or from a frame that arrived in pieces).
    bool message_open_ = false;
    bool delivered_ = false;  // message_ was handed out last call and may be cleared now
    Opcode message_type_ = Opcode::text;
    bool message_compressed_ = false;
    Utf8Validator utf8_;
    // Only while a message spans frames or arrives in pieces: an idle connection holds no buffer
    // (and not even an empty string's worth of memory).
    std::unique_ptr<std::string> message_;
    std::string& buffer();
};

}  // namespace ws
