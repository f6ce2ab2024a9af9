#include "apps/chat_room.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "print/print.hpp"

namespace ws::apps {

// ---- lesson 5's members: WebSocket connections

void ChatRoom::Pages::send(const void* member, std::string_view json) {
    server->send(*static_cast<Connection*>(const_cast<void*>(member)), Opcode::text, json);
}
void ChatRoom::Pages::broadcast(std::string_view json) { server->broadcast(members, Opcode::text, json); }
void ChatRoom::Pages::joined(const void* member) { members.push_back(static_cast<Connection*>(const_cast<void*>(member))); }
void ChatRoom::Pages::left(const void* member) { members.erase(std::find(members.begin(), members.end(), member)); }
void ChatRoom::Pages::log(const void* member, std::string_view line) {
    server->log(*static_cast<const Connection*>(member), "{}", line);
}

// ---- the room

ChatRoom::ChatRoom(chat::Limits limits) : limits_(limits) {}

void ChatRoom::on_message(Server& server, Connection& c, Opcode type, std::string_view payload) {
    if (type != Opcode::text) return reply_error(page(server, c), "send JSON in text messages, not binary");
    receive(page(server, c), payload);
}

void ChatRoom::on_close(Server& server, Connection& c, std::uint16_t, std::string_view) {
    // When the server shuts down everyone leaves at once: no LOGOUT for each to each.
    leave(page(server, c), !server.shutting_down());
}

void ChatRoom::reply_error(Member m, std::string_view message) {
    if (m.audience->logging()) m.audience->log(m.who, fmt::format("ERROR {}", message));
    m.audience->send(m.who, chat::error_json(message));
}

std::string ChatRoom::room_summary() const {
    if (order_.size() > 8) return fmt::format("room: {} people", order_.size());
    std::string s = "room:";
    for (std::size_t i = 0; i < order_.size(); ++i) s += (i ? ", " : " ") + names_.at(order_[i]);
    return order_.empty() ? "room: empty" : s;
}

void ChatRoom::broadcast(std::string_view json) {
    for (auto& [audience, members] : audiences_) audience->broadcast(json);
}

void ChatRoom::receive(Member m, std::string_view payload) {
    chat::ClientMessage message = chat::parse_client_message(payload, limits_);
    auto me = names_.find(m);
    switch (message.kind) {
        case chat::ClientMessage::Kind::invalid:
            return reply_error(m, message.error);
        case chat::ClientMessage::Kind::login:
            if (me != names_.end()) return reply_error(m, "already logged in as " + me->second);
            if (taken_.count(message.name)) return reply_error(m, "the name \"" + message.name + "\" is taken");
            return login(m, message.name);
        case chat::ClientMessage::Kind::chat:
            if (me == names_.end()) return reply_error(m, "log in first: {\"type\":\"LOGIN\",\"name\":\"...\"}");
            if (m.audience->logging())
                m.audience->log(m.who, fmt::format("CHAT {} → {} clients", print::printable(message.message, 40), order_.size()));
            return broadcast(chat::chat_json(me->second, message.message));
        case chat::ClientMessage::Kind::logout:
            if (me == names_.end()) return reply_error(m, "not logged in");
            return leave(m, true);
    }
}

void ChatRoom::login(Member m, const std::string& name) {
    names_.emplace(m, name);
    taken_.insert(name);
    order_.push_back(m);
    m.audience->joined(m.who);
    auto through = std::find_if(audiences_.begin(), audiences_.end(), [&](auto& a) { return a.first == m.audience; });
    if (through == audiences_.end()) audiences_.emplace_back(m.audience, 1);
    else ++through->second;
    // The newcomer gets the full list once; everyone else keeps theirs from LOGIN/LOGOUT.
    std::vector<std::string> users;
    users.reserve(order_.size());
    for (const Member& other : order_) users.push_back(names_.at(other));
    m.audience->send(m.who, chat::users_json(users));
    if (m.audience->logging()) m.audience->log(m.who, fmt::format("LOGIN {} · {}", name, room_summary()));
    broadcast(chat::login_json(name));
}

void ChatRoom::leave(Member m, bool announce) {
    auto me = names_.find(m);
    if (me == names_.end()) return;
    std::string name = me->second;
    names_.erase(me);
    taken_.erase(name);
    order_.erase(std::find(order_.begin(), order_.end(), m));
    m.audience->left(m.who);
    auto through = std::find_if(audiences_.begin(), audiences_.end(), [&](auto& a) { return a.first == m.audience; });
    if (--through->second == 0) audiences_.erase(through);
    if (m.audience->logging()) m.audience->log(m.who, fmt::format("LOGOUT {} · {}", name, room_summary()));
    if (announce) broadcast(chat::logout_json(name));
}

}  // namespace ws::apps
