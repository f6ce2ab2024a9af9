#include "proto/chat.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "proto/utf8.hpp"

namespace ws::chat {
namespace {

using json = nlohmann::ordered_json;  // keeps keys in the order the design lists them

bool has_control_character(std::string_view s) {
    for (char c : s)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return true;
    return false;
}

ClientMessage invalid(std::string error) {
    ClientMessage m;
    m.error = std::move(error);
    return m;
}

std::string dump(const json& j) {
    // The text came through a UTF-8 check already; replace rather than throw if not.
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

ClientMessage parse_client_message(std::string_view text, const Limits& limits) {
    json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return invalid("invalid JSON");
    if (!j.is_object()) return invalid("expected a JSON object like {\"type\":\"CHAT\",\"message\":\"hi\"}");
    auto type = j.find("type");
    if (type == j.end() || !type->is_string()) return invalid("missing \"type\" (LOGIN, CHAT or LOGOUT)");

    const std::string& t = type->get_ref<const std::string&>();
    ClientMessage m;
    if (t == "LOGIN") {
        auto name = j.find("name");
        if (name == j.end() || !name->is_string()) return invalid("LOGIN needs a \"name\" string");
        m.name = name->get<std::string>();
        if (m.name.empty()) return invalid("the name is empty");
        if (count_code_points(m.name) > limits.max_name_chars)
            return invalid("the name is longer than " + std::to_string(limits.max_name_chars) + " characters");
        if (has_control_character(m.name)) return invalid("the name holds a control character");
        m.kind = ClientMessage::Kind::login;
    } else if (t == "CHAT") {
        auto message = j.find("message");
        if (message == j.end() || !message->is_string()) return invalid("CHAT needs a \"message\" string");
        m.message = message->get<std::string>();
        if (m.message.empty()) return invalid("the message is empty");
        if (m.message.size() > limits.max_message_bytes)
            return invalid("the message is longer than " + std::to_string(limits.max_message_bytes) + " bytes");
        m.kind = ClientMessage::Kind::chat;
    } else if (t == "LOGOUT") {
        m.kind = ClientMessage::Kind::logout;
    } else {
        return invalid("unknown type \"" + t.substr(0, 32) + "\" (expected LOGIN, CHAT or LOGOUT)");
    }
    return m;
}

std::string login_json(std::string_view name) {
    return dump({{"type", "LOGIN"}, {"message", std::string(name) + " joined the chat"}, {"name", name}});
}

std::string logout_json(std::string_view name) {
    return dump({{"type", "LOGOUT"}, {"message", std::string(name) + " left the chat"}, {"name", name}});
}

std::string chat_json(std::string_view sender, std::string_view message) {
    return dump({{"type", "CHAT"}, {"message", message}, {"sender", sender}});
}

std::string users_json(const std::vector<std::string>& names) { return dump({{"type", "USERS"}, {"users", names}}); }

std::string error_json(std::string_view message) { return dump({{"type", "ERROR"}, {"message", message}}); }

std::string screen_line(std::string_view text) {
    json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) return "(not a chat message) " + std::string(text.substr(0, 40));
    std::string type = j.value("type", "?");
    auto field = [&](const char* key) { return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string("?"); };
    if (type == "USERS") return "in the room: " + (j.contains("users") ? dump(j["users"]) : std::string("?"));
    if (type == "CHAT") return field("sender") + ": " + field("message");
    if (type == "ERROR") return "error: " + field("message");
    return "system: " + field("message");
}

std::string client_login_json(std::string_view name) { return dump({{"type", "LOGIN"}, {"name", name}}); }

std::string client_chat_json(std::string_view message) { return dump({{"type", "CHAT"}, {"message", message}}); }

// ---- lesson 10's room events

namespace {
constexpr std::string_view kind_name(RoomEvent::Kind k) {
    return k == RoomEvent::Kind::login ? "LOGIN" : k == RoomEvent::Kind::logout ? "LOGOUT" : "CHAT";
}
}  // namespace

std::string room_event_json(const RoomEvent& e) {
    json j = {{"type", kind_name(e.kind)}, {"name", e.name}};
    if (e.kind == RoomEvent::Kind::chat) j["message"] = e.message;
    j["server"] = e.server;
    return dump(j);
}

std::optional<RoomEvent> parse_room_event(std::string_view text, const Limits& limits) {
    json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) return std::nullopt;
    auto text_of = [&](const char* key) -> const std::string* {
        auto found = j.find(key);
        return found != j.end() && found->is_string() ? &found->get_ref<const std::string&>() : nullptr;
    };
    const std::string *type = text_of("type"), *name = text_of("name"), *server = text_of("server");
    if (!type || !name || !server || name->empty() || server->size() > kMaxServerName) return std::nullopt;
    if (count_code_points(*name) > limits.max_name_chars) return std::nullopt;
    RoomEvent e;
    e.name = *name;
    e.server = *server;
    if (*type == "LOGIN") e.kind = RoomEvent::Kind::login;
    else if (*type == "LOGOUT") e.kind = RoomEvent::Kind::logout;
    else if (*type == "CHAT") {
        const std::string* message = text_of("message");
        if (!message || message->size() > limits.max_message_bytes) return std::nullopt;
        e.kind = RoomEvent::Kind::chat;
        e.message = *message;
    } else {
        return std::nullopt;
    }
    return e;
}

bool Roster::contains(std::string_view name) const {
    return std::find(names_.begin(), names_.end(), name) != names_.end();
}

}  // namespace ws::chat
