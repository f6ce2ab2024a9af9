// The chat room of lesson 5 (design §5): LOGIN, CHAT and LOGOUT broadcast to everyone in the
// room, in the order the server received them. A Handler for the WebSocket server.
#pragma once

#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "proto/chat.hpp"
#include "server/ws_server.hpp"

namespace ws::apps {

using server::Connection;
using server::Server;

class ChatRoom : public server::Handler {
public:
    explicit ChatRoom(chat::Limits limits = {}) : limits_(limits) {}

    void on_message(Server&, Connection&, Opcode, std::string_view payload) override;
    void on_close(Server&, Connection&, std::uint16_t code, std::string_view reason) override;

    std::size_t size() const { return members_.size(); }

private:
    void login(Server&, Connection&, const std::string& name);
    void leave(Server&, Connection&, bool announce);
    void reply_error(Server&, Connection&, std::string_view message);
    std::string room_summary() const;

    chat::Limits limits_;
    std::unordered_map<const Connection*, std::string> names_;  // who is logged in, and as whom
    std::unordered_set<std::string> taken_;                      // names in use
    std::vector<Connection*> members_;                           // in order of joining: who hears a broadcast
};

}  // namespace ws::apps
