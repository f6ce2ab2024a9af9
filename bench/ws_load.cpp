// ws_load: the project's own load client for `make bench`. One thread, the project's epoll loop,
// many WebSocket connections, each a client Session over a Transport: the same protocol code
// the lessons run. It measures, it does not teach: the lessons' servers are what is measured.
//   ws_load echo --port P --connections 64 --inflight 16 --size 32 --seconds 5
//   ws_load chat --port P --receivers 1000 --inflight 16 --size 64 --seconds 5
//   ws_load idle --port P --connections 10000 --pid SERVER_PID
//   ws_load handshakes --port P --pid SERVER_PID --seconds 5
//   --deflate (before the subcommand): offer permessage-deflate; messages are then chat-like text
//   --socketio (before chat): socket.io clients on the WebSocket transport
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <thread>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "client/client.hpp"
#include "net/loop.hpp"
#include "net/transport.hpp"
#include "proto/chat.hpp"
#include "proto/random.hpp"
#include "proto/session.hpp"

using namespace ws;
using Clock = std::chrono::steady_clock;

namespace {

// --tls: every connection is wss:// (the certificate is not checked: the load is the point).
std::shared_ptr<net::TlsContext> g_tls;
// --deflate: every connection offers permessage-deflate (and keeps its own context).
bool g_deflate = false;
// --socketio: chat as a socket.io client on the WebSocket transport (lesson 9, or Node's
// socket.io with bench/socketio_peer.cjs): Engine.IO's open and CONNECT first, then every chat
// message inside 42["message",…], and each ping (2) answered (3).
bool g_socketio = false;

std::string wrap(std::string_view json) {
    if (!g_socketio) return std::string(json);
    return fmt::format("42[\"message\",{}]", json);
}
// The chat message inside what arrived; empty for Engine.IO's own packets.
std::string_view unwrap(std::string_view msg) {
    if (!g_socketio) return msg;
    constexpr std::string_view kEvent = "42[\"message\",";
    if (msg.rfind(kEvent, 0) != 0 || msg.size() < kEvent.size() + 1) return {};
    return msg.substr(kEvent.size(), msg.size() - kEvent.size() - 1);
}

Client dial_client(std::uint16_t port, const std::string& path, Random& random) {
    ClientOptions o;
    o.connect_timeout = o.handshake_timeout = std::chrono::seconds(10);
    o.tls = g_tls;
    o.deflate.enabled = g_deflate;
    return Client(Url{g_tls ? "wss" : "ws", "127.0.0.1", port, path}, random, o);
}

// One connection of the load: a client session on the loop. `on_message` sees each message.
struct Conn final : net::Watcher {
    net::Loop& loop;
    net::Transport transport;
    Session session;
    std::string in;
    std::function<void(Conn&, std::string_view)> on_message;
    bool is_sender = false;
    bool writing = false;

    Conn(net::Loop& l, net::Transport t, Random& random, std::string leftover)
        : loop(l), transport(std::move(t)), session(Role::client, ReceiverLimits{1ull << 30}, &random),
          in(std::move(leftover)) {}

    void on_ready(std::uint32_t events) override {
        if (events & EPOLLOUT) flush();
        if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR))) return;
        static std::vector<std::uint8_t> buffer(1 << 20);
        net::IoResult r = transport.read(buffer.data(), buffer.size());
        for (;;) {
            if (r.status == net::Io::want_read || r.status == net::Io::want_write) break;
            if (r.status != net::Io::done) throw std::runtime_error("the server closed a connection (a receiver too slow?)");
            take(std::span(buffer.data(), r.bytes));
            if (!transport.has_pending()) break;  // TLS: bytes OpenSSL holds wake no epoll
            r = transport.read_pending(buffer.data(), buffer.size());
        }
        flush();
    }

    void take(std::span<std::uint8_t> bytes) {
        if (!in.empty()) {
            in.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
            bytes = std::span(reinterpret_cast<std::uint8_t*>(in.data()), in.size());
        }
        std::size_t used = session.feed(bytes, [&](const Event& e) {
            if (e.kind == Event::Kind::message) on_message(*this, e.payload);
            if (e.kind == Event::Kind::close || e.kind == Event::Kind::fail)
                throw std::runtime_error(fmt::format("the server closed a connection: {} {}", e.code, e.reason));
        });
        std::string tail(reinterpret_cast<const char*>(bytes.data()) + used, bytes.size() - used);
        in = std::move(tail);
    }

    void flush() {
        while (session.has_output()) {
            net::IoResult r = transport.write(session.output());
            if (r.status == net::Io::done && r.bytes > 0) {
                session.wrote(r.bytes);
                continue;
            }
            if (r.status == net::Io::error) throw std::runtime_error("write failed");
            break;
        }
        bool want = session.has_output();
        if (want != writing) {
            writing = want;
            loop.modify(transport.fd(), EPOLLIN | (want ? EPOLLOUT : 0u), *this);
        }
    }
};

