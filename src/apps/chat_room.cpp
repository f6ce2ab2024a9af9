#include "apps/chat_room.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "i18n/i18n.hpp"
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

// ---- lesson 5's bus: this process

void LocalBus::claim(const std::string& name, std::function<void(Claim)> done) {
    if (!taken_.insert(name).second) return done(Claim::taken);
    listener_->deliver({chat::RoomEvent::Kind::login, name, {}, server_});
    done(Claim::ours);
}

void LocalBus::leave(const std::string& name) {
    taken_.erase(name);
    listener_->deliver({chat::RoomEvent::Kind::logout, name, {}, server_});
}

void LocalBus::publish_chat(const std::string& sender, const std::string& message) {
    listener_->deliver({chat::RoomEvent::Kind::chat, sender, message, server_});
}

// ---- the room

ChatRoom::ChatRoom(chat::Limits limits) : limits_(limits) { local_bus_.set_listener(*this); }

void ChatRoom::use_bus(Bus& bus) {
    bus_ = &bus;
    bus.set_listener(*this);
}

void ChatRoom::on_message(Server& server, Connection& c, Opcode type, std::string_view payload) {
    if (type != Opcode::text) return reply_error(page(server, c), "send JSON in text messages, not binary");
    receive(page(server, c), payload);
}

void ChatRoom::on_close(Server& server, Connection& c, std::uint16_t, std::string_view) {
    // When the server shuts down everyone leaves at once: no LOGOUT for each to each.
    leave(page(server, c), !server.shutting_down());
}

void ChatRoom::reply_error(Member m, std::string_view message) {
    if (m.audience->logging()) m.audience->log(m.who, fmt::format("ERROR {}", print::fit(message, 80)));
    m.audience->send(m.who, chat::error_json(message));
}

std::string ChatRoom::room_summary(std::string_view without) const {
    std::vector<std::string> names;
    for (const auto& n : roster_.names())
        if (n != without) names.push_back(n);
    if (names.size() > 8) return trf("room: {} people", names.size());
    if (names.empty()) return tr("room: empty");
    return trf("room: {}", fmt::join(names, ", "));
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
        case chat::ClientMessage::Kind::login: {
            if (me != names_.end()) return reply_error(m, "already logged in as " + me->second);
            if (auto asked = pending_.find(m); asked != pending_.end())
                return reply_error(m, "already logging in as " + asked->second.name);
            if (roster_.contains(message.name) || by_name_.count(message.name))
                return reply_error(m, "the name \"" + message.name + "\" is taken");
            if (!bus_->whole()) return reply_error(m, "the room is split (this server cannot reach the others): log in again in a moment");
            pending_.emplace(m, Pending{message.name, {}});
            by_name_.emplace(message.name, m);
            // The bus decides: the name may be free here and taken on another server.
            bus_->claim(message.name, [this, m, name = message.name](Bus::Claim c) { claimed(m, name, c); });
            return;
        }
        case chat::ClientMessage::Kind::chat:
            if (me == names_.end()) {
                auto asked = pending_.find(m);
                if (asked == pending_.end()) return reply_error(m, "log in first: {\"type\":\"LOGIN\",\"name\":\"...\"}");
                // Sent right behind the LOGIN: it goes out once the LOGIN is in.
                if (asked->second.said.size() >= kSaidWhilePending)
                    return reply_error(m, "not sent: wait for your LOGIN to come back before saying more");
                asked->second.said.push_back(std::move(message.message));
                return;
            }
            if (!bus_->whole()) return reply_error(m, "not sent: the room is split (this server cannot reach the others)");
            if (m.audience->logging()) {
                std::size_t n = roster_.names().size();
                std::string said = print::printable(message.message, 40);
                m.audience->log(m.who, n == 1 ? trf("CHAT {} → {} client", said, n) : trf("CHAT {} → {} clients", said, n));
            }
            bus_->publish_chat(me->second, message.message);
            return;
        case chat::ClientMessage::Kind::logout:
            // Logging in counts (lesson 10: a LOGOUT right behind a LOGIN, before it came back).
            if (me == names_.end() && !pending_.count(m)) return reply_error(m, "not logged in");
            return leave(m, true);
    }
}

void ChatRoom::claimed(Member m, const std::string& name, Bus::Claim claim) {
    if (claim == Bus::Claim::ours) return;  // the LOGIN comes (or came) back through the bus
    if (auto here = by_name_.find(name); here != by_name_.end() && here->second == kGivenBack) {
        by_name_.erase(here);  // given back, but never ours: no LOGOUT will come
        return;
    }
    auto asked = pending_.find(m);
    if (asked == pending_.end() || asked->second.name != name) return;  // they left meanwhile
    std::size_t unsent = asked->second.said.size();
    pending_.erase(asked);
    by_name_.erase(name);
    reply_error(m, claim == Bus::Claim::taken ? "the name \"" + name + "\" is taken (by someone on another server)"
                                              : std::string("the room is split (this server cannot reach the others): log in again in a moment"));
    if (unsent) reply_error(m, fmt::format("not sent: the {} message{} you sent before your LOGIN was in", unsent, unsent == 1 ? "" : "s"));
}

void ChatRoom::logged_in(Member m, const std::string& name) {
    pending_.erase(m);
    names_.emplace(m, name);
    m.audience->joined(m.who);
    auto through = std::find_if(audiences_.begin(), audiences_.end(), [&](auto& a) { return a.first == m.audience; });
    if (through == audiences_.end()) audiences_.emplace_back(m.audience, 1);
    else ++through->second;
    // The newcomer gets the full list once; everyone else keeps theirs from LOGIN/LOGOUT.
    m.audience->send(m.who, chat::users_json(roster_.names()));
    if (m.audience->logging()) m.audience->log(m.who, trf("LOGIN {} · {}", name, room_summary()));
}

