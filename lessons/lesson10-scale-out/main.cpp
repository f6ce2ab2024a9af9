// Lesson 10: one room, many servers. Lesson 5's chat room on several servers at once, joined
// through Redis pub/sub: every event is published to the room's channel and every server, the
// sender's own included, delivers it to its clients when Redis hands it back. The new code for
// this lesson is in src/apps/redis_bus.cpp (hiredis on the server's epoll loop, the scripts
// that claim names and notice dead servers), src/apps/room_bus.hpp (the bus under the room)
// and src/apps/chat_room.cpp (the room, which no longer knows how many servers there are).
#include <cctype>
#include <chrono>
#include <future>
#include <list>
#include <mutex>
#include <optional>
#include <thread>

#include <fmt/format.h>
#include <openssl/rand.h>
#include <unistd.h>

#include "apps/chat_room.hpp"
#include "apps/redis_bus.hpp"
#include "apps/redis_process.hpp"
#include "client/client.hpp"
#include "net/signals.hpp"
#include "net/socket.hpp"
#include "i18n/i18n.hpp"
#include "print/print.hpp"
#include "proto/chat.hpp"
#include "proto/random.hpp"
#include "server/lesson_cli.hpp"
#include "server/ws_server.hpp"

using namespace ws;
using namespace std::chrono_literals;

namespace {

// A server's name in Redis: unique among every server that ever uses the room (two students'
// laptops may both listen on 127.0.0.1:8080, with the same --seed): where it listens, the
// machine, the process and 8 random bytes from OpenSSL (never from --seed).
std::string server_id(const server::Server& srv) {
    std::array<unsigned char, 8> tag{};
    if (RAND_bytes(tag.data(), static_cast<int>(tag.size())) != 1) throw std::runtime_error(trs("OpenSSL's RAND_bytes failed"));
    std::array<char, 64> host{};
    if (::gethostname(host.data(), host.size() - 1) != 0) host[0] = '\0';
    std::string machine;  // a name as it is in a hostname: letters, digits, '.', '-'
    for (const char* c = host.data(); *c && machine.size() < 24; ++c)
        machine += std::isalnum(static_cast<unsigned char>(*c)) || *c == '.' || *c == '-' ? *c : '_';
    std::string hex;
    for (unsigned char b : tag) hex += fmt::format("{:02x}", b);
    return fmt::format("{}-{}-{}-{}", srv.local().str(), machine, ::getpid(), hex);
}

// One chat server of the room: lesson 5's server and room, the room on a Redis bus. Its name
// on the bus is where it listens and a tag (a port may be used again by the next server).
struct Node {
    std::string name;  // A, B, … in the log
    apps::ChatRoom room;
    server::Server srv;
    apps::RedisBus bus;
    std::thread thread;
    std::promise<void> joined;
    bool told = false;

