// The chat room's protocol (design §5): JSON objects in text frames, compatible with the
// original socket.io chat. Parsing and building only; the room itself is src/apps/chat_room.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace ws::chat {

struct Limits {
    std::size_t max_name_chars = 32;        // characters (code points), not bytes
    std::size_t max_message_bytes = 4096;
};

struct ClientMessage {
    enum class Kind { login, chat, logout, invalid } kind = Kind::invalid;
    std::string name;     // login
    std::string message;  // chat
    std::string error;    // invalid: what to tell the client
};

// Reads {"type":"LOGIN","name":...}, {"type":"CHAT","message":...} or {"type":"LOGOUT"}.
// Anything else comes back as invalid, with a sentence for an ERROR reply.
ClientMessage parse_client_message(std::string_view text, const Limits& = {});

// Server → client messages.
std::string login_json(std::string_view name);
std::string logout_json(std::string_view name);
std::string chat_json(std::string_view sender, std::string_view message);
std::string users_json(const std::vector<std::string>& names);
std::string error_json(std::string_view message);

// Client → server messages (the demo's bots and the tests use these).
std::string client_login_json(std::string_view name);
std::string client_chat_json(std::string_view message);

}  // namespace ws::chat
