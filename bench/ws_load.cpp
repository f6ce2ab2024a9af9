// ws_load: the project's own load client for `make bench`. One thread, epoll, many WebSocket
// connections. It measures, it does not teach: the lessons' servers are what is measured.
//   ws_load echo --port P --connections 64 --inflight 16 --size 32 --seconds 5
//   ws_load chat --port P --receivers 1000 --inflight 16 --size 64 --seconds 5
//   ws_load idle --port P --connections 10000 --pid SERVER_PID
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <thread>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "net/socket.hpp"
#include "proto/chat.hpp"
#include "proto/receiver.hpp"
#include "server/client.hpp"
#include "server/random.hpp"

using namespace ws;
using Clock = std::chrono::steady_clock;

namespace {

struct Conn {
    net::Fd fd;
    std::string in;
    std::string out;
    Receiver receiver{Role::client, ReceiverLimits{1ull << 30}};
    std::uint64_t received = 0;
    bool is_sender = false;
};

// Connects and upgrades with the project's blocking client (which checks the accept key),
// then takes the socket over, non-blocking, for the epoll loop.
std::unique_ptr<Conn> open_connection(std::uint16_t port, const std::string& path, Random& random) {
    auto c = std::make_unique<Conn>();
    c->fd = Client("127.0.0.1", port, path, random, std::chrono::seconds(10)).take_connection(c->in);
    net::set_non_blocking(c->fd.get());
    return c;
}

std::string masked_frame(Random& random, Opcode op, std::string_view payload) {
    return build_frame({.opcode = static_cast<std::uint8_t>(op), .masked = true, .mask = random.mask_key()}, payload);
}

bool flush(Conn& c) {
    while (!c.out.empty()) {
        ssize_t n = ::send(c.fd.get(), c.out.data(), c.out.size(), MSG_NOSIGNAL);
        if (n > 0) { c.out.erase(0, static_cast<std::size_t>(n)); continue; }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return true;
        return false;
    }
    return true;
}

// Reads what is there and calls on_message for each message; false when the connection ended.
template <class F>
bool drain(Conn& c, std::vector<char>& buffer, F&& on_message) {
    for (;;) {
        ssize_t n = ::recv(c.fd.get(), buffer.data(), buffer.size(), 0);
        if (n == 0) return false;
        if (n < 0) return errno == EAGAIN || errno == EINTR;
        c.in.append(buffer.data(), static_cast<std::size_t>(n));
        std::size_t at = 0;
        for (;;) {
            std::size_t consumed = 0;
            Event e = c.receiver.next(std::span(reinterpret_cast<std::uint8_t*>(c.in.data() + at), c.in.size() - at), consumed);
            at += consumed;
            if (e.kind == Event::Kind::need_more) break;
            if (e.kind == Event::Kind::message) on_message(e.payload);
            if (e.kind == Event::Kind::close || e.kind == Event::Kind::fail) return false;
        }
        c.in.erase(0, at);
        if (static_cast<std::size_t>(n) < buffer.size()) return true;
    }
}

long rss_kib(int pid) {
    std::ifstream status(fmt::format("/proc/{}/status", pid));
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
    return -1;
}

int run_echo(std::uint16_t port, int connections, int inflight, std::size_t size, double seconds) {
    Random random(1);
    net::Fd ep(::epoll_create1(0));
    std::vector<std::unique_ptr<Conn>> conns;
    std::string payload(size, 'x');
    std::string frame = masked_frame(random, Opcode::binary, payload);
    for (int i = 0; i < connections; ++i) {
        conns.push_back(open_connection(port, "/", random));
        Conn& c = *conns.back();
        epoll_event ev{EPOLLIN, {.ptr = &c}};
        ::epoll_ctl(ep.get(), EPOLL_CTL_ADD, c.fd.get(), &ev);
        for (int k = 0; k < inflight; ++k) c.out += frame;
        flush(c);
    }
    std::vector<char> buffer(1 << 20);
    std::vector<epoll_event> events(1024);
    auto start = Clock::now();
    auto warm = start + std::chrono::milliseconds(500);
    auto end = warm + std::chrono::duration<double>(seconds);
    std::uint64_t counted = 0;
    bool counting = false;
    while (Clock::now() < end) {
        int n = ::epoll_wait(ep.get(), events.data(), static_cast<int>(events.size()), 100);
        if (!counting && Clock::now() >= warm) { counting = true; counted = 0; }
        for (int i = 0; i < n; ++i) {
            Conn& c = *static_cast<Conn*>(events[static_cast<std::size_t>(i)].data.ptr);
            std::uint64_t got = 0;
            if (!drain(c, buffer, [&](std::string_view) { ++got; })) throw std::runtime_error("the server closed a connection");
            counted += got;
            for (std::uint64_t k = 0; k < got; ++k) c.out += frame;  // keep `inflight` messages in flight
            if (!flush(c)) throw std::runtime_error("write failed");
            if (!c.out.empty()) throw std::runtime_error("the server stopped reading (send buffer full)");
        }
    }
    double elapsed = std::chrono::duration<double>(Clock::now() - warm).count();
    double rate = static_cast<double>(counted) / elapsed;
    fmt::print("echo: {} connections x {} in flight x {} B: {:.0f} messages/s, {:.1f} MB/s\n", connections, inflight,
               size, rate, rate * static_cast<double>(size) / 1e6);
    return 0;
}

int run_chat(std::uint16_t port, int receivers, int inflight, std::size_t size, double seconds) {
    Random random(2);
    net::Fd ep(::epoll_create1(0));
    std::vector<std::unique_ptr<Conn>> conns;
    std::vector<char> buffer(1 << 20);
    // Everyone logs in; the sender last. Then wait for the join announcements to settle.
    for (int i = 0; i <= receivers; ++i) {
        conns.push_back(open_connection(port, "/ws", random));
        Conn& c = *conns.back();
        c.is_sender = i == receivers;
        c.out = masked_frame(random, Opcode::text, chat::client_login_json(c.is_sender ? "sender" : fmt::format("r{}", i)));
        flush(c);
        epoll_event ev{EPOLLIN, {.ptr = &c}};
        ::epoll_ctl(ep.get(), EPOLL_CTL_ADD, c.fd.get(), &ev);
    }
    std::vector<epoll_event> events(1024);
    auto quiet_until = Clock::now() + std::chrono::milliseconds(500);
    while (Clock::now() < quiet_until) {
        int n = ::epoll_wait(ep.get(), events.data(), static_cast<int>(events.size()), 100);
        if (n > 0) quiet_until = Clock::now() + std::chrono::milliseconds(500);
        for (int i = 0; i < n; ++i) drain(*static_cast<Conn*>(events[static_cast<std::size_t>(i)].data.ptr), buffer, [](auto) {});
    }

    Conn& sender = *conns.back();
    auto t0 = Clock::now();
    auto chat_frame = [&]() {
        auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count();
        std::string text = fmt::format("{:020}", ns);
        text.resize(size, '.');
        return masked_frame(random, Opcode::text, chat::client_chat_json(text));
    };
    for (int k = 0; k < inflight; ++k) sender.out += chat_frame();
    flush(sender);

    std::uint64_t deliveries = 0;
    std::vector<double> latencies;
    auto warm = Clock::now() + std::chrono::milliseconds(500);
    auto end = warm + std::chrono::duration<double>(seconds);
    bool counting = false;
    std::uint64_t sample = 0;
    while (Clock::now() < end) {
        int n = ::epoll_wait(ep.get(), events.data(), static_cast<int>(events.size()), 100);
        auto now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count();
        if (!counting && Clock::now() >= warm) { counting = true; deliveries = 0; latencies.clear(); }
        for (int i = 0; i < n; ++i) {
            Conn& c = *static_cast<Conn*>(events[static_cast<std::size_t>(i)].data.ptr);
            std::uint64_t own = 0;
            bool alive = drain(c, buffer, [&](std::string_view msg) {
                // Only CHAT messages carry a send time; LOGIN/LOGOUT of other clients may still arrive.
                if (msg.rfind("{\"type\":\"CHAT\"", 0) != 0) return;
                auto at = msg.find("\"message\":\"");
                if (at == std::string_view::npos) return;
                if (c.is_sender) { ++own; return; }
                ++deliveries;
                if ((++sample & 63) == 0) {
                    long long sent = std::stoll(std::string(msg.substr(at + 11, 20)));
                    latencies.push_back(static_cast<double>(now_ns - sent) / 1e6);
                }
            });
            if (!alive) throw std::runtime_error("the server closed a connection (a receiver too slow?)");
            // The sender sees its own message once the server has queued it to everyone:
            // then it sends the next, keeping `inflight` in flight.
            for (std::uint64_t k = 0; k < own; ++k) c.out += chat_frame();
            flush(c);
        }
    }
    double elapsed = std::chrono::duration<double>(Clock::now() - warm).count();
    std::sort(latencies.begin(), latencies.end());
    auto pct = [&](double p) { return latencies.empty() ? 0.0 : latencies[static_cast<std::size_t>(p * static_cast<double>(latencies.size() - 1))]; };
    fmt::print("chat: {} receivers, 1 sender, {} in flight x {} B: {:.0f} deliveries/s, latency p50 {:.2f} ms, p99 {:.2f} ms\n",
               receivers, inflight, size, static_cast<double>(deliveries) / elapsed, pct(0.5), pct(0.99));
    return 0;
}

int run_idle(std::uint16_t port, int connections, int pid, const std::string& path) {
    Random random(3);
    long before = rss_kib(pid);
    std::vector<std::unique_ptr<Conn>> conns;
    for (int i = 0; i < connections; ++i) conns.push_back(open_connection(port, path, random));
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    long after = rss_kib(pid);
    fmt::print("idle: {} open connections: server RSS {} KiB → {} KiB, {:.2f} KiB per connection\n", connections, before,
               after, static_cast<double>(after - before) / connections);
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
    auto* idle = app.add_subcommand("idle", "open N idle connections and report the server's memory per connection");
    idle->add_option("--connections", connections);
    idle->add_option("--pid", pid)->required();
    idle->add_option("--path", path);
    app.fallthrough();
    CLI11_PARSE(app, argc, argv);
    net::raise_open_file_limit();
    try {
        if (echo->parsed()) return run_echo(port, connections, inflight, size, seconds);
        if (chat->parsed()) return run_chat(port, receivers, inflight, size, seconds);
        return run_idle(port, connections, pid, path);
    } catch (const std::exception& e) {
        fmt::print(stderr, "error: {}\n", e.what());
        return 1;
    }
}
