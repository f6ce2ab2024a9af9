#include "proto/receiver.hpp"

#include <algorithm>

namespace ws {
namespace {
std::string_view as_text(std::span<const std::uint8_t> bytes) {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}
}  // namespace

Event Receiver::fail(FrameError error) {
    failed_ = error;
    Event e;
    e.kind = Event::Kind::fail;
    e.type = Opcode::close;
    e.error = error;
    e.code = close_code_for(error);
    e.reason = describe(error);
    return e;
}

FrameError Receiver::check_rules(const FrameHeader& h) const {
    // RFC 6455 §5.2: RSV1-3 MUST be 0 unless an extension defines them. permessage-deflate
    // defines RSV1, for the first frame of a data message only (RFC 7692 §6).
    if (h.rsv2 || h.rsv3 || (h.rsv1 && !rsv1_allowed)) return FrameError::reserved_bits;
    if (h.rsv1 && (is_control(h.opcode) || h.opcode == static_cast<std::uint8_t>(Opcode::continuation)))
        return is_known_opcode(h.opcode) ? FrameError::compressed_bit_misplaced : FrameError::reserved_opcode;
    // §5.2: "If an unknown opcode is received, the receiving endpoint MUST _Fail_".
    if (!is_known_opcode(h.opcode)) return FrameError::reserved_opcode;
    // §5.1: a client masks every frame it sends; a server masks none.
    if (role_ == Role::server && !h.masked) return FrameError::unmasked_client_frame;
    if (role_ == Role::client && h.masked) return FrameError::masked_server_frame;
    if (is_control(h.opcode)) {
        // §5.5: control frames carry at most 125 bytes and MUST NOT be fragmented.
        if (!h.fin) return FrameError::fragmented_control;
        if (h.payload_length > 125) return FrameError::control_too_long;
        return FrameError::none;
    }
    // §5.4: continuation frames continue a message; a new message cannot start inside one.
    if (h.opcode == static_cast<std::uint8_t>(Opcode::continuation) && !message_open_)
        return FrameError::orphan_continuation;
    if (h.opcode != static_cast<std::uint8_t>(Opcode::continuation) && message_open_)
        return FrameError::expected_continuation;
    std::uint64_t so_far = message_open_ && message_ ? message_->size() : 0;
    // A compressed message is limited once inflated (the session's part); here, only to what
    // the largest message allowed can take compressed: DEFLATE grows incompressible data a
    // little (5 bytes per stored block, and a compressor with little memory makes small blocks).
    std::uint64_t limit = limits_.max_message;
    if (message_open_ ? message_compressed_ : h.rsv1) limit += limit / 64 + 64;
    if (so_far > limit || h.payload_length > limit - so_far) return FrameError::message_too_big;
    return FrameError::none;
}

Event Receiver::control_frame(const FrameHeader& h, std::string_view payload) {
    Event e;
    e.payload = payload;
    switch (static_cast<Opcode>(h.opcode)) {
        case Opcode::ping: e.kind = Event::Kind::ping; e.type = Opcode::ping; return e;
        case Opcode::pong: e.kind = Event::Kind::pong; e.type = Opcode::pong; return e;
        default: break;
    }
    // Close (RFC 6455 §5.5.1, §7.4): no body, or a 2-byte code and a UTF-8 reason.
    e.kind = Event::Kind::close;
    e.type = Opcode::close;
    e.payload = {};
    if (payload.empty()) {
        e.code = static_cast<std::uint16_t>(CloseCode::no_status);
        return e;
    }
    if (payload.size() == 1) return fail(FrameError::close_one_byte);
    e.code = close_code_of(payload);
    if (!is_valid_close_code(e.code)) return fail(FrameError::bad_close_code);
    e.reason = payload.substr(2);
    e.payload = e.reason;
    if (!is_valid_utf8(e.reason)) return fail(FrameError::close_reason_not_utf8);
    return e;
}

Event Receiver::finish_message() {
    message_open_ = false;
    delivered_ = true;
    if (message_type_ == Opcode::text && !message_compressed_ && !utf8_.complete())
        return fail(FrameError::text_cut_short);
    Event e;
    e.kind = Event::Kind::message;
    e.type = message_type_;
    e.compressed = message_compressed_;
    e.payload = buffer();
    return e;
}

std::string& Receiver::buffer() {
    if (!message_) message_ = std::make_unique<std::string>();
    return *message_;
}

void Receiver::open_message(const FrameHeader& h) {
    if (message_open_) return;
    message_open_ = true;
    message_type_ = static_cast<Opcode>(h.opcode);
    message_compressed_ = h.rsv1;
    utf8_.reset();
}

void Receiver::release_memory() {
    if (message_open_ || in_frame_) return;
    delivered_ = false;
    message_.reset();
}

Event Receiver::next(std::span<std::uint8_t> bytes, std::size_t& consumed) {
    consumed = 0;
    if (failed_ != FrameError::none) return fail(failed_);
    if (delivered_) {
        delivered_ = false;
        message_->clear();
        if (message_->capacity() > 64 * 1024) message_.reset();  // give big buffers back
    }

    for (;;) {
        auto rest = bytes.subspan(consumed);
        if (!in_frame_) {
            HeaderParse hp = parse_header(rest);
            if (hp.status == HeaderParse::Status::need_more) return {};
            if (hp.status == HeaderParse::Status::error) return fail(hp.error);
            const FrameHeader& h = hp.header;
            if (FrameError broken = check_rules(h); broken != FrameError::none) return fail(broken);

            std::uint64_t available = rest.size() - h.header_length;
            if (available >= h.payload_length) {
                // The whole frame is here: unmask it where it lies.
                auto* data = rest.data() + h.header_length;
                auto length = static_cast<std::size_t>(h.payload_length);
                if (h.masked) apply_mask(data, length, h.mask);
                std::string_view payload(reinterpret_cast<const char*>(data), length);
                consumed += h.header_length + length;
                if (observer) observer->on_frame(h, as_text(rest.first(h.header_length)), payload, true);

                if (is_control(h.opcode)) return control_frame(h, payload);
                if (!message_open_ && h.fin) {
                    // The common case: a whole message in one frame, handed out without a copy.
                    auto type = static_cast<Opcode>(h.opcode);
                    if (type == Opcode::text && !h.rsv1 && !is_valid_utf8(payload)) {
                        // The same rule whatever the read sizes: a character cut off at the end is
                        // "cut short", as it is when the frame arrives in pieces.
                        Utf8Validator check;
                        return fail(check.feed(payload) ? FrameError::text_cut_short : FrameError::text_not_utf8);
                    }
                    Event e;
                    e.kind = Event::Kind::message;
                    e.type = type;
                    e.payload = payload;
                    e.compressed = h.rsv1;
                    return e;
                }
                open_message(h);
                buffer().append(payload);
                if (message_type_ == Opcode::text && !message_compressed_ && !utf8_.feed(payload))
                    return fail(FrameError::text_not_utf8);
                if (h.fin) return finish_message();
                continue;
            }
            // Only part of the payload is here. Control frames are small: wait for all of it.
            if (is_control(h.opcode)) return {};
            // A data frame is taken in as it arrives, so the caller never buffers a whole one.
            if (observer) observer->on_frame(h, as_text(rest.first(h.header_length)), {}, true);
            consumed += h.header_length;
            in_frame_ = true;
            frame_fin_ = h.fin;
            frame_masked_ = h.masked;
            frame_mask_ = h.mask;
            frame_remaining_ = h.payload_length;
            mask_phase_ = 0;
            open_message(h);
            // Reserve for the frame, but at most 1 MiB ahead: a header alone must not make us
            // commit memory for 16 MiB that may never arrive. Beyond that the buffer grows as
            // bytes come in.
            buffer().reserve(buffer().size() +
                             static_cast<std::size_t>(std::min<std::uint64_t>(h.payload_length, 1 << 20)));
            continue;
        }

        // In the middle of a data frame's payload.
        std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(frame_remaining_, rest.size()));
        if (n == 0 && frame_remaining_ > 0) return {};
        if (frame_masked_)
            mask_phase_ = static_cast<std::uint8_t>(apply_mask(rest.data(), n, frame_mask_, mask_phase_));
        std::string_view piece(reinterpret_cast<const char*>(rest.data()), n);
        buffer().append(piece);
        consumed += n;
        frame_remaining_ -= n;
        // Text is checked as it streams: an invalid byte fails the connection now, not at the end.
        if (message_type_ == Opcode::text && !message_compressed_ && !utf8_.feed(piece))
            return fail(FrameError::text_not_utf8);
        if (frame_remaining_ > 0) return {};
        in_frame_ = false;
        if (frame_fin_) return finish_message();
    }
}

}  // namespace ws
