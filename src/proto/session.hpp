// One WebSocket connection's state machine, for either role, with no I/O (RFC 6455 §5-§7):
// bytes in → events, and bytes out. The server, the client, the relay, lesson 2's blocking loop
// and the load generator all drive this one class, so there is one place where a ping is
// answered, a close is answered (once), and a broken rule is sent as its close code.
//
//      open ──close()──────────▶ closing ──the peer's close──▶ closed
//        └──the peer's close (answered) / a broken rule (close sent)──▶ closed
//
// The caller moves bytes: it feeds what it read to next() or feed(), and writes output().
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "proto/deflate.hpp"
#include "proto/random.hpp"
#include "proto/receiver.hpp"
#include "proto/sender.hpp"

namespace ws {

class Session {
public:
    enum class State : std::uint8_t {
        open,     // messages flow both ways
        closing,  // we sent a close frame and wait for the peer's
        closed,   // both closes seen, or the connection failed: no more frames either way
    };

    // A client must give `random` (masking keys); a server never masks.
    explicit Session(Role role, ReceiverLimits limits = {}, Random* random = nullptr);

    // ---- receiving
    // The next event in `bytes` (see Receiver::next). The session has already done its part:
    //   ping    a pong with the same payload is queued (while open)
    //   pong    noted (awaiting_pong() is false again)
    //   close   while open: answered with a close echoing the code; while closing: the answer
    //           to ours. Either way the session is closed.
    //   fail    a close frame with the rule's code and sentence is queued; closed.
    //   message only while open: data that crosses our close frame is dropped (§7.1.2).
    // Once closed, everything is consumed and ignored.
    Event next(std::span<std::uint8_t> bytes, std::size_t& consumed);

    // Every event in `bytes`, each handed to on_event(const Event&) before the next is read
    // (payloads are views into `bytes` or the receiver). Stops at need_more or once closed;
    // returns the bytes consumed. This is the project's one receive loop.
    template <class OnEvent>
    std::size_t feed(std::span<std::uint8_t> bytes, OnEvent&& on_event) {
        std::size_t total = 0;
        while (state_ != State::closed) {
            std::size_t used = 0;
            Event e = next(bytes.subspan(total), used);
            total += used;
            if (e.kind == Event::Kind::need_more) break;
            on_event(e);
        }
        return total;
    }

    // ---- permessage-deflate (RFC 7692), once the handshake agreed it
    // From now on RSV1 marks a compressed message: one that arrives so is inflated before it is
    // handed out (the size limit counts the inflated bytes, 1009, checked while inflating; the
    // UTF-8 of text is checked once inflated, 1007), and send() compresses.
    void use_deflate(std::unique_ptr<MessageDeflate> deflate);
    const MessageDeflate* deflate() const { return deflate_.get(); }

    // ---- sending: each returns false and queues nothing unless the session is open
    // A message as one frame, or in fragments of at most `fragment_size` bytes; compressed when
    // permessage-deflate was agreed and the message is worth it (RSV1 on its first frame only).
    bool send(Opcode type, std::string_view payload, std::size_t fragment_size = 0);
    // The same in `fragments` frames exactly, as even as they can be (some may be empty).
    bool send_in(Opcode type, std::string_view payload, std::size_t fragments);
    // One frame exactly as asked (a fragment: FIN clear, or a continuation), masked by role.
    bool send_frame(Opcode opcode, std::string_view payload, bool fin);
    // A whole unmasked frame built once for many receivers (a server's broadcast); the observer
    // is not told (the broadcaster shows it once).
    bool send_prebuilt(std::string_view frame);
    // Bytes exactly as given, no rule checked: a hand-made frame to probe a peer (lesson 6).
    bool send_raw(std::string_view bytes);
    bool ping(std::string_view payload = {});
    // Starts the closing handshake (§7.1.2). 1005 means "no status": an empty close frame.
    bool close(std::uint16_t code = 1000, std::string_view reason = {});

    // ---- bytes out
    std::string_view output() const { return std::string_view(out_).substr(sent_); }
    bool has_output() const { return sent_ < out_.size(); }
    std::size_t backlog() const { return out_.size() - sent_; }
    // The caller wrote the first `n` bytes of output().
    void wrote(std::size_t n);

    // ---- what happened
    State state() const { return state_; }
    Role role() const { return receiver_.role(); }
    bool is_open() const { return state_ == State::open; }
    bool close_sent() const { return close_sent_; }
    bool close_received() const { return close_received_; }
    // The code of the close that ended the session: the peer's, or ours if we spoke first.
    std::uint16_t close_code() const { return close_code_; }
    FrameError failure() const { return failure_; }
    bool awaiting_pong() const { return awaiting_pong_; }
    // Bytes taken in that are not a whole message yet: part of a frame, or the first fragments.
    bool mid_message() const { return receiver_.message_in_progress() || receiver_.frame_in_progress(); }

    // Frames in and out are shown to this observer (-v/-vv); null: nothing is formatted.
    void set_observer(FrameObserver* observer) { receiver_.observer = observer; }

    // An idle connection holds no buffers: gives back the input and output buffers' memory.
    void release_memory();
    std::size_t memory() const {
        return heap_bytes(out_) + receiver_.memory() + heap_bytes(inflated_) + heap_bytes(deflated_) + (deflate_ ? deflate_->memory() : 0);
    }
    // True when release_memory() would give something back (nothing waits to be sent, and no
    // message is half received).
    bool can_release_memory() const {
        return memory() > 0 && !has_output() && !receiver_.message_in_progress();
    }
    const ReceiverLimits& limits() const { return receiver_.limits(); }

private:
    void queue_close(std::uint16_t code, std::string_view reason);
    Event fail(FrameError error);
    Event inflate(Event e);
    // The payload as it goes on the wire: compressed into deflated_ when worth it.
    std::string_view prepare(std::string_view payload, bool& compressed);
    void show_sent(std::size_t from, bool compressed, std::string_view original);
    void show_outgoing(std::size_t from);

    Sender sender() { return Sender(role(), random_); }

    Receiver receiver_;
    Random* random_;
    std::string out_;
    std::size_t sent_ = 0;
    std::unique_ptr<MessageDeflate> deflate_;
    // A message received compressed, inflated (handed out until the next call), and one being
    // sent, compressed before it is framed: two, since a handler may send what it just got.
    std::string inflated_, deflated_;
    State state_ = State::open;
    bool close_sent_ = false;
    bool close_received_ = false;
    bool awaiting_pong_ = false;
    FrameError failure_ = FrameError::none;
    std::uint16_t close_code_ = 0;
};

}  // namespace ws
