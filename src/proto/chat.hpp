// The chat room's protocol (design §5): JSON objects in text frames, compatible with the
// original socket.io chat. Parsing and building only; the room itself is src/apps/chat_room.
#pragma once

#include <cstddef>
#include <optional>
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

// What a chat page shows for one server → client message: "alice: hi", "system: bob joined
// the chat", "in the room: [\"alice\"]", "error: …" (the demos' bots print this).
std::string screen_line(std::string_view json);

// Client → server messages (the demo's bots and the tests use these).
std::string client_login_json(std::string_view name);
std::string client_chat_json(std::string_view message);

// ---- Lesson 10: one room over several servers

// What the room's servers tell each other through the bus (Redis pub/sub), one JSON object
// per event on the room's channel: {"type":"LOGIN","name":"alice","server":"a1b2c3"}, CHAT
// with its "message" too, LOGOUT. Every server applies every event, its own included, in the
// order the bus hands them out: that order is the room's.
struct RoomEvent {
    enum class Kind { login, chat, logout } kind = Kind::chat;
    std::string name;     // who logged in or out, or who sent the chat
    std::string message;  // a chat's text
    std::string server;   // the server the person is on
};
std::string room_event_json(const RoomEvent&);
// Any key order, unknown keys ignored; nullopt for anything that is not an event, or that
// breaks the room's limits (a name or message no client could have sent, a server name longer
// than kMaxServerName bytes): what arrives from Redis is checked like what arrives from a client.
constexpr std::size_t kMaxServerName = 128;
std::optional<RoomEvent> parse_room_event(std::string_view text, const Limits& limits = {});

// Who is in the room across servers, in the order they joined, as each server keeps it from
// the events. Applying is idempotent (a LOGIN of someone present, a LOGOUT of someone absent
// change nothing), because a server that joins late starts from a snapshot, and events
// published just before the snapshot was taken also arrive after it.
class Roster {
public:
    // A LOGIN adds the name at the end, a LOGOUT removes it; a CHAT changes nothing. True
    // when the roster changed.
    bool apply(const RoomEvent&);
    void reset(std::vector<std::string> names) { names_ = std::move(names); }
    const std::vector<std::string>& names() const { return names_; }
    bool contains(std::string_view name) const;

private:
    std::vector<std::string> names_;
};

}  // namespace ws::chat