void ChatRoom::deliver(const chat::RoomEvent& e) {
    using Kind = chat::RoomEvent::Kind;
    if (e.kind == Kind::chat) return broadcast(chat::chat_json(e.name, e.message));
    if (e.kind == Kind::login && roster_.names().size() >= kMaxRoom && !roster_.contains(e.name)) return;  // forged, surely
    bool changed = roster_.apply(e);
    auto here = by_name_.find(e.name);
    if (e.kind == Kind::login) {
        auto asked = here == by_name_.end() ? pending_.end() : pending_.find(here->second);
        if (asked == pending_.end() || e.server != bus_->server()) {
            if (changed) broadcast(chat::login_json(e.name));
            return;
        }
        // One of ours is in: the list, then everyone hears the LOGIN, then what they said meanwhile.
        Member m = here->second;
        std::vector<std::string> said = std::move(asked->second.said);
        asked->second.said.clear();
        logged_in(m, e.name);
        if (changed) broadcast(chat::login_json(e.name));
        for (const std::string& text : said) bus_->publish_chat(e.name, text);
        return;
    }
    if (here != by_name_.end() && here->second == kGivenBack && e.server == bus_->server()) by_name_.erase(here);
    // A LOGOUT of someone still here, not asked for by them: the room logged them out
    // (the others took this server for dead while it could not reach them).
    else if (here != by_name_.end() && names_.count(here->second))
        drop(here->second, "you were logged out: the other servers lost this one for a while; log in again");
    if (changed) broadcast(chat::logout_json(e.name));
}

void ChatRoom::drop(Member m, std::string_view why) {
    reply_error(m, why);
    auto me = names_.find(m);
    if (me == names_.end()) return;
    std::string name = me->second;
    by_name_.erase(name);
    names_.erase(me);
    bus_->leave(name);  // the room has let it go already, or someone else holds it: only ours is freed
    m.audience->left(m.who);
    auto through = std::find_if(audiences_.begin(), audiences_.end(), [&](auto& a) { return a.first == m.audience; });
    if (--through->second == 0) audiences_.erase(through);
}

void ChatRoom::room_split(std::string_view why) {
    std::string notice = fmt::format("the room is split ({}): until this server is back with the others, nothing you "
                                     "send is delivered, and what they send is lost for you",
                                     why);
    for (auto& [m, name] : names_) reply_error(m, notice);
    // Logging in: their LOGIN may never come back. They are told, and ask again once whole.
    for (auto& [m, asked] : pending_) {
        by_name_.erase(asked.name);
        bus_->leave(asked.name);
        reply_error(m, "the room is split (this server cannot reach the others): log in again in a moment");
        if (!asked.said.empty())
            reply_error(m, fmt::format("not sent: the {} message{} you sent before your LOGIN was in", asked.said.size(),
                                       asked.said.size() == 1 ? "" : "s"));
    }
    pending_.clear();
    // Names given back: their LOGOUT may be lost too. The room's snapshot will say.
    for (auto n = by_name_.begin(); n != by_name_.end();) n = n->second == kGivenBack ? by_name_.erase(n) : std::next(n);
}

void ChatRoom::room_whole(const std::vector<std::string>& everyone, const std::vector<std::string>& taken) {
    roster_.reset({everyone.begin(), everyone.begin() + static_cast<std::ptrdiff_t>(std::min(everyone.size(), kMaxRoom))});
    for (const std::string& name : taken) {
        auto here = by_name_.find(name);
        if (here != by_name_.end() && names_.count(here->second))
            drop(here->second, fmt::format("while the room was split someone else took the name \"{}\": log in again", name));
    }
    // Everyone here gets the list afresh: who came and went meanwhile is in it.
    std::string users = chat::users_json(roster_.names());
    for (auto& [m, name] : names_) m.audience->send(m.who, users);
}

void ChatRoom::leave(Member m, bool announce) {
    if (auto asked = pending_.find(m); asked != pending_.end()) {
        // Gone before their LOGIN came back: the name is given back (its LOGIN, then this
        // LOGOUT). Until that LOGOUT is back, the name is no one's here and no one may ask for
        // it: a newcomer's claim would come back between the two and be logged out by the second.
        std::string name = asked->second.name;
        pending_.erase(asked);
        if (announce) {
            by_name_[name] = kGivenBack;
            bus_->leave(name);
        } else {
            by_name_.erase(name);
            bus_->forget(name);
        }
        return;
    }
    auto me = names_.find(m);
    if (me == names_.end()) return;
    std::string name = me->second;
    names_.erase(me);
    by_name_.erase(name);
    m.audience->left(m.who);
    auto through = std::find_if(audiences_.begin(), audiences_.end(), [&](auto& a) { return a.first == m.audience; });
    if (--through->second == 0) audiences_.erase(through);
    if (announce) {
        bus_->leave(name);  // lesson 5: the LOGOUT reaches everyone left before this returns
    } else {
        bus_->forget(name);
        roster_.apply({chat::RoomEvent::Kind::logout, name, {}, bus_->server()});  // no one to tell
    }
    if (m.audience->logging()) m.audience->log(m.who, trf("LOGOUT {} · {}", name, room_summary(name)));
}

}  // namespace ws::apps
