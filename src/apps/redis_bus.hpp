// Lesson 10: the chat room's bus over Redis (hiredis's asynchronous API on the server's own
// epoll loop). Two connections per server: one SUBSCRIBEd to the room's channel, where every
// event arrives, in the one order Redis hands them out; one for commands (PUBLISH, the
// scripts that claim and free names, presence). Redis keeps, per room:
//
//   ws:ROOM:events        the channel: {"type":"LOGIN"|"CHAT"|"LOGOUT","name":…,"server":…}
//   ws:ROOM:names         a hash, name → the server its person is on (a name is claimed once)
//   ws:ROOM:servers       a set of the servers in the room
//   ws:ROOM:alive:SERVER  a key that expires (3 s) unless its server renews it (every second)
//
// A server whose key expired is dead: the first server to notice logs its people out (a
// script, so once). Pub/sub delivers at most once: what is published while a server is cut off
// from Redis never reaches that server's clients.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "apps/room_bus.hpp"
#include "i18n/i18n.hpp"
#include "net/loop.hpp"

struct redisAsyncContext;
struct redisReply;

namespace ws::apps {

struct RedisAddress {
    std::string host = "127.0.0.1";
    std::uint16_t port = 6379;
    std::string str() const;
};
// "HOST:PORT" or "PORT"; throws std::invalid_argument with a sentence.
RedisAddress parse_redis_address(std::string_view);

// One blocking round trip (PING), for a clear error before serving: "" when Redis answers.
std::string check_redis(const RedisAddress&, std::chrono::milliseconds timeout);

struct RedisBusOptions {
    RedisAddress redis;
    std::string room = "chat";
    chat::Limits limits;                           // events on the channel are checked against these
    std::chrono::milliseconds tick{1000};          // presence renewed, the dead looked for
    std::chrono::milliseconds presence_ttl{3000};  // a server silent this long is dead
    std::chrono::milliseconds answer_timeout{3000};
    std::size_t max_unanswered = 100'000;          // commands Redis has not answered yet
    std::size_t max_unanswered_bytes = 64 << 20;   // and their bytes
};

class RedisLink;

class RedisBus final : public Bus, private net::Timer {
public:
    RedisBus(net::Loop&, RedisBusOptions, std::string server);
    ~RedisBus() override;

    // Connects; `on_whole` is called each time the room is joined (the first time: ready).
    void start(std::function<void()> on_whole = {});
    // After the loop: announces this server's people as gone, at once (a blocking connection).
    // Returns how many were logged out.
    std::size_t leave_cleanly();

    void set_listener(BusListener& l) override { listener_ = &l; }
    const std::string& server() const override { return server_; }
    bool whole() const override { return state_ == State::whole; }
    void claim(const std::string& name, std::function<void(Claim)> done) override;
    void leave(const std::string& name) override;
    void forget(const std::string& name) override {
        mine_.erase(name);
        claiming_.erase(name);
    }
    void publish_chat(const std::string& sender, const std::string& message) override;
    void leave_all() override;
    void stop() override;
    // --demo's "kill -9", from any thread: no more presence, no goodbye. The others find this
    // server dead when its alive key expires.
    void go_silent() { silent_ = true; }

    std::string key(std::string_view what) const { return "ws:" + options_.room + ":" + std::string(what); }
    const std::string& channel() const { return channel_; }

private:
    enum class State { split, connecting, syncing, whole, stopped };
    void on_timer() override;
    void connect();
    // Why the room split (ws::because): `wire` goes into the ERROR notice the clients get, `shown`
    // into the server's own log line.
    void lost(Why why);
    void on_subscription(redisReply*);
    void synced(redisReply*);
    void tick();
    void reaped(redisReply*);
    // A command on the command connection; `done` gets the reply, or nullptr when the
    // connection went before it was answered.
    void command(std::vector<std::string> args, std::function<void(redisReply*)> done = {});
    void note(std::string_view line) const {
        if (log) log(line);
    }

    net::Loop& loop_;
    RedisBusOptions options_;
    std::string server_;
    std::string channel_;
    BusListener* listener_ = nullptr;
    std::function<void()> on_whole_;
    State state_ = State::split;
    bool was_whole_ = false;                 // the room was joined before: a loss is a split
    bool leaving_ = false;                   // the server stops: nothing more is delivered
    std::atomic<bool> silent_{false};        // go_silent()
    std::unique_ptr<RedisLink> sub_, cmd_;
    std::vector<chat::RoomEvent> held_;      // events that came before the snapshot
    std::set<std::string> mine_;             // names this server holds in Redis
    std::map<std::string, std::uint64_t> claiming_;  // names asked for, not answered yet (and which ask)
    std::uint64_t claims_ = 0;
    std::size_t left_ = 0;                   // people announced as gone by leave_all()
    static constexpr std::size_t kMaxHeld = 100'000;
    std::size_t unanswered_ = 0;
    std::size_t unanswered_bytes_ = 0;
    net::Clock::time_point deadline_{};      // connecting, syncing, or a tick: answered by then
    bool tick_answered_ = true;
    std::chrono::milliseconds backoff_{0};
    net::Clock::time_point split_at_{};
};

}  // namespace ws::apps