// Connects and upgrades with the project's blocking client (which runs every client check),
// then puts the connection on the loop.
std::unique_ptr<Conn> open_connection(net::Loop& loop, std::uint16_t port, const std::string& path, Random& random) {
    Client client = dial_client(port, g_socketio ? "/socket.io/?EIO=4&transport=websocket" : path, random);
    if (g_socketio) {
        // Engine.IO's open packet, then the Socket.IO CONNECT and its answer.
        auto open = client.receive(std::chrono::seconds(10));
        if (open.kind != Event::Kind::message || open.payload.rfind("0{", 0) != 0)
            throw std::runtime_error("--socketio: no Engine.IO open packet");
        client.send_text("40");
        auto connected = client.receive(std::chrono::seconds(10));
        if (connected.kind != Event::Kind::message || connected.payload.rfind("40", 0) != 0)
            throw std::runtime_error("--socketio: no CONNECT answer");
    }
    if (g_deflate && !client.checks().deflate) throw std::runtime_error("--deflate: the server declined permessage-deflate");
    std::optional<ext::DeflateParams> agreed = client.checks().deflate;
    std::string leftover;
    net::Transport t = std::move(client).take(leftover);
    auto c = std::make_unique<Conn>(loop, std::move(t), random, std::move(leftover));
    if (agreed) c->session.use_deflate(std::make_unique<MessageDeflate>(Role::client, *agreed, ext::DeflateConfig{}));
    loop.watch(c->transport.fd(), EPOLLIN, *c);
    return c;
}

// Words, as a chat message has them (all 'x' would compress to nothing and measure nothing).
std::string text_like(std::size_t size) {
    static const std::string_view words = "the quick brown fox jumps over a lazy dog while seven wizards quietly "
                                          "judge boxing matches; pack my box with five dozen liquor jugs. ";
    std::string out;
    for (std::size_t i = 0; out.size() < size; ++i) out += words[(i * 7) % words.size()];
    out.resize(size);
    return out;
}

long proc_status_kib(int pid, std::string_view field) {
    std::ifstream status(fmt::format("/proc/{}/status", pid));
    std::string line;
    while (std::getline(status, line))
        if (line.rfind(field, 0) == 0) return std::stol(line.substr(field.size()));
    return -1;
}

// The CPU time a process has used, user + system.
double cpu_seconds(int pid) {
    std::ifstream stat(fmt::format("/proc/{}/stat", pid));
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    std::istringstream fields(text.substr(text.rfind(')') + 2));
    std::string skip;
    for (int i = 3; i < 14; ++i) fields >> skip;  // fields 3..13
    long utime = 0, stime = 0;
    fields >> utime >> stime;
    return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// Runs the loop for `seconds` after a warm-up of half a second; `reset` is called when the
// counting starts.
void run_for(net::Loop& loop, double seconds, const std::function<void()>& reset) {
    struct Stop final : net::Timer {
        net::Loop& loop;
        std::function<void()> fire;
        explicit Stop(net::Loop& l) : loop(l) {}
        void on_timer() override { fire(); }
    } stop(loop);
    bool counting = false;
    stop.fire = [&] {
        if (!counting) {
            counting = true;
            reset();
            loop.arm(stop, Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds)));
        } else {
            loop.quit();
        }
    };
    loop.arm(stop, Clock::now() + std::chrono::milliseconds(500));
    loop.run();
}

int run_echo(std::uint16_t port, int connections, int inflight, std::size_t size, double seconds) {
    Random random(1);
    net::Loop loop;
    std::vector<std::unique_ptr<Conn>> conns;
    std::string payload = g_deflate ? text_like(size) : std::string(size, 'x');
    std::uint64_t counted = 0;
    for (int i = 0; i < connections; ++i) {
        conns.push_back(open_connection(loop, port, "/", random));
        Conn& c = *conns.back();
        c.on_message = [&](Conn& self, std::string_view) {
            ++counted;
            self.session.send(Opcode::binary, payload);  // keep `inflight` messages in flight
        };
        for (int k = 0; k < inflight; ++k) c.session.send(Opcode::binary, payload);
        c.flush();
    }
    auto start = Clock::now();
    run_for(loop, seconds, [&] { counted = 0; start = Clock::now(); });
    double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    double rate = static_cast<double>(counted) / elapsed;
    fmt::print("echo: {} connections x {} in flight x {} B: {:.0f} messages/s, {:.1f} MB/s\n", connections, inflight,
               size, rate, rate * static_cast<double>(size) / 1e6);
    return 0;
}

