// The chat room of lesson 5 (design §5): LOGIN, CHAT and LOGOUT broadcast to everyone in the
// room, in one order. A Handler for the WebSocket server; lesson 9's socket.io clients join the
// same room through an Audience of their own. Underneath, a Bus (src/apps/room_bus.hpp) carries
// the room's events: within this process (lesson 5), or through Redis to the other servers
// that hold the rest of the room (lesson 10).
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "apps/room_bus.hpp"
#include "proto/chat.hpp"
#include "server/ws_server.hpp"

namespace ws::apps {

using server::Connection;
using server::Server;

// One way of reaching people: lesson 5's WebSocket pages are one audience, lesson 9's
// socket.io clients another. The room tells it who joined and left; a broadcast goes to each
// audience once, which sends it to all its members in one go (one frame built for all).
class Audience {
public:
    virtual ~Audience() = default;
    virtual void send(const void* member, std::string_view json) = 0;
    virtual void broadcast(std::string_view json) = 0;  // to every member of this audience in the room
    virtual void joined(const void* member) = 0;
    virtual void left(const void* member) = 0;
    virtual bool logging() const = 0;
    virtual void log(const void* member, std::string_view line) = 0;
};

struct Member {
    Audience* audience = nullptr;
    const void* who = nullptr;  // the audience's own handle (lesson 5: the Connection)
    bool operator==(const Member&) const = default;
};

class ChatRoom : public server::Handler, private BusListener {
public:
    explicit ChatRoom(chat::Limits limits = {});
    // Lesson 10: the room's events go through this bus (Redis) instead of this process.
    void use_bus(Bus&);

    // Lesson 5: the room's own members are WebSocket connections.
    void on_message(Server&, Connection&, Opcode, std::string_view payload) override;
    void on_close(Server&, Connection&, std::uint16_t code, std::string_view reason) override;
    void on_shutdown(Server&) override { bus_->leave_all(); }
    void on_stop(Server&) override { bus_->stop(); }

    // Any member: one §5 message from them, and their leaving (announced or, when the server
    // stops and everyone leaves at once, not).
    void receive(Member, std::string_view text);
    void leave(Member, bool announce);
    void reply_error(Member, std::string_view message);

    std::size_t size() const { return roster_.names().size(); }  // everyone, on every server

private:
    struct MemberHash {
        std::size_t operator()(const Member& m) const {
            return std::hash<const void*>()(m.who) ^ (std::hash<const void*>()(m.audience) << 1);
        }
    };
    // Lesson 5's audience: the server's broadcast sends one frame to all of them.
    struct Pages final : Audience {
        Server* server = nullptr;
        std::vector<Connection*> members;
        void send(const void* member, std::string_view json) override;
        void broadcast(std::string_view json) override;
        void joined(const void* member) override;
        void left(const void* member) override;
        bool logging() const override { return server && server->logging(); }
        void log(const void* member, std::string_view line) override;
    };

    // What the bus hands back.
    void deliver(const chat::RoomEvent&) override;
    void room_split(std::string_view why) override;
    void room_whole(const std::vector<std::string>& everyone, const std::vector<std::string>& taken) override;

    void claimed(Member, const std::string& name, Bus::Claim);
    void logged_in(Member, const std::string& name);  // their LOGIN came back: in the room
    void drop(Member, std::string_view why);          // logged out by the room, not by them
    void broadcast(std::string_view json);
    std::string room_summary(std::string_view without = {}) const;  // who is in the room, for the log
    Member page(Server& server, Connection& c) {
        pages_.server = &server;
        return {&pages_, &c};
    }

    chat::Limits limits_;
    Pages pages_;
    LocalBus local_bus_;
    Bus* bus_ = &local_bus_;
    chat::Roster roster_;                                          // everyone, in the order they joined
    std::unordered_map<Member, std::string, MemberHash> names_;    // this server's people, and their names
    // Asked for a name, not in yet (lesson 10: until their LOGIN comes back from Redis); what
    // they say meanwhile waits, and is published after their LOGIN, in order.
    struct Pending {
        std::string name;
        std::vector<std::string> said;
    };
    static constexpr std::size_t kSaidWhilePending = 32;
    static constexpr std::size_t kMaxRoom = 100'000;   // names in the roster (lesson 10: events from Redis)
    static constexpr Member kGivenBack{};               // by_name_: a name given back, its LOGOUT not back yet
    std::unordered_map<Member, Pending, MemberHash> pending_;
    std::unordered_map<std::string, Member> by_name_;              // both, by name
    std::vector<std::pair<Audience*, std::size_t>> audiences_;     // who hears a broadcast, and how many through each
};

}  // namespace ws::apps
