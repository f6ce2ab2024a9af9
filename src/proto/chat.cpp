#include "proto/chat.hpp"

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

std::string client_login_json(std::string_view name) { return dump({{"type", "LOGIN"}, {"name", name}}); }

std::string client_chat_json(std::string_view message) { return dump({{"type", "CHAT"}, {"message", message}}); }

}  // namespace ws::chat
