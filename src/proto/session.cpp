#include "proto/session.hpp"

#include "proto/utf8.hpp"

namespace ws {

Session::Session(Role role, ReceiverLimits limits, Random* random) : receiver_(role, limits), random_(random) {
    (void)Sender(role, random);  // a client without a random source is refused here, not at its first frame
}

Event Session::next(std::span<std::uint8_t> bytes, std::size_t& consumed) {
    consumed = 0;
    if (state_ == State::closed) {
        consumed = bytes.size();
        return {};
    }
    for (;;) {
        std::size_t used = 0;
        Event e = receiver_.next(bytes.subspan(consumed), used);
        consumed += used;
        switch (e.kind) {
            case Event::Kind::need_more:
                return e;
            case Event::Kind::message:
                if (state_ == State::closing) continue;  // it crossed our close frame: dropped
                return e.compressed ? inflate(e) : e;
            case Event::Kind::ping:
                // RFC 6455 §5.5.2: a pong with "exactly the same Application data".
                if (state_ == State::open) {
                    std::size_t at = out_.size();
                    sender().frame(out_, Opcode::pong, e.payload);
                    show_outgoing(at);
                }
                return e;
            case Event::Kind::pong:
                awaiting_pong_ = false;  // §5.5.3: an unsolicited pong is simply noted
                return e;
            case Event::Kind::close:
                close_received_ = true;
                if (state_ == State::open) {
                    // §5.5.1: answer with a close frame, echoing the status code.
                    close_code_ = e.code;
                    queue_close(e.code, {});
                }
                state_ = State::closed;
                return e;
            case Event::Kind::fail:
                return fail(e.error);
        }
    }
}

Event Session::fail(FrameError error) {
    // §7.1.7 "Fail the WebSocket Connection": send our close (if we have not yet).
    Event e;
    e.kind = Event::Kind::fail;
    e.error = error;
    e.code = close_code_for(error);
    e.reason = describe(error);
    failure_ = error;
    if (state_ == State::open) {
        close_code_ = e.code;
        queue_close(e.code, e.reason);
    }
    state_ = State::closed;
    return e;
}

void Session::use_deflate(std::unique_ptr<MessageDeflate> deflate) {
    deflate_ = std::move(deflate);
    receiver_.rsv1_allowed = deflate_ != nullptr;
}

Event Session::inflate(Event e) {
    if (!deflate_) return fail(FrameError::reserved_bits);  // the receiver refuses RSV1 before this
    inflated_.clear();
    switch (deflate_->inflate(e.payload, inflated_, limits().max_message)) {
        case Inflater::Status::too_big: return fail(FrameError::inflated_too_big);
        case Inflater::Status::corrupt: return fail(FrameError::not_deflate);
        case Inflater::Status::ok: break;
    }
    if (e.type == Opcode::text && !is_valid_utf8(inflated_)) return fail(FrameError::text_not_utf8);
    if (receiver_.observer) receiver_.observer->on_inflated(e.payload, inflated_, true);
    e.payload = inflated_;
    e.compressed = true;
    return e;
}

void Session::queue_close(std::uint16_t code, std::string_view reason) {
    std::size_t at = out_.size();
    sender().frame(out_, Opcode::close, code == static_cast<std::uint16_t>(CloseCode::no_status)
                                           ? std::string()
                                           : close_payload(code, reason));
    close_sent_ = true;
    show_outgoing(at);
}

void Session::show_outgoing(std::size_t from) {
    FrameObserver* observer = receiver_.observer;
    if (!observer) return;
    // Walk the frames just appended (a fragmented message is several).
    while (from < out_.size()) {
        std::string_view frame = std::string_view(out_).substr(from);
        FrameHeader h = header_of(frame);
        auto length = static_cast<std::size_t>(h.payload_length);
        std::string payload(frame.substr(h.header_length, length));
        if (h.masked) apply_mask(reinterpret_cast<std::uint8_t*>(payload.data()), payload.size(), h.mask);
        observer->on_frame(h, frame.substr(0, h.header_length), payload, false);
        from += h.header_length + length;
    }
}

std::string_view Session::prepare(std::string_view payload, bool& compressed) {
    compressed = deflate_ && deflate_->worth_compressing(payload.size());
    if (!compressed) return payload;
    deflated_.clear();
    deflate_->compress(payload, deflated_);
    return deflated_;
}

void Session::show_sent(std::size_t from, bool compressed, std::string_view original) {
    show_outgoing(from);
    if (compressed && receiver_.observer) receiver_.observer->on_inflated(deflated_, original, false);
}

bool Session::send(Opcode type, std::string_view payload, std::size_t fragment_size) {
    if (state_ != State::open) return false;
    std::size_t at = out_.size();
    bool compressed = false;
    std::string_view body = prepare(payload, compressed);
    sender().message(out_, type, body, fragment_size, compressed);
    show_sent(at, compressed, payload);
    return true;
}

bool Session::send_in(Opcode type, std::string_view payload, std::size_t fragments) {
    if (state_ != State::open) return false;
    if (fragments <= 1) return send(type, payload);
    std::size_t at = out_.size();
    bool compressed = false;
    std::string_view body = prepare(payload, compressed);
    for (std::size_t i = 0; i < fragments; ++i) {
        std::size_t from = body.size() * i / fragments, to = body.size() * (i + 1) / fragments;
        sender().frame(out_, i == 0 ? type : Opcode::continuation, body.substr(from, to - from), i + 1 == fragments,
                       compressed && i == 0);
    }
    show_sent(at, compressed, payload);
    return true;
}

bool Session::send_frame(Opcode opcode, std::string_view payload, bool fin) {
    if (state_ != State::open) return false;
    std::size_t at = out_.size();
    sender().frame(out_, opcode, payload, fin);
    show_outgoing(at);
    return true;
}

bool Session::send_prebuilt(std::string_view frame) {
    if (state_ != State::open || role() != Role::server) return false;
    out_.append(frame);  // not shown to the observer: the broadcaster shows it once for all
    return true;
}

bool Session::send_raw(std::string_view bytes) {
    if (state_ != State::open) return false;
    out_.append(bytes);
    return true;
}

bool Session::ping(std::string_view payload) {
    if (state_ != State::open) return false;
    std::size_t at = out_.size();
    sender().frame(out_, Opcode::ping, payload.substr(0, 125));
    show_outgoing(at);
    awaiting_pong_ = true;
    return true;
}

bool Session::close(std::uint16_t code, std::string_view reason) {
    if (state_ != State::open) return false;
    close_code_ = code;
    queue_close(code, reason);
    state_ = State::closing;
    return true;
}

void Session::wrote(std::size_t n) {
    sent_ += n;
    if (sent_ >= out_.size()) {
        // The buffer is kept while the peer is busy (allocating it again for every message, and
        // faulting in fresh pages for large ones, costs more than keeping it); release_memory()
        // gives it back once the connection is idle.
        out_.clear();
        sent_ = 0;
    } else if (sent_ > out_.size() / 2) {
        out_.erase(0, sent_);
        sent_ = 0;
    }
}

void Session::release_memory() {
    if (!has_output()) std::string().swap(out_), sent_ = 0;
    std::string().swap(inflated_);
    std::string().swap(deflated_);
    receiver_.release_memory();
}

}  // namespace ws
