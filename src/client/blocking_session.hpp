// A session on a blocking transport, one thread per connection: what the demo clients, the chat
// bots and lesson 2's thread-per-client server use. Every wait has a deadline. The protocol is
// the Session's; this only moves its bytes.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "net/transport.hpp"
#include "proto/session.hpp"

namespace ws {

// An event, with its payload copied out (it outlives the next receive()).
struct Received {
    Event::Kind kind = Event::Kind::need_more;  // message, ping, pong, close, fail; need_more = timed out
    Opcode type = Opcode::text;
    std::string payload;
    std::uint16_t code = 0;        // close: the peer's code (1006: the connection dropped); fail: ours
    std::string reason;            // close: the peer's reason; fail: which rule, in words
    FrameError error = FrameError::none;
};
using ClientMessage = Received;

class BlockingSession {
public:
    // `leftover`: bytes already read after the handshake (the first frames, maybe).
    BlockingSession(net::Transport transport, Role role, ReceiverLimits limits, Random* random,
                    std::string leftover = {});
    ~BlockingSession();
    BlockingSession(BlockingSession&&) = default;

    Session& session() { return session_; }
    const Session& session() const { return session_; }
    net::Transport& transport() { return transport_; }

    // Writes what the session has queued. False if the connection broke.
    bool flush(std::chrono::milliseconds timeout = std::chrono::seconds(10));

    // The next message or control frame, or need_more after `timeout`. The session answers
    // pings and closes by itself; pings are returned only with report_pings set.
    Received receive(std::chrono::milliseconds timeout = std::chrono::seconds(5));
    bool report_pings = false;
    // Off: the answers (a pong, the close that answers theirs) wait for the caller's flush(), so
    // a lesson can say what it is about to send before it is sent.
    bool auto_flush = true;

    // Sends a close frame, waits for the answer, then for the peer to end the TCP connection
    // (a client leaves that to the server, RFC 6455 §7.1.1) or, as a server, ends it first.
    // Returns the peer's close (kind close), a failure, or need_more if none came in time.
    Received close(std::uint16_t code = 1000, std::string_view reason = {},
                   std::chrono::milliseconds timeout = std::chrono::seconds(5));
    // After the closing handshake: a server half-closes first; both wait for the other's end.
    void finish(std::chrono::milliseconds timeout = std::chrono::seconds(2));

    // Hands the connection over (the load client drives many from its own loop), with the
    // bytes already read and not yet used.
    net::Transport take(std::string& leftover) &&;

protected:
    // Bytes read by someone else (the handshake) that the session must see first.
    void add_input(std::string_view bytes) { buffer_.append(bytes); }

private:
    net::Transport transport_;
    Session session_;
    std::string buffer_;
};

}  // namespace ws
