#include "proto/receiver.hpp"

#include <algorithm>

namespace ws {
namespace {
std::string_view as_text(std::span<const std::uint8_t> bytes) {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}
}  // namespace

Event Receiver::fail(std::uint16_t code, std::string_view reason) {
    failed_ = true;
    failure_ = Event{Event::Kind::fail, Opcode::close, {}, code, reason};
    return failure_;
}

Event Receiver::check_rules(const FrameHeader& h) {
    constexpr auto protocol_error = static_cast<std::uint16_t>(CloseCode::protocol_error);
    // RFC 6455 §5.2: RSV1-3 MUST be 0 unless an extension defines them; none is negotiated here.
    if (h.rsv1 || h.rsv2 || h.rsv3) return fail(protocol_error, "RSV bit set, but no extension was negotiated");
    // §5.2: "If an unknown opcode is received, the receiving endpoint MUST _Fail_".
    if (!is_known_opcode(h.opcode)) return fail(protocol_error, "reserved opcode");
    // §5.1: a client masks every frame it sends; a server masks none.
    if (role_ == Role::server && !h.masked) return fail(protocol_error, "client frame is not masked");
    if (role_ == Role::client && h.masked) return fail(protocol_error, "server frame is masked");
    if (is_control(h.opcode)) {
        // §5.5: control frames carry at most 125 bytes and MUST NOT be fragmented.
        if (!h.fin) return fail(protocol_error, "fragmented control frame");
        if (h.payload_length > 125) return fail(protocol_error, "control frame longer than 125 bytes");
        return {};
    }
    // §5.4: continuation frames continue a message; a new message cannot start inside one.
    if (h.opcode == static_cast<std::uint8_t>(Opcode::continuation) && !message_open_)
        return fail(protocol_error, "continuation frame without a message to continue");
    if (h.opcode != static_cast<std::uint8_t>(Opcode::continuation) && message_open_)
        return fail(protocol_error, "new data frame inside a fragmented message");
    std::uint64_t so_far = message_open_ ? message_.size() : 0;
    if (h.payload_length > limits_.max_message - so_far)
        return fail(static_cast<std::uint16_t>(CloseCode::message_too_big), "message larger than the limit");
    return {};
}

Event Receiver::control_frame(const FrameHeader& h, std::string_view payload) {
    switch (static_cast<Opcode>(h.opcode)) {
        case Opcode::ping: return {Event::Kind::ping, Opcode::ping, payload, 0, {}};
        case Opcode::pong: return {Event::Kind::pong, Opcode::pong, payload, 0, {}};
        default: break;
    }
    // Close (RFC 6455 §5.5.1, §7.4): no body, or a 2-byte code and a UTF-8 reason.
    if (payload.empty()) return {Event::Kind::close, Opcode::close, {}, 1005, {}};
    if (payload.size() == 1) return fail(1002, "close frame with a 1-byte payload");
    auto code = static_cast<std::uint16_t>((static_cast<std::uint8_t>(payload[0]) << 8) |
                                           static_cast<std::uint8_t>(payload[1]));
    if (!is_valid_close_code(code)) return fail(1002, "invalid close code");
    std::string_view reason = payload.substr(2);
    if (!is_valid_utf8(reason)) return fail(1007, "close reason is not valid UTF-8");
    return {Event::Kind::close, Opcode::close, reason, code, reason};
}

Event Receiver::finish_message() {
    message_open_ = false;
    delivered_ = true;
    if (message_type_ == Opcode::text && !utf8_.complete())
        return fail(1007, "text message is not valid UTF-8 (a character is cut short)");
    return {Event::Kind::message, message_type_, message_, 0, {}};
}

void Receiver::release_memory() {
    if (message_open_ || in_frame_) return;
    delivered_ = false;
    std::string().swap(message_);
}

Event Receiver::next(std::span<std::uint8_t> bytes, std::size_t& consumed) {
    consumed = 0;
    if (failed_) return failure_;
    if (delivered_) {
        delivered_ = false;
        message_.clear();
        if (message_.capacity() > 64 * 1024) std::string().swap(message_);  // give big buffers back
    }

    for (;;) {
        auto rest = bytes.subspan(consumed);
        if (!in_frame_) {
            HeaderParse hp = parse_header(rest);
            if (hp.status == HeaderParse::Status::need_more) return {};
            if (hp.status == HeaderParse::Status::error) return fail(1002, hp.error);
            const FrameHeader& h = hp.header;
            if (Event e = check_rules(h); e.kind == Event::Kind::fail) return e;

            std::uint64_t available = rest.size() - h.header_length;
            if (available >= h.payload_length) {
                // The whole frame is here: unmask it where it lies.
                auto* data = rest.data() + h.header_length;
                auto length = static_cast<std::size_t>(h.payload_length);
                if (h.masked) apply_mask(data, length, h.mask);
                std::string_view payload(reinterpret_cast<const char*>(data), length);
                consumed += h.header_length + length;
                if (on_frame) on_frame(h, as_text(rest.first(h.header_length)), payload);

                if (is_control(h.opcode)) return control_frame(h, payload);
                if (!message_open_ && h.fin) {
                    // The common case: a whole message in one frame, handed out without a copy.
                    auto type = static_cast<Opcode>(h.opcode);
                    if (type == Opcode::text && !is_valid_utf8(payload))
                        return fail(1007, "text message is not valid UTF-8");
                    return {Event::Kind::message, type, payload, 0, {}};
                }
                if (!message_open_) {
                    message_open_ = true;
                    message_type_ = static_cast<Opcode>(h.opcode);
                    utf8_.reset();
                }
                message_.append(payload);
                if (message_type_ == Opcode::text && !utf8_.feed(payload))
                    return fail(1007, "text message is not valid UTF-8");
                if (h.fin) return finish_message();
                continue;
            }
            // Only part of the payload is here. Control frames are small: wait for all of it.
            if (is_control(h.opcode)) return {};
            // A data frame is taken in as it arrives, so the caller never buffers a whole one.
            if (on_frame) on_frame(h, as_text(rest.first(h.header_length)), {});
            consumed += h.header_length;
            in_frame_ = true;
            frame_ = h;
            frame_remaining_ = h.payload_length;
            mask_phase_ = 0;
            if (!message_open_) {
                message_open_ = true;
                message_type_ = static_cast<Opcode>(h.opcode);
                utf8_.reset();
            }
            // Reserve for the frame, but at most 1 MiB ahead: a header alone must not make us
            // commit memory for 16 MiB that may never arrive. Beyond that the buffer grows as
            // bytes come in.
            message_.reserve(message_.size() + static_cast<std::size_t>(std::min<std::uint64_t>(h.payload_length, 1 << 20)));
            continue;
        }

        // In the middle of a data frame's payload.
        std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(frame_remaining_, rest.size()));
        if (n == 0 && frame_remaining_ > 0) return {};
        if (frame_.masked) mask_phase_ = apply_mask(rest.data(), n, frame_.mask, mask_phase_);
        std::string_view piece(reinterpret_cast<const char*>(rest.data()), n);
        message_.append(piece);
        consumed += n;
        frame_remaining_ -= n;
        // Text is checked as it streams: an invalid byte fails the connection now, not at the end.
        if (message_type_ == Opcode::text && !utf8_.feed(piece)) return fail(1007, "text message is not valid UTF-8");
        if (frame_remaining_ > 0) return {};
        in_frame_ = false;
        if (frame_.fin) return finish_message();
    }
}

}  // namespace ws
