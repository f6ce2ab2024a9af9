// A small blocking WebSocket client (RFC 6455 §4.1, §5.3): the lessons' built-in demo clients
// and the chat room's bots. It keeps every rule a client must: a random key, the accept check,
// masked frames with a fresh key each.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "net/socket.hpp"
#include "proto/receiver.hpp"
#include "server/random.hpp"

namespace ws {

struct ClientMessage {
    Event::Kind kind = Event::Kind::need_more;  // message, ping, pong, close, fail; need_more = timed out
    Opcode type = Opcode::text;
    std::string payload;
    std::uint16_t code = 0;
    std::string reason;
};

class Client {
public:
    // Connects and performs the opening handshake; throws std::runtime_error saying what failed.
    Client(const std::string& host, std::uint16_t port, std::string_view path, Random& random,
           std::chrono::milliseconds timeout = std::chrono::seconds(5));

    const std::string& request() const { return request_; }    // the bytes sent
    const std::string& response() const { return response_; }  // the bytes received

    void send(Opcode opcode, std::string_view payload, bool fin = true);
    void send_text(std::string_view text) { send(Opcode::text, text); }
    void send_close(std::uint16_t code, std::string_view reason);
    void send_raw(std::string_view bytes);

    // The next message or control frame; pings are answered by themselves.
    ClientMessage receive(std::chrono::milliseconds timeout = std::chrono::seconds(5));
    // Sends a close frame and waits for the server's reply (and its end of TCP).
    ClientMessage close(std::uint16_t code = 1000, std::string_view reason = {});

    int fd() const { return fd_.get(); }
    // Hands the upgraded socket over (the load client drives many from its own loop), with any
    // bytes already read after the handshake.
    net::Fd take_connection(std::string& leftover) &&;

private:
    net::Fd fd_;
    Random& random_;
    Receiver receiver_{Role::client};
    std::string buffer_;
    std::string request_, response_;
};

}  // namespace ws