// --spread: receivers go round the ports (the sender stays on `port`): servers of one room
// (lesson 10). --cpu-of: the CPU each of those processes used while measuring (redis-server).
int run_chat(std::uint16_t port, int receivers, int inflight, std::size_t size, double seconds,
             const std::vector<std::uint16_t>& spread, const std::vector<int>& cpu_of) {
    Random random(2);
    net::Loop loop;
    std::vector<std::unique_ptr<Conn>> conns;
    auto t0 = Clock::now();
    std::uint64_t deliveries = 0, sample = 0;
    std::vector<double> latencies;
    bool measuring = false;
    auto chat_text = [&]() {
        auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count();
        std::string text = fmt::format("{:020}", ns);
        if (g_deflate) text += text_like(size > 20 ? size - 20 : 0);
        text.resize(size, '.');
        return chat::client_chat_json(text);
    };
    auto on_message = [&](Conn& c, std::string_view packet) {
        if (g_socketio && packet == "2") {
            c.session.send(Opcode::text, "3");  // Engine.IO's heartbeat
            return;
        }
        std::string_view msg = unwrap(packet);
        // Only CHAT messages carry a send time; LOGIN/LOGOUT of other clients may still arrive.
        if (!measuring || msg.rfind("{\"type\":\"CHAT\"", 0) != 0) return;
        auto at = msg.find("\"message\":\"");
        if (at == std::string_view::npos) return;
        if (c.is_sender) {
            // The sender sees its own message once the server has queued it to everyone:
            // then it sends the next, keeping `inflight` in flight.
            c.session.send(Opcode::text, wrap(chat_text()));
            return;
        }
        ++deliveries;
        if ((++sample & 63) == 0) {
            auto now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count();
            long long sent = std::stoll(std::string(msg.substr(at + 11, 20)));
            latencies.push_back(static_cast<double>(now_ns - sent) / 1e6);
        }
    };
    // Everyone logs in; the sender last. Then the join announcements settle.
    std::vector<std::uint16_t> ports = {port};
    ports.insert(ports.end(), spread.begin(), spread.end());
    for (int i = 0; i <= receivers; ++i) {
        std::uint16_t to = i == receivers ? port : ports[static_cast<std::size_t>(i) % ports.size()];
        conns.push_back(open_connection(loop, to, "/ws", random));
        Conn& c = *conns.back();
        c.is_sender = i == receivers;
        c.on_message = on_message;
        c.session.send(Opcode::text, wrap(chat::client_login_json(c.is_sender ? "sender" : fmt::format("r{}", i))));
        c.flush();
    }
    run_for(loop, 0.5, [] {});
    measuring = true;
    Conn& sender = *conns.back();
    for (int k = 0; k < inflight; ++k) sender.session.send(Opcode::text, wrap(chat_text()));
    sender.flush();
    auto start = Clock::now();
    std::vector<double> cpu_before(cpu_of.size());
    run_for(loop, seconds, [&] {
        deliveries = 0;
        latencies.clear();
        start = Clock::now();
        for (std::size_t i = 0; i < cpu_of.size(); ++i) cpu_before[i] = cpu_seconds(cpu_of[i]);
    });
    double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    std::sort(latencies.begin(), latencies.end());
    auto pct = [&](double p) {
        return latencies.empty() ? 0.0 : latencies[static_cast<std::size_t>(p * static_cast<double>(latencies.size() - 1))];
    };
    fmt::print("chat: {} receivers, 1 sender, {} in flight x {} B: {:.0f} deliveries/s, latency p50 {:.2f} ms, p99 {:.2f} ms\n",
               receivers, inflight, size, static_cast<double>(deliveries) / elapsed, pct(0.5), pct(0.99));
    if (ports.size() > 1) fmt::print("      receivers spread over {} servers, the sender on the first\n", ports.size());
    for (std::size_t i = 0; i < cpu_of.size(); ++i)
        fmt::print("      pid {}: {:.0f}% of one core while measuring\n", cpu_of[i],
                   100.0 * (cpu_seconds(cpu_of[i]) - cpu_before[i]) / elapsed);
    return 0;
}

