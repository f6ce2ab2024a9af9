#include "apps/redis_bus.hpp"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

#include "i18n/i18n.hpp"
#include "print/print.hpp"

namespace ws::apps {

using namespace std::chrono_literals;

std::string RedisAddress::str() const { return fmt::format("{}:{}", host, port); }

RedisAddress parse_redis_address(std::string_view text) {
    RedisAddress a;
    std::string_view port = text;
    if (auto colon = text.rfind(':'); colon != std::string_view::npos) {
        a.host = std::string(text.substr(0, colon));
        port = text.substr(colon + 1);
    }
    unsigned long n = 0;
    bool digits = !port.empty() && port.size() <= 5 && port.find_first_not_of("0123456789") == std::string_view::npos;
    if (digits) n = std::stoul(std::string(port));
    if (!digits || n == 0 || n > 65535 || a.host.empty())
        throw std::invalid_argument(trf("--redis {}: expected HOST:PORT, like 127.0.0.1:6379", print::printable(text, 40)));
    a.port = static_cast<std::uint16_t>(n);
    return a;
}

namespace {

struct BlockingRedis {
    redisContext* c = nullptr;
    BlockingRedis(const RedisAddress& a, std::chrono::milliseconds timeout) {
        timeval tv{static_cast<time_t>(timeout.count() / 1000), static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
        c = redisConnectWithTimeout(a.host.c_str(), a.port, tv);
        if (c && !c->err) redisSetTimeout(c, tv);
    }
    ~BlockingRedis() {
        if (c) redisFree(c);
    }
    std::string error() const { return c ? std::string(c->errstr) : std::string("out of memory"); }
};

std::string reply_text(const redisReply* r) { return r && r->str ? std::string(r->str, r->len) : std::string(); }

// The scripts: Redis runs each at once, with nothing in between (so a name is claimed once, a
// dead server's people are logged out once).
constexpr const char* kClaim = R"(
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1)";

constexpr const char* kLeave = R"(
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1)";

// Joining (or joining again after a split): this server is in the room again, its people's
// names are its own again (announced as LOGIN where the room had let them go), the names it
// held for people who left meanwhile are freed; the answer is the names someone else took,
// and everyone in the room.
constexpr const char* kSync = R"(
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('SET', ARGV[3], '1', 'PX', ARGV[4])
local mine = {}
for i = 5, #ARGV do mine[ARGV[i]] = true end
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  if all[i + 1] == ARGV[1] and not mine[all[i]] then
    redis.call('HDEL', KEYS[1], all[i])
    redis.call('PUBLISH', ARGV[2], cjson.encode({type = 'LOGOUT', name = all[i], server = ARGV[1]}))
  end
end
local taken = {}
for i = 5, #ARGV do
  local owner = redis.call('HGET', KEYS[1], ARGV[i])
  if not owner then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[1])
    redis.call('PUBLISH', ARGV[2], cjson.encode({type = 'LOGIN', name = ARGV[i], server = ARGV[1]}))
  elseif owner ~= ARGV[1] then
    table.insert(taken, ARGV[i])
  end
end
return {taken, redis.call('HKEYS', KEYS[1])})";

// Every second, on every server: a server whose alive key expired (or ARGV[3], a server that
// stops cleanly) is taken out of the room, and each of its people announced as gone.
constexpr const char* kReap = R"(
local gone = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  if id == ARGV[3] or redis.call('EXISTS', ARGV[1] .. id) == 0 then
    table.insert(gone, id)
    redis.call('SREM', KEYS[2], id)
  end
end
if #gone == 0 then return {} end
local reaped = {}
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  for _, id in ipairs(gone) do
    if all[i + 1] == id then
      redis.call('HDEL', KEYS[1], all[i])
      redis.call('PUBLISH', ARGV[2], cjson.encode({type = 'LOGOUT', name = all[i], server = id}))
      table.insert(reaped, all[i])
    end
  end
