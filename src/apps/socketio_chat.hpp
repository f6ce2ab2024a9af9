// Lesson 9: socket.io clients in lesson 5's chat room. One server, two doors: /ws is lesson 5's
// room as it was (plain WebSocket messages), /socket.io/ is Engine.IO (src/server/engineio.cpp)
// carrying Socket.IO packets (src/proto/socketio.cpp). A socket.io client CONNECTs to the
// namespace "/", and its socket.send(obj) arrives as 42["message",obj], obj one of §5's
// messages; what the room says back goes out the same way. Both kinds of client share a room.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "apps/chat_room.hpp"
#include "proto/socketio.hpp"
#include "server/engineio.hpp"

namespace ws::apps {

class SocketIoChat : public server::Handler {
public:
    SocketIoChat(server::EngineIoOptions, chat::Limits, Random&,
                 std::chrono::milliseconds connect_timeout = std::chrono::seconds(45));

    bool serves(std::string_view path) const override { return engine_.serves(path); }
    void on_request(Server&, Connection&, const http::Request&, std::string_view body) override;
    void on_request_dropped(Server&, Connection&) override;
    std::string refuse_upgrade(Server&, Connection&, const http::Request&) override;
    void on_upgraded(Server&, Connection&, const http::Request&) override;
    void on_message(Server&, Connection&, Opcode, std::string_view payload) override;
    void on_close(Server&, Connection&, std::uint16_t code, std::string_view reason) override;
    void on_stop(Server&) override;

    const server::EngineIo& engine() const { return engine_; }
    const ChatRoom& room() const { return room_; }

private:
    // What Engine.IO hands over, read as Socket.IO.
    struct Packets final : server::EngineIoListener {
        SocketIoChat& chat;
        explicit Packets(SocketIoChat& c) : chat(c) {}
        void on_open(server::EioSocket&) override;
        void on_message(server::EioSocket&, std::string_view data, bool binary) override;
        void on_close(server::EioSocket&, std::string_view reason) override;
        std::string describe(std::string_view data, bool binary) const override;
    };
    // The room's way to socket.io clients: each message as an EVENT "message".
    struct Clients final : Audience {
        SocketIoChat& chat;
        std::vector<server::EioSocket*> members;
        explicit Clients(SocketIoChat& c) : chat(c) {}
        void send(const void* member, std::string_view json) override;
        void broadcast(std::string_view json) override;
        void joined(const void* member) override;
        void left(const void* member) override;
        bool logging() const override { return chat.engine_.logging(); }
        void log(const void* member, std::string_view line) override;
    };
    // One socket.io client: its packets so far, and whether it joined the namespace "/" in
    // time (socket.io's connectTimeout: a session that never CONNECTs is ended, or idle
    // sessions would fill the server's --max-sessions).
    struct Client final : net::Timer {
        SocketIoChat& chat;
        server::EioSocket& socket;
        sio::Decoder decoder;
        bool connected = false;
        Client(SocketIoChat& c, server::EioSocket& s) : chat(c), socket(s) {}
        void on_timer() override;
    };

    void handle(server::EioSocket&, Client&, const sio::Packet&);
    void send_packet(server::EioSocket&, const sio::Packet&);
    Member member(server::EioSocket& s) { return {&clients_, &s}; }

    ChatRoom room_;
    Packets packets_{*this};
    Clients clients_{*this};
    server::EngineIo engine_;
    Random& random_;
    std::chrono::milliseconds connect_timeout_;
    std::unordered_map<const server::EioSocket*, std::unique_ptr<Client>> state_;
};

}  // namespace ws::apps
