#include "apps/chat_room.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "print/print.hpp"

namespace ws::apps {

void ChatRoom::reply_error(Server& server, Connection& c, std::string_view message) {
    server.log(c, "ERROR {}", message);
    server.send(c, Opcode::text, chat::error_json(message));
}

std::string ChatRoom::room_summary() const {
    if (members_.size() > 8) return fmt::format("room: {} people", members_.size());
    std::string s = "room:";
    for (std::size_t i = 0; i < members_.size(); ++i) s += (i ? ", " : " ") + names_.at(members_[i]);
    return members_.empty() ? "room: empty" : s;
}

void ChatRoom::on_message(Server& server, Connection& c, Opcode type, std::string_view payload) {
    if (type != Opcode::text) {
        reply_error(server, c, "send JSON in text messages, not binary");
        return;
    }
    chat::ClientMessage m = chat::parse_client_message(payload, limits_);
    auto me = names_.find(&c);
    switch (m.kind) {
        case chat::ClientMessage::Kind::invalid:
            reply_error(server, c, m.error);
            return;
        case chat::ClientMessage::Kind::login:
            if (me != names_.end()) return reply_error(server, c, "already logged in as " + me->second);
            if (taken_.count(m.name)) return reply_error(server, c, "the name \"" + m.name + "\" is taken");
            login(server, c, m.name);
            return;
        case chat::ClientMessage::Kind::chat:
            if (me == names_.end()) return reply_error(server, c, "log in first: {\"type\":\"LOGIN\",\"name\":\"...\"}");
            if (server.logging()) server.log(c, "CHAT {} → {} clients", print::printable(m.message, 40), members_.size());
            server.broadcast(members_, Opcode::text, chat::chat_json(me->second, m.message));
            return;
        case chat::ClientMessage::Kind::logout:
            if (me == names_.end()) return reply_error(server, c, "not logged in");
            leave(server, c, true);
            return;
    }
}

void ChatRoom::login(Server& server, Connection& c, const std::string& name) {
    names_.emplace(&c, name);
    taken_.insert(name);
    members_.push_back(&c);
    // The newcomer gets the full list once; everyone else keeps theirs from LOGIN/LOGOUT.
    std::vector<std::string> users;
    users.reserve(members_.size());
    for (Connection* m : members_) users.push_back(names_.at(m));
    server.send(c, Opcode::text, chat::users_json(users));
    if (server.logging()) server.log(c, "LOGIN {} · {}", name, room_summary());
    server.broadcast(members_, Opcode::text, chat::login_json(name));
}

void ChatRoom::leave(Server& server, Connection& c, bool announce) {
    auto me = names_.find(&c);
    if (me == names_.end()) return;
    std::string name = me->second;
    names_.erase(me);
    taken_.erase(name);
    members_.erase(std::find(members_.begin(), members_.end(), &c));
    if (server.logging()) server.log(c, "LOGOUT {} · {}", name, room_summary());
    if (announce) server.broadcast(members_, Opcode::text, chat::logout_json(name));
}

void ChatRoom::on_close(Server& server, Connection& c, std::uint16_t, std::string_view) {
    // When the server shuts down everyone leaves at once: no LOGOUT for each to each.
    leave(server, c, !server.shutting_down());
}

}  // namespace ws::apps