end
return {gone, reaped})";

// The tick: this server is alive (its key renewed), unless the others took it for dead
// meanwhile (it was silent too long and was reaped): then 0, and it joins the room again.
// Then the reaping above. ARGV[4] is this server, ARGV[5] its key's time to live.
const std::string kTick = std::string(R"(
if redis.call('SISMEMBER', KEYS[2], ARGV[4]) == 0 then return 0 end
redis.call('SET', ARGV[1] .. ARGV[4], '1', 'PX', ARGV[5]))") + kReap;

std::vector<std::string> strings_of(const redisReply* r) {
    std::vector<std::string> out;
    if (!r || r->type != REDIS_REPLY_ARRAY) return out;
    for (std::size_t i = 0; i < r->elements; ++i)
        if (r->element[i]->type == REDIS_REPLY_STRING) out.push_back(reply_text(r->element[i]));
    return out;
}

// Names, or servers' ids (up to 64 characters: "127.0.0.1:8080-laptop-4242-<16 hex digits>").
std::string joined(const std::vector<std::string>& names, std::size_t max_chars = 20) {
    std::string s;
    for (const auto& n : names) s += (s.empty() ? "" : ", ") + print::printable(n, max_chars);
    return s;
}

}  // namespace

std::string check_redis(const RedisAddress& a, std::chrono::milliseconds timeout) {
    BlockingRedis r(a, timeout);
    if (!r.c || r.c->err) return r.error();
    auto* reply = static_cast<redisReply*>(redisCommand(r.c, "PING"));
    if (!reply) return r.error();
    std::string answer = reply->type == REDIS_REPLY_STATUS ? reply_text(reply) : "an unexpected answer: " + reply_text(reply);
    freeReplyObject(reply);
    return answer == "PONG" ? std::string() : answer;
}

// ---- one hiredis connection on the loop: hiredis says when it wants to read or write (its
// adapter hooks), the loop says when the socket is ready, hiredis does the reading and writing.

class RedisLink final : public net::Watcher {
public:
    RedisLink(net::Loop& loop, const RedisAddress& a, std::function<void(std::string)> on_lost)
        : loop_(loop), on_lost_(std::move(on_lost)) {
        ac_ = redisAsyncConnect(a.host.c_str(), a.port);
        if (!ac_) throw std::bad_alloc();
        if (ac_->err) {
            error_ = ac_->errstr;
            redisAsyncFree(ac_);
            ac_ = nullptr;
            return;
        }
        ac_->data = this;
        ac_->ev.data = this;
        ac_->ev.addRead = [](void* d) { static_cast<RedisLink*>(d)->want(EPOLLIN, true); };
        ac_->ev.delRead = [](void* d) { static_cast<RedisLink*>(d)->want(EPOLLIN, false); };
        ac_->ev.addWrite = [](void* d) { static_cast<RedisLink*>(d)->want(EPOLLOUT, true); };
        ac_->ev.delWrite = [](void* d) { static_cast<RedisLink*>(d)->want(EPOLLOUT, false); };
        ac_->ev.cleanup = [](void* d) { static_cast<RedisLink*>(d)->cleaned_up(); };
        redisAsyncSetConnectCallback(ac_, [](const redisAsyncContext* c, int status) {
            if (status != REDIS_OK) static_cast<RedisLink*>(c->data)->gone(c->errstr);
        });
        redisAsyncSetDisconnectCallback(ac_, [](const redisAsyncContext* c, int status) {
            static_cast<RedisLink*>(c->data)->gone(status == REDIS_OK ? "closed" : c->errstr);
        });
    }
    ~RedisLink() {
        if (ac_) redisAsyncFree(ac_);  // its callbacks run now, with no reply
    }
    RedisLink(const RedisLink&) = delete;
    RedisLink& operator=(const RedisLink&) = delete;

