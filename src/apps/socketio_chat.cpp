#include "apps/socketio_chat.hpp"

#include "i18n/i18n.hpp"

#include <fmt/format.h>

#include "print/print.hpp"
#include "proto/handshake.hpp"

namespace ws::apps {

using server::EioSocket;

SocketIoChat::SocketIoChat(server::EngineIoOptions options, chat::Limits limits, Random& random,
                           std::chrono::milliseconds connect_timeout)
    : room_(limits), engine_(std::move(options), packets_, random), random_(random), connect_timeout_(connect_timeout) {}

void SocketIoChat::on_stop(Server& s) {
    // The loop goes with the server: no client keeps a timer on it.
    for (auto& [socket, client] : state_) s.loop().cancel(*client);
    state_.clear();
    engine_.on_stop(s);
}

// ---- the server's calls: /socket.io/ to Engine.IO, the rest to lesson 5's room

void SocketIoChat::on_request(Server& s, Connection& c, const http::Request& req, std::string_view body) {
    engine_.on_request(s, c, req, body);
}
void SocketIoChat::on_request_dropped(Server& s, Connection& c) { engine_.on_request_dropped(s, c); }

std::string SocketIoChat::refuse_upgrade(Server& s, Connection& c, const http::Request& req) {
    std::string_view path = http::path_of(req.target);
    return engine_.serves(path) ? engine_.refuse_upgrade(s, c, req) : std::string();
}

void SocketIoChat::on_upgraded(Server& s, Connection& c, const http::Request& req) {
    std::string_view path = http::path_of(req.target);
    if (engine_.serves(path)) engine_.on_upgraded(s, c, req);
}

void SocketIoChat::on_message(Server& s, Connection& c, Opcode type, std::string_view payload) {
    if (engine_.owns(c)) engine_.on_message(s, c, type, payload);
    else room_.on_message(s, c, type, payload);
}

void SocketIoChat::on_close(Server& s, Connection& c, std::uint16_t code, std::string_view reason) {
    if (engine_.owns(c)) engine_.on_close(s, c, code, reason);
    else room_.on_close(s, c, code, reason);
}

// ---- Socket.IO over Engine.IO

void SocketIoChat::Packets::on_open(EioSocket& s) {
    auto& client = chat.state_[&s] = std::make_unique<Client>(chat, s);
    Server& server = *chat.engine_.server();
    server.loop().arm(*client, server.loop().now() + chat.connect_timeout_);
}

void SocketIoChat::Client::on_timer() {
    if (connected) return;
    chat.engine_.log(socket, trf("no Socket.IO CONNECT within connectTimeout ({} s); the session ends",
                                         std::chrono::duration<double>(chat.connect_timeout_).count()));
    chat.engine_.close(socket, tr("no CONNECT in time"));  // frees this Client: nothing after it
}

void SocketIoChat::Packets::on_message(EioSocket& s, std::string_view data, bool binary) {
    auto found = chat.state_.find(&s);
    if (found == chat.state_.end()) return;  // not opened through on_open: cannot happen
    Client& client = *found->second;
    sio::ParseResult r = binary ? client.decoder.binary(data) : client.decoder.text(data);
    if (r.packet) return chat.handle(s, client, *r.packet);
    if (r.error == sio::Error::none) {
        chat.engine_.log(s, trf("sio waits for {} more attachment{}", client.decoder.awaited(),
                                        client.decoder.awaited() == 1 ? "" : "s"));
        return;
    }
    // What socket.io's own server does with a packet it cannot read: it ends the connection.
    std::string why = tr(sio::describe(r.error));
    chat.engine_.log(s, r.detail.empty() ? trf("not a Socket.IO packet: {}; the session ends", why)
                                         : trf("not a Socket.IO packet: {} ({}); the session ends", why, r.detail));
    chat.engine_.close(s, tr("a malformed Socket.IO packet"));
}

void SocketIoChat::Packets::on_close(EioSocket& s, std::string_view) {
    Server* server = chat.engine_.server();
    chat.room_.leave(chat.member(s), !(server && server->shutting_down()));
    auto found = chat.state_.find(&s);
    if (found == chat.state_.end()) return;
    if (server) server->loop().cancel(*found->second);
    chat.state_.erase(found);
}

std::string SocketIoChat::Packets::describe(std::string_view data, bool binary) const {
    if (binary) return tr("a binary attachment");
    sio::ParseResult r = sio::parse(data);
    if (!r.packet) return trf("not Socket.IO ({})", tr(sio::describe(r.error)));
    const sio::Packet& p = *r.packet;
    std::string line(sio::name(p.type));
    if (p.attachments) line += trf(" with {} attachment{}", p.attachments, p.attachments == 1 ? "" : "s");
    if ((p.type == sio::PacketType::event || p.type == sio::PacketType::binary_event) && p.data.is_array())
        line += fmt::format(" {}", print::printable(p.data[0].get<std::string>(), 20));
    line += trf(" on namespace {}", print::bare(p.nsp, 20));
    if (p.id) line += fmt::format(", ack {}", *p.id);
    return line;
}

void SocketIoChat::send_packet(EioSocket& s, const sio::Packet& p) { engine_.send(s, sio::encode(p)); }

void SocketIoChat::handle(EioSocket& s, Client& client, const sio::Packet& p) {
    if (p.nsp != "/") {
        // This server has one namespace, the main one.
        if (p.type == sio::PacketType::connect)
            send_packet(s, {sio::PacketType::connect_error, p.nsp, {}, {{"message", "Invalid namespace"}}, 0});
        return;
    }
    switch (p.type) {
        case sio::PacketType::connect: {
            if (client.connected) return;
            client.connected = true;
            if (Server* server = engine_.server()) server->loop().cancel(client);
            std::array<std::uint8_t, 15> id{};
            random_.fill(id);
            send_packet(s, {sio::PacketType::connect, "/", {}, {{"sid", handshake::base64_encode(id)}}, 0});
            return;
        }
        case sio::PacketType::disconnect:
            client.connected = false;
            room_.leave(member(s), true);
            return;
        case sio::PacketType::event:
        case sio::PacketType::binary_event: {
            if (!client.connected) return;  // socket.io ignores events for a namespace not joined
            const std::string& event = p.data[0].get_ref<const std::string&>();
            if (p.id) send_packet(s, {sio::PacketType::ack, "/", p.id, nlohmann::json::array(), 0});
            if (event != "message")
                return room_.reply_error(member(s), fmt::format("unknown event \"{}\": this room listens to \"message\"",
                                                                print::bare(event, 30)));
            if (p.data.size() < 2 || !p.data[1].is_object())
                return room_.reply_error(member(s), "socket.send(obj): obj is a chat message, {\"type\":…}");
            if (p.type == sio::PacketType::binary_event)
                return room_.reply_error(member(s), "binary attachments are not part of the chat");
            room_.receive(member(s), p.data[1].dump());
            return;
        }
        case sio::PacketType::ack:
        case sio::PacketType::binary_ack:
            engine_.log(s, "an ack for an event this server never sent: ignored");
            return;
        case sio::PacketType::connect_error:
            engine_.log(s, "CONNECT_ERROR comes from a server, not a client; the session ends");
            engine_.close(s, tr("a client sent CONNECT_ERROR"));
            return;
    }
}

// ---- the room's messages to socket.io clients

void SocketIoChat::Clients::send(const void* member, std::string_view json) {
    chat.engine_.send(*static_cast<EioSocket*>(const_cast<void*>(member)), sio::event_text("message", json));
}
void SocketIoChat::Clients::broadcast(std::string_view json) {
    chat.engine_.broadcast(members, sio::event_text("message", json));
}
void SocketIoChat::Clients::joined(const void* member) { members.push_back(static_cast<EioSocket*>(const_cast<void*>(member))); }
void SocketIoChat::Clients::left(const void* member) { members.erase(std::find(members.begin(), members.end(), member)); }
void SocketIoChat::Clients::log(const void* member, std::string_view line) {
    chat.engine_.log(*static_cast<const EioSocket*>(member), line);
}

}  // namespace ws::apps