    Node(std::string n, const server::Options& options, chat::Limits limits, apps::RedisBusOptions redis)
        : name(std::move(n)), room(limits), srv(options, room), bus(srv.loop(), std::move(redis), server_id(srv)) {
        room.use_bus(bus);
    }
    ~Node() {
        if (!thread.joinable()) return;
        srv.stop();
        thread.join();
    }
    // Serves on its own thread; returns once the room is joined (or throws after `patience`).
    void start(std::chrono::milliseconds patience) {
        std::future<void> in = joined.get_future();
        bus.start([this] {
            if (told) return;
            told = true;
            joined.set_value();
        });
        thread = std::thread([this] {
            try {
                srv.run();
            } catch (const std::exception& e) {
                print::err(trf("error: server {} stopped: {}", name, e.what()));
            }
        });
        if (in.wait_for(patience) != std::future_status::ready)
            throw std::runtime_error(trf("server {} could not join the room on Redis within {} s", name,
                                                 std::chrono::duration<double>(patience).count()));
    }
    // Stops serving (1001 to its clients) and says goodbye to Redis: its people are logged out
    // for the other servers at once. Returns how many.
    std::size_t stop() {
        srv.stop();
        if (thread.joinable()) thread.join();
        return bus.leave_cleanly();
    }
};

std::vector<server::Server*> g_servers;  // for the stop signals

// ---- --demo

// What the servers' buses said, kept for the demo to show at the right moment.
struct Heard {
    std::mutex mutex;
    std::vector<std::pair<std::string, std::string>> lines;  // (server, line)
    void add(const std::string& who, std::string_view line) {
        std::lock_guard lock(mutex);
        lines.emplace_back(who, std::string(line));
    }
    std::vector<std::string> take(const std::string& who, std::string_view containing) {
        std::lock_guard lock(mutex);
        std::vector<std::string> out;
        for (auto& [w, l] : lines)
            if (w == who && l.find(containing) != std::string::npos) out.push_back(l);
        return out;
    }
    void clear() {
        std::lock_guard lock(mutex);
        lines.clear();
    }
};

// How a bus's log line begins, in the lesson's language: its sentence up to the first {}.
std::string opening(std::string_view sentence) {
    std::string s = tr(sentence);
    return s.substr(0, s.find("{}"));
}

// -v: what the buses say before the servers are announced waits until they are (a server's
// first line is "listening on …").
struct Early {
    std::mutex mutex;
    bool opened = false;
    std::vector<std::string> kept;
    void print(std::string line) {
        std::lock_guard lock(mutex);
        if (opened) print::out(line);
        else kept.push_back(std::move(line));
    }
    void open() {
        std::lock_guard lock(mutex);
        opened = true;
        for (auto& line : kept) print::out(line);
        kept.clear();
    }
};

struct Bot {
    std::string name;
    std::string server;
    Client client;
};

void say(const std::string& what) { print::part(what); }

std::optional<std::string> next_text(Bot& bot, std::chrono::milliseconds wait) {
    Received m = bot.client.receive(wait);
    if (m.kind == Event::Kind::message) return m.payload;
    return std::nullopt;
}

void expect(Bot& bot, int count, std::chrono::milliseconds wait = 5s) {
    for (int i = 0; i < count; ++i) {
        auto m = next_text(bot, wait);
        print::out(print::fit(trf("  {:<6} on {} sees  {}", bot.name, bot.server, m ? chat::screen_line(*m) : tr("(nothing arrived)")), 100) +
                   "\n");
    }
}

int demo(std::list<Node>& nodes, apps::RedisProcess& redis, Heard& heard, Random& random) {
    Node& a = nodes.front();
    Node& b = nodes.back();
    auto join = [&](const std::string& name, Node& node) {
        return Bot{name, node.name, Client("127.0.0.1", node.srv.local().port, "/ws", random)};
    };
    say(tr("Redis, and two chat servers subscribed to the room's channel"));
    print::out(trf("  Redis     redis-server on 127.0.0.1:{} (started for this demo; it saves nothing)\n", redis.port()));
    for (Node& n : nodes)
        print::out(trf("  server {}  ws://{}/ws   SUBSCRIBE {}\n", n.name, n.srv.local().str(), n.bus.channel()));

    say(tr("alice logs in on server A, bob on server B: one room"));
    Bot alice = join("alice", a);
    alice.client.send_text(chat::client_login_json("alice"));
    expect(alice, 2);
    Bot bob = join("bob", b);
    bob.client.send_text(chat::client_login_json("bob"));
    expect(bob, 2);  // USERS holds alice, who is on the other server
    expect(alice, 1);

    say(tr("follow one message: alice → server A → PUBLISH → Redis → server B → bob"));
    heard.clear();
    const std::string text = "hello from server A";
    alice.client.send_text(chat::client_chat_json(text));
    auto to_bob = next_text(bob, 5s);
    auto to_alice = next_text(alice, 5s);
    std::this_thread::sleep_for(100ms);  // the log lines of both servers are in
    print::out(fmt::format("  alice  → A       {}\n", chat::client_chat_json(text)));
    for (const auto& line : heard.take(a.name, "PUBLISH")) print::out(print::fit(fmt::format("  A      {}", line), 100) + "\n");
    for (Node* n : {&b, &a})
        for (const auto& line : heard.take(n->name, opening("← Redis: {}") + "{\"type\":\"CHAT\""))
            print::out(print::fit(fmt::format("  {}      {}", n->name, line), 100) + "\n");
    print::out(fmt::format("  B      → bob     {}\n", to_bob ? print::bare(*to_bob, 60) : tr("(nothing arrived)")));
    print::out(fmt::format("  A      → alice   {}\n", to_alice ? print::bare(*to_alice, 60) : tr("(nothing arrived)")));
    print::out(tr("  Server A did not send alice's message to alice itself: it waited for Redis to hand it\n"
               "  back, like every server. Every client on every server sees the room in Redis's one order.\n"));

    say(tr("a name belongs to the room, not to one server"));
    Bot carol = join("carol", b);
    carol.client.send_text(chat::client_login_json("alice"));
    expect(carol, 1);
    print::out(tr("  B knew alice from the room's events. Two people asking two servers for one new name at the\n"
               "  same moment are settled by Redis: the claim is one script (HSETNX, then PUBLISH); one wins.\n"));

    say(tr("server B dies without a word (as with kill -9): A notices when B's alive key expires"));
    auto died = std::chrono::steady_clock::now();
    b.bus.go_silent();  // no more renewals, no goodbye: to Redis and to A, B is gone
    b.srv.stop();
    b.thread.join();
    auto gone = next_text(alice, 10s);
    print::out(trf("  alice  on A sees  {}   ({:.1f} s later)\n", gone ? chat::screen_line(*gone) : tr("(nothing arrived)"),
                           std::chrono::duration<double>(std::chrono::steady_clock::now() - died).count()));
    // Wrapped, not cut: who was logged out comes last, after the server's long name.
    for (const auto& line : heard.take(a.name, opening("presence: {} silent for {} s, so gone: {} logged out: {}")))
        print::out("  A      " + print::hanging(line, 9) + "\n");

    say(tr("Redis restarts, empty: A is cut off, tells its clients, reconnects and joins again"));
    redis.restart();
    expect(alice, 1);  // the split
    expect(alice, 1, 10s);  // the room, afresh
    alice.client.send_text(chat::client_chat_json("still here?"));
    expect(alice, 1);
    print::out(tr("  What pub/sub does not keep: a message published while a server is cut off never reaches\n"
               "  that server's clients (at most once), and Redis kept no names (A registered alice again).\n"));

    say(tr("the end: server A stops; every client gets close 1001"));
    a.srv.stop();
    Received last = alice.client.receive(5s);
    print::out(trf("  alice  on A sees  close {} ({})\n", last.code, close_code_name(last.code)));
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    i18n::choose(argc, argv);  // before any sentence is made, --help's too
    CLI::App app{trs("Lesson 10: one room, many servers. Lesson 5's chat room on several servers at once, joined\n"
                 "through Redis pub/sub: one order for everyone, names unique across servers, dead servers noticed.")};
    lesson::Common common;
    lesson::ChatServer chat;
    std::string redis_text, room = "chat";
    int servers = 1;
    lesson::add_chat_server_options(app, common, chat);
    app.add_option("--redis", redis_text, trs("Redis to use, HOST:PORT (default: start redis-server on a free port, stop it at the end)"));
    app.add_option("--servers", servers, trs("chat servers to start in this process, on --port, --port+1, … (for a class)"))
        ->check(CLI::Range(1, 16))
        ->capture_default_str();
    app.add_option("--room", room, trs("the room's name in Redis (ws:ROOM:…): servers with the same Redis and room share it"))
        ->capture_default_str();
    lesson::add_output_options(app, common, trs("-v: each connection event and the Redis side (PUBLISH, each message back, presence); -vv: every frame"));

    return lesson::run(app, argc, argv, [&]() -> int {
        lesson::apply(common);
        if (common.demo && !redis_text.empty()) throw std::runtime_error(trs("--demo starts its own Redis: leave out --redis"));
        lesson::ServerTls tls = lesson::apply_chat_server_options(common, chat);
        const server::Options& options = chat.options;
        net::raise_open_file_limit();
        if (common.demo) servers = 2;

        // Redis first: the one given, which must answer now, or one of our own.
        std::optional<apps::RedisProcess> own_redis;
        apps::RedisBusOptions bus_options;
        bus_options.room = room;
        bus_options.limits = chat.limits;
        if (!redis_text.empty()) {
            bus_options.redis = apps::parse_redis_address(redis_text);
            if (std::string problem = apps::check_redis(bus_options.redis, 2s); !problem.empty())
                throw std::runtime_error(trf("cannot reach Redis at {}: {} (start it, or leave out --redis and this "
                                                     "lesson starts its own redis-server)",
                                                     bus_options.redis.str(), problem));
        } else {
            own_redis.emplace();
            bus_options.redis = {"127.0.0.1", own_redis->port()};
        }

        Random random(common.seed);
        Heard heard;
        Early early;
        std::list<Node> nodes;  // a list: a Node never moves (its server and loop are in use)
        for (int i = 0; i < servers; ++i) {
            server::Options o = options;
            o.log_to = [&early](std::string line) { early.print(std::move(line)); };
            o.port = common.demo || common.port == 0 ? 0 : static_cast<std::uint16_t>(common.port + i);
            std::string name(1, static_cast<char>('A' + i));
            o.log_name = servers > 1 ? name : "";
            nodes.emplace_back(name, o, chat.limits, bus_options);
        }
        for (Node& n : nodes) {
            if (common.demo || common.verbose >= 1) {
                const std::string tag = servers > 1 ? n.name + " redis" : "redis";
                n.bus.log = [&heard, &early, who = n.name, tag, demo = common.demo, verbose = common.verbose](std::string_view line) {
                    if (demo) heard.add(who, line);
                    if (verbose >= 1)
                        early.print(print::paint(tag, print::Style::cyan) + " " + print::fit(std::string(line), 99 - tag.size()) + "\n");
                };
            }
            g_servers.push_back(&n.srv);
        }
        // The servers go with `nodes`: from then on (however this ends) a stop signal does nothing.
        struct ForgetSignals {
            ~ForgetSignals() { net::forget_stop_signals(); }
        } forget_signals;
        net::call_on_stop_signals([] {
            for (server::Server* s : g_servers) s->stop();
        });
        for (Node& n : nodes) n.start(10s);

        const std::string_view scheme = tls.page_scheme();
        print::out(fmt::format("listening on {}://{}/\n", scheme, nodes.front().srv.local().str()));
        for (auto n = std::next(nodes.begin()); n != nodes.end(); ++n)
            print::out(trf("also listening on {}://{}/ (server {})\n", scheme, n->srv.local().str(), n->name));
        print::out(trf("Redis {}{}, room \"{}\"\n", bus_options.redis.str(),
                               own_redis ? tr(" (redis-server started by this lesson, stopped with it)") : "", room));
        print::out(tls.story);
        early.open();

        int rc = 0;
        if (common.demo) {
            print::out(tr("Bots on two servers chat through Redis; each line is what a bot's page would show.\n\n"));
            try {
                rc = demo(nodes, *own_redis, heard, random);
            } catch (...) {
                for (Node& n : nodes) n.stop();
                throw;
            }
        } else {
            std::string a = fmt::format("{}://{}/", scheme, nodes.front().srv.local().str());
            std::string b = fmt::format("{}://{}/", scheme, nodes.back().srv.local().str());
            print::out(trf("Open {}?name=alice and {}?name=bob:\n{}; one room.\n"
                                   "(another server: lesson10-scale-out --redis {} --port N)\n",
                                   a, b, servers > 1 ? trf("{} servers", servers) : tr("the same server, until you start another"),
                                   bus_options.redis.str()));
            for (Node& n : nodes) n.thread.join();  // until a signal stops them all
        }
        std::size_t left = 0;
        for (Node& n : nodes) left += n.stop();
        if (!common.demo)
            print::out(trf("stopped: every client was sent close 1001; Redis was told {} left\n",
                                   left == 1 ? tr("1 person") : trf("{} people", left)));
        return rc;
    });
}