    redisAsyncContext* context() const { return ac_; }
    const std::string& error() const { return error_; }

private:
    void want(std::uint32_t event, bool on) {
        std::uint32_t events = on ? (events_ | event) : (events_ & ~event);
        if (events == events_ && watched_) return;
        events_ = events;
        try {  // called from inside hiredis (C): nothing may be thrown through it
            if (!watched_) {
                loop_.watch(ac_->c.fd, events_, *this);
                watched_ = true;
            } else {
                loop_.modify(ac_->c.fd, events_, *this);
            }
        } catch (const std::exception& e) {
            gone(e.what());
        }
    }
    void cleaned_up() {
        // hiredis frees the context after this: the loop forgets its socket first.
        if (watched_) loop_.unwatch(ac_->c.fd);
        watched_ = false;
        ac_ = nullptr;
    }
    void gone(std::string why) {
        if (reported_) return;
        reported_ = true;
        error_ = why;
        // Told after this turn: hiredis is still inside its own code here.
        loop_.defer([lost = on_lost_, why] { lost(why); });
    }
    void on_ready(std::uint32_t events) override {
        if (ac_ && (events & (EPOLLIN | EPOLLHUP | EPOLLERR))) redisAsyncHandleRead(ac_);
        if (ac_ && (events & EPOLLOUT)) redisAsyncHandleWrite(ac_);  // ac_ is gone if the read freed it
    }

    net::Loop& loop_;
    std::function<void(std::string)> on_lost_;
    redisAsyncContext* ac_ = nullptr;
    std::uint32_t events_ = 0;
    bool watched_ = false;
    bool reported_ = false;
    std::string error_;
};

// ---- the bus

RedisBus::RedisBus(net::Loop& loop, RedisBusOptions options, std::string server)
    : loop_(loop), options_(std::move(options)), server_(std::move(server)), channel_(key("events")) {}

RedisBus::~RedisBus() { stop(); }

void RedisBus::start(std::function<void()> on_whole) {
    on_whole_ = std::move(on_whole);
    connect();
}

void RedisBus::stop() {
    state_ = State::stopped;
    loop_.cancel(*this);
    sub_.reset();
    cmd_.reset();
}

void RedisBus::connect() {
    state_ = State::connecting;
    deadline_ = loop_.now() + options_.answer_timeout;
    loop_.arm(*this, deadline_);
    auto on_lost = [this](std::string why) { lost(because("lost Redis {}: {}", options_.redis.str(), why)); };
    sub_ = std::make_unique<RedisLink>(loop_, options_.redis, on_lost);
    cmd_ = std::make_unique<RedisLink>(loop_, options_.redis, on_lost);
    if (!sub_->context() || !cmd_->context())
        return loop_.defer([this, why = sub_->context() ? cmd_->error() : sub_->error()] {
            lost(because("Redis {}: {}", options_.redis.str(), why));
        });
    // Subscribed first, then the snapshot: no event published after the snapshot is missed.
    note(trf("→ Redis {}: SUBSCRIBE {}", options_.redis.str(), channel_));
    redisAsyncCommand(
        sub_->context(),
        [](redisAsyncContext*, void* reply, void* bus) { static_cast<RedisBus*>(bus)->on_subscription(static_cast<redisReply*>(reply)); },
        this, "SUBSCRIBE %b", channel_.data(), channel_.size());
}

namespace {
struct PendingCommand {
    RedisBus* bus;
    std::size_t* unanswered;
    std::size_t* unanswered_bytes;
    std::size_t bytes;
    bool (*stopped)(const RedisBus*);
    std::function<void(redisReply*)> done;
};
}  // namespace