int run_idle(std::uint16_t port, int connections, int pid, const std::string& path, bool talk) {
    Random random(3);
    net::Loop loop;
    long rss_before = proc_status_kib(pid, "VmRSS:");
    std::vector<std::unique_ptr<Conn>> conns;
    for (int i = 0; i < connections; ++i) conns.push_back(open_connection(loop, port, path, random));
    if (talk) {
        // One message each way first: a compressor with context takeover keeps its window after it.
        std::size_t answered = 0;
        for (auto& c : conns) {
            c->on_message = [&](Conn&, std::string_view) { if (++answered == conns.size()) loop.quit(); };
            c->session.send(Opcode::text, text_like(1024));
            c->flush();
        }
        loop.run();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // past the server's 1 s idle release
    long rss_after = proc_status_kib(pid, "VmRSS:");
    long peak_after = proc_status_kib(pid, "VmHWM:");
    fmt::print("idle: {} open connections: server RSS {} → {} KiB ({:.2f} KiB per connection), "
               "peak growth {:.2f} KiB per connection\n",
               connections, rss_before, rss_after, static_cast<double>(rss_after - rss_before) / connections,
               static_cast<double>(peak_after - rss_before) / connections);
    return 0;
}

int run_handshakes(std::uint16_t port, int pid, const std::string& path, double seconds) {
    // One after another: open (the upgrade), close (the closing handshake), TCP ends. What is
    // reported is per second of the server's CPU, so the load client's own time does not count.
    Random random(4);
    auto one = [&] {
        Client client = dial_client(port, path, random);
        Received r = client.close(1000, "");
        if (r.kind != Event::Kind::close) throw std::runtime_error("the server did not answer the close");
    };
    for (int i = 0; i < 200; ++i) one();  // warm-up
    double cpu_before = cpu_seconds(pid);
    auto start = Clock::now();
    std::uint64_t count = 0;
    while (std::chrono::duration<double>(Clock::now() - start).count() < seconds) {
        one();
        ++count;
    }
    double wall = std::chrono::duration<double>(Clock::now() - start).count();
    double cpu = cpu_seconds(pid) - cpu_before;
    fmt::print("handshakes: {} upgrades + closing handshakes in {:.1f} s: {:.0f}/s, {:.0f} per server CPU-second "
               "(server CPU {:.2f} s)\n",
               count, wall, static_cast<double>(count) / wall, cpu > 0 ? static_cast<double>(count) / cpu : 0.0, cpu);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"ws_load: load for the lessons' servers (make bench)"};
    app.require_subcommand(1);
    std::uint16_t port = 8080;
    int connections = 64, inflight = 16, receivers = 1000, pid = 0;
    std::size_t size = 32;
    double seconds = 5;
    std::string path = "/ws";
    app.add_option("--port", port)->required();
    bool tls = false;
    app.add_flag("--tls", tls, "wss:// instead of ws://");
    app.add_flag("--deflate", g_deflate, "offer permessage-deflate (RFC 7692); messages become chat-like text");
    app.add_flag("--socketio", g_socketio, "chat: be socket.io clients on the WebSocket transport (lesson 9)");
    auto* echo = app.add_subcommand("echo", "N connections each keeping K messages in flight");
    echo->add_option("--connections", connections);
    echo->add_option("--inflight", inflight);
    echo->add_option("--size", size);
    echo->add_option("--seconds", seconds);
    auto* chat = app.add_subcommand("chat", "R receivers, one sender keeping K chat messages in flight");
    chat->add_option("--receivers", receivers);
    chat->add_option("--inflight", inflight);
    chat->add_option("--size", size);
    chat->add_option("--seconds", seconds);
    std::vector<std::uint16_t> spread;
    std::vector<int> cpu_of;
    chat->add_option("--spread", spread, "receivers also on these ports (servers of one room: lesson 10)");
    chat->add_option("--cpu-of", cpu_of, "report these processes' CPU while measuring (e.g. redis-server)");
    auto* idle = app.add_subcommand("idle", "open N idle connections and report the server's memory per connection");
    bool talk = false;
    idle->add_flag("--talk", talk, "each connection exchanges one 1 KiB message before it idles (echo servers)");
    idle->add_option("--connections", connections);
    idle->add_option("--pid", pid)->required();
    idle->add_option("--path", path);
    auto* hs = app.add_subcommand("handshakes", "open and close connections one after another: per server CPU-second");
    hs->add_option("--pid", pid)->required();
    hs->add_option("--path", path);
    hs->add_option("--seconds", seconds);
    app.fallthrough();
    CLI11_PARSE(app, argc, argv);
    net::raise_open_file_limit();
    try {
        if (tls) g_tls = net::TlsContext::client("", false);
        if (echo->parsed()) return run_echo(port, connections, inflight, size, seconds);
        if (chat->parsed()) return run_chat(port, receivers, inflight, size, seconds, spread, cpu_of);
        if (hs->parsed()) return run_handshakes(port, pid, path, seconds);
        return run_idle(port, connections, pid, path, talk);
    } catch (const std::exception& e) {
        fmt::print(stderr, "error: {}\n", e.what());
        return 1;
    }
}
