// The bus under the chat room: how a room's events reach every server that holds part of it.
// Lesson 5's room has one server, and its bus is a function call (LocalBus, here). Lesson 10's
// room spans several servers, and its bus is Redis pub/sub (src/apps/redis_bus.cpp). The room
// (src/apps/chat_room.cpp) does the same with either: it asks the bus for a name, publishes
// what its clients say, and delivers to its clients what the bus hands back, in that order.
#pragma once

#include <functional>
#include <string>
#include <unordered_set>
#include <vector>

#include "proto/chat.hpp"

namespace ws::apps {

// What a bus tells the room.
class BusListener {
public:
    virtual ~BusListener() = default;
    // One event, in the room's one order (this server's own events come back this way too).
    virtual void deliver(const chat::RoomEvent&) = 0;
    // The bus lost the other servers (Redis unreachable, or it cut this server off).
    virtual void room_split(std::string_view why) = 0;
    // Back with the others: everyone in the room now, and this server's people whose names
    // someone else took meanwhile (they are logged out here).
    virtual void room_whole(const std::vector<std::string>& everyone, const std::vector<std::string>& taken) = 0;

protected:
    BusListener() = default;
};

class Bus {
public:
    virtual ~Bus() = default;
    virtual void set_listener(BusListener&) = 0;
    virtual const std::string& server() const = 0;  // this server's name on the bus
    virtual bool whole() const = 0;                  // reaching the other servers now

    enum class Claim { ours, taken, split };
    // Claims `name` for one of this server's people, across the room. On success the LOGIN
    // event is published at once (by the one who claimed: no one else can announce it) and
    // comes back through deliver(); `done` may be called before or after that delivery.
    virtual void claim(const std::string& name, std::function<void(Claim)> done) = 0;
    // `name` logged out here: the name is free again and a LOGOUT is published.
    virtual void leave(const std::string& name) = 0;
    // The server stops: `name` is forgotten here without an event (lesson 5: no one is left to
    // hear it; lesson 10: the server's clean stop announces all its people at once).
    virtual void forget(const std::string& name) = 0;
    virtual void publish_chat(const std::string& sender, const std::string& message) = 0;
    // The server begins to stop: all its people leave (lesson 10 tells the other servers now,
    // in one go, not as each closing handshake ends).
    virtual void leave_all() {}
    // The server's loop stops: let go of its timers and sockets.
    virtual void stop() {}
    // -v: what the bus does (PUBLISH, the message received, presence), for the room's log.
    std::function<void(std::string_view)> log;
};

// Lesson 5: one server, so the bus is this process. Claims are a set of names; publishing is
// delivering, at once.
class LocalBus final : public Bus {
public:
    void set_listener(BusListener& l) override { listener_ = &l; }
    const std::string& server() const override { return server_; }
    bool whole() const override { return true; }
    void claim(const std::string& name, std::function<void(Claim)> done) override;
    void leave(const std::string& name) override;
    void forget(const std::string& name) override { taken_.erase(name); }
    void publish_chat(const std::string& sender, const std::string& message) override;

private:
    BusListener* listener_ = nullptr;
    std::string server_ = "local";
    std::unordered_set<std::string> taken_;
};

}  // namespace ws::apps