void RedisBus::command(std::vector<std::string> args, std::function<void(redisReply*)> done) {
    redisAsyncContext* ac = cmd_ ? cmd_->context() : nullptr;
    if (!ac || state_ == State::split || state_ == State::stopped) {
        if (done) done(nullptr);
        return;
    }
    std::size_t bytes = 0;
    for (const auto& a : args) bytes += a.size();
    if (unanswered_ >= options_.max_unanswered || unanswered_bytes_ + bytes > options_.max_unanswered_bytes) {
        // Redis is not keeping up (or not answering): what waits for it is bounded.
        if (done) done(nullptr);
        return lost(because("Redis has not answered {} commands ({} KiB)", unanswered_, unanswered_bytes_ / 1024));
    }
    std::vector<const char*> argv;
    std::vector<std::size_t> lengths;
    for (const auto& a : args) {
        argv.push_back(a.data());
        lengths.push_back(a.size());
    }
    auto* call = new PendingCommand{this, &unanswered_, &unanswered_bytes_, bytes,
                                    [](const RedisBus* b) { return b->state_ == State::stopped; }, std::move(done)};
    int rc = redisAsyncCommandArgv(
        ac,
        [](redisAsyncContext*, void* reply, void* p) {
            // Called once per command: with its reply, or with none when the connection goes.
            std::unique_ptr<PendingCommand> call(static_cast<PendingCommand*>(p));
            --*call->unanswered;
            *call->unanswered_bytes -= call->bytes;
            if (call->done && !call->stopped(call->bus)) call->done(static_cast<redisReply*>(reply));
        },
        call, static_cast<int>(argv.size()), argv.data(), lengths.data());
    if (rc != REDIS_OK) {
        std::unique_ptr<PendingCommand> failed(call);
        if (failed->done) failed->done(nullptr);
        return;
    }
    ++unanswered_;
    unanswered_bytes_ += bytes;
}

void RedisBus::claim(const std::string& name, std::function<void(Claim)> done) {
    note(trf("→ Redis: claim {}, PUBLISH its LOGIN if ours (one script: HSETNX, PUBLISH)", print::printable(name, 24)));
    std::string event = chat::room_event_json({chat::RoomEvent::Kind::login, name, {}, server_});
    const std::uint64_t ticket = ++claims_;
    claiming_[name] = ticket;
    command({"EVAL", kClaim, "1", key("names"), name, server_, channel_, event}, [this, name, done, ticket](redisReply* r) {
        // Left (leave()) while Redis was answering: the leave script, sent after, freed it.
        auto asked = claiming_.find(name);
        bool current = asked != claiming_.end() && asked->second == ticket;
        if (current) claiming_.erase(asked);
        if (!r || r->type != REDIS_REPLY_INTEGER) {
            if (r) note(trf("claim {}: Redis answered {}", print::printable(name, 24), print::printable(reply_text(r), 60)));
            return done(Claim::split);
        }
        if (r->integer == 1) {
            if (current) mine_.insert(name);
            return done(Claim::ours);
        }
        note(trf("← Redis: {} is taken (HSETNX found it)", print::printable(name, 24)));
        done(Claim::taken);
    });
}

void RedisBus::leave(const std::string& name) {
    mine_.erase(name);
    claiming_.erase(name);
    note(trf("→ Redis: free {} and PUBLISH its LOGOUT", print::printable(name, 24)));
    command({"EVAL", kLeave, "1", key("names"), name, server_, channel_,
             chat::room_event_json({chat::RoomEvent::Kind::logout, name, {}, server_})});
}

void RedisBus::publish_chat(const std::string& sender, const std::string& message) {
    std::string event = chat::room_event_json({chat::RoomEvent::Kind::chat, sender, message, server_});
    if (log) note(trf("→ Redis: PUBLISH {} {}", channel_, print::bare(event, 60)));
    command({"PUBLISH", channel_, std::move(event)});
}

void RedisBus::on_subscription(redisReply* r) {
    if (state_ == State::stopped || state_ == State::split || leaving_ || !r) return;  // a lost connection is reported by it
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 3 || r->element[0]->type != REDIS_REPLY_STRING) return;
    std::string kind = reply_text(r->element[0]);
    if (kind == "subscribe") {
        note(trf("← Redis: subscribed to {}; asking for the room (the sync script)", channel_));
        state_ = State::syncing;
        deadline_ = loop_.now() + options_.answer_timeout;
        std::vector<std::string> args = {"EVAL", kSync, "2", key("names"), key("servers"), server_, channel_,
                                         key("alive:" + server_), std::to_string(options_.presence_ttl.count())};
        args.insert(args.end(), mine_.begin(), mine_.end());
        command(std::move(args), [this](redisReply* reply) { synced(reply); });
        return;
    }
    if (kind != "message" || r->element[2]->type != REDIS_REPLY_STRING) return;
    std::string payload = reply_text(r->element[2]);
    std::optional<chat::RoomEvent> e = chat::parse_room_event(payload, options_.limits);
    if (!e) return note(trf("← Redis: on {}, not a room event within the limits (ignored): {}", channel_, print::bare(payload, 50)));
    if (log) note(trf("← Redis: {}", print::bare(payload, 80)));
    if (state_ == State::syncing) {
        if (held_.size() >= kMaxHeld) return lost(because("{} events came before the room's snapshot", held_.size()));
        held_.push_back(std::move(*e));  // applied once the snapshot is in
        return;
    }
    if (listener_) listener_->deliver(*e);
}

void RedisBus::synced(redisReply* r) {
    if (state_ != State::syncing) return;
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2)
        return lost(r ? because("the sync script failed: {}", print::bare(reply_text(r), 80)) : because("no answer to the sync script"));
    std::vector<std::string> taken = strings_of(r->element[0]);
    std::vector<std::string> everyone = strings_of(r->element[1]);
    std::sort(everyone.begin(), everyone.end());  // a hash has no order: by name
    for (const auto& name : taken) mine_.erase(name);
    state_ = State::whole;
    tick_answered_ = true;
    backoff_ = std::chrono::milliseconds(0);
    loop_.arm(*this, loop_.now() + options_.tick);
    if (was_whole_)
        note(trf("the room is whole again after {:.1f} s: {} people; what was published meanwhile is lost here",
                         std::chrono::duration<double>(loop_.now() - split_at_).count(), everyone.size()));
    else
        note(trf("in the room on Redis {}: {} people on other servers", options_.redis.str(), everyone.size()));
    was_whole_ = true;
    std::vector<chat::RoomEvent> held = std::move(held_);
    held_.clear();
    if (listener_) {
        listener_->room_whole(everyone, taken);
        for (const auto& e : held) {
            // A LOGIN or LOGOUT of one of our people from before the sync script ran (the
            // others reaping this server, say): the script has made the name ours again since.
            if (e.kind != chat::RoomEvent::Kind::chat && e.server == server_ && mine_.count(e.name)) continue;
            listener_->deliver(e);
        }
    }
    if (on_whole_) on_whole_();
}

void RedisBus::tick() {
    if (silent_) return;
    tick_answered_ = false;
    deadline_ = loop_.now() + options_.answer_timeout;
    command({"EVAL", kTick, "2", key("names"), key("servers"), key("alive:"), channel_, "", server_,
             std::to_string(options_.presence_ttl.count())},
            [this](redisReply* r) { reaped(r); });
}

void RedisBus::reaped(redisReply* r) {
    if (!r) return;
    tick_answered_ = true;
    if (r->type == REDIS_REPLY_ERROR) return note(trf("the presence script failed: {}", print::printable(reply_text(r), 80)));
    if (r->type == REDIS_REPLY_INTEGER && r->integer == 0)
        // Silent too long (a pause, a slow network): the room logged our people out. Join again.
        return lost(because("the other servers took this one for dead (silent for more than {} s)",
                                options_.presence_ttl.count() / 1000.0));
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2) return;  // {}: everyone is alive
    std::vector<std::string> gone = strings_of(r->element[0]), names = strings_of(r->element[1]);
    double silent = options_.presence_ttl.count() / 1000.0;
    std::string people = names.size() == 1 ? tr("1 person") : trf("{} people", names.size());
    note(names.empty() ? trf("presence: {} silent for {} s, so gone: {} logged out", joined(gone, 64), silent, people)
                       : trf("presence: {} silent for {} s, so gone: {} logged out: {}", joined(gone, 64), silent, people,
                             joined(names)));
}

void RedisBus::leave_all() {
    if (silent_) return;
    // The reaping script, on ourselves: every one of our names freed and announced, at once.
    note(mine_.size() == 1 ? tr("→ Redis: this server stops: its 1 person is logged out for the room (the presence script, on itself)")
                           : trf("→ Redis: this server stops: its {} people are logged out for the room (the presence script, on itself)",
                                 mine_.size()));
    left_ += mine_.size();
    mine_.clear();
    claiming_.clear();
    leaving_ = true;  // what comes back now is for the others
    command({"EVAL", kReap, "2", key("names"), key("servers"), key("alive:"), channel_, server_});
}

std::size_t RedisBus::leave_cleanly() {
    stop();
    if (silent_) return 0;
    BlockingRedis r(options_.redis, 2s);
    if (!r.c || r.c->err) return left_;  // the others will notice when the alive key expires
    std::vector<std::string> args = {"EVAL", kReap, "2", key("names"), key("servers"), key("alive:"), channel_, server_};
    std::vector<const char*> argv;
    std::vector<std::size_t> lengths;
    for (const auto& a : args) {
        argv.push_back(a.data());
        lengths.push_back(a.size());
    }
    auto* reply = static_cast<redisReply*>(redisCommandArgv(r.c, static_cast<int>(argv.size()), argv.data(), lengths.data()));
    std::size_t count = reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 ? strings_of(reply->element[1]).size() : 0;
    if (reply) freeReplyObject(reply);
    if (auto* del = static_cast<redisReply*>(redisCommand(r.c, "DEL %s", key("alive:" + server_).c_str()))) freeReplyObject(del);
    // leave_all() sent the same script when the server began to stop: its count, or this one's.
    return std::max(left_, count);
}

void RedisBus::lost(Why why) {
    if (state_ == State::stopped || state_ == State::split) return;
    bool was_whole = state_ == State::whole;
    state_ = State::split;
    held_.clear();
    // The links go after this turn (this may be inside one of their callbacks).
    loop_.defer([this] {
        if (state_ != State::split) return;
        sub_.reset();
        cmd_.reset();
    });
    backoff_ = std::clamp(backoff_ * 2, std::chrono::milliseconds(200), std::chrono::milliseconds(5000));
    if (was_whole) {
        split_at_ = loop_.now();
        note(trf("the room is split: {}; reconnecting", why.shown));
        if (listener_) listener_->room_split(why.wire);
    } else {
        note(trf("{}; trying again in {:.1f} s", why.shown, backoff_.count() / 1000.0));
    }
    loop_.arm(*this, loop_.now() + backoff_);
}

void RedisBus::on_timer() {
    switch (state_) {
        case State::stopped:
            return;
        case State::split:
            return connect();
        case State::connecting:
        case State::syncing:
            if (loop_.now() >= deadline_)
                return lost(because("Redis {} did not answer within {} ms", options_.redis.str(), options_.answer_timeout.count()));
            loop_.arm(*this, deadline_);
            return;
        case State::whole:
            if (!tick_answered_) {
                // The last tick is not answered yet: Redis has until its deadline (a hung Redis,
                // stopped or swapping, still holds the connection open).
                if (loop_.now() >= deadline_)
                    return lost(because("Redis {} did not answer within {} ms", options_.redis.str(), options_.answer_timeout.count()));
                loop_.arm(*this, std::min(deadline_, loop_.now() + options_.tick));
                return;
            }
            tick();
            loop_.arm(*this, loop_.now() + options_.tick);
            return;
    }
}

}  // namespace ws::apps
