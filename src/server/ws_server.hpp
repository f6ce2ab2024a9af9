// A WebSocket server on one thread and an epoll loop: many clients at once, none able to stall
// the others. It joins the pieces below it: sockets (net/), the request parser and handshake
// checks, the frame receiver (proto/), and the printers for -v/-vv (print/). What to do with
// messages is the Handler's business: the echo server (lesson 4) and the chat room (lesson 5).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "net/event_loop.hpp"
#include "net/socket.hpp"
#include "proto/http.hpp"
#include "proto/receiver.hpp"

namespace ws::server {

enum class FrameLog { none, summary, diagram };

// Every limit is a setting, shown in the lessons' --help.
struct Options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 8080;
    ReceiverLimits limits;                    // max message size (1009 above it)
    http::Limits http_limits;                 // max request head size and header count
    std::size_t max_backlog = 4 * 1024 * 1024;  // bytes queued for one client before it counts as not reading
    std::chrono::milliseconds handshake_timeout{10'000};  // to send a complete request
    std::chrono::milliseconds close_timeout{3'000};       // to answer our close frame / hang up
    std::chrono::milliseconds ping_interval{0};           // keep-alive ping after this much silence; 0: off
    std::string ws_path;                      // the path that upgrades; empty: any path
    std::string index_page = "handshake.html";  // what GET / serves
    std::optional<std::string> html_dir;      // serve pages from this folder instead of the built-in copies
    std::vector<std::string> protocols;       // subprotocols spoken, in preference order
    bool log_connections = false;             // -v: one line per connection event
    FrameLog log_frames = FrameLog::none;     // every frame in and out
};

class Server;

// One client. The server owns it; the handler sees it between on_open and on_close.
struct Connection {
    enum class State : std::uint8_t {
        http,      // reading the HTTP request
        open,      // WebSocket messages flow both ways
        closing,   // we sent a close frame and wait for the client's
        draining,  // done: send what is queued, then hang up
        dead,      // socket closed; freed after this loop turn
    };

    std::uint64_t id = 0;
    net::Fd fd;
    State state = State::http;
    bool notified_open = false;   // the handler saw on_open (so it must see on_close)
    bool dirty = false;           // has bytes to write this loop turn
    bool reading_paused = false;  // too much queued for this client: stop reading until it drains
    bool ping_outstanding = false;
    bool write_shut = false;
    std::uint32_t interest = 0;   // the epoll events watched now
    std::string in;               // received bytes not consumed yet (usually empty)
    std::string out;              // bytes waiting to be written (empty, unallocated, when idle)
    std::size_t out_sent = 0;
    net::Clock::time_point deadline{};   // of the current state (handshake, close, pong)
    net::Clock::time_point last_seen{};
    http::RequestParser parser;
    Receiver receiver;

    Connection(std::uint64_t id, net::Fd fd, const Options& o)
        : id(id), fd(std::move(fd)), parser(o.http_limits), receiver(Role::server, o.limits) {}
    std::size_t backlog() const { return out.size() - out_sent; }
};

class Handler {
public:
    virtual ~Handler() = default;
    virtual void on_open(Server&, Connection&) {}
    virtual void on_message(Server&, Connection&, Opcode type, std::string_view payload) = 0;
    // Called once for every connection that was opened, however it ended; code 1006 when the
    // TCP connection dropped without a close frame. Called at the end of the loop turn in which
    // the connection stopped being open, never from inside another handler call.
    virtual void on_close(Server&, Connection&, std::uint16_t /*code*/, std::string_view /*reason*/) {}
};

class Server {
public:
    Server(Options options, Handler& handler);
    net::Endpoint local() const { return listener_.local(); }
    const Options& options() const { return options_; }

    // Serves until stop() is called, then closes every WebSocket with 1001 and returns.
    void run();
    // Safe from another thread and from a signal handler.
    void stop() { waker_.wake(); }

    // Queues one frame to an open connection; it is written at the end of this loop turn,
    // together with the rest. Does nothing once the connection is closing.
    void send(Connection&, Opcode, std::string_view payload);
    // Encodes the frame once and queues it to each connection. A client with more than
    // max_backlog bytes waiting is closed with 1013: it is not reading, and the room goes on.
    void broadcast(std::span<Connection* const> to, Opcode, std::string_view payload);
    // Starts the closing handshake (RFC 6455 §7.1.2).
    void close(Connection&, std::uint16_t code, std::string_view reason);

    std::size_t connection_count() const { return connections_.size(); }
    bool shutting_down() const { return shutting_down_; }
    void log(const Connection&, std::string_view text) const;  // "#3 text", when -v

private:
    void accept_clients();
    void on_readable(Connection&);
    void handle_http(Connection&);
    std::size_t handle_frames(Connection&, std::span<std::uint8_t> bytes);
    void queue_frame(Connection&, Opcode, std::string_view payload);
    // Queues our close frame and leaves the open state; the handler hears of it in settle().
    void send_close(Connection&, std::uint16_t code, std::string_view payload, std::string_view reason);
    void peer_closed(Connection&, std::uint16_t code, std::string_view reason);
    void fail(Connection&, std::uint16_t code, std::string_view reason);
    void respond_and_hang_up(Connection&, std::string response);
    void begin_draining(Connection&);
    void notify_closed(Connection&, std::uint16_t code, std::string_view reason);
    void flush(Connection&);
    void flush_dirty();
    void settle();
    void update_interest(Connection&);
    void mark_dirty(Connection&);
    void kill(Connection&, std::string_view why);
    void check_timers();
    void begin_shutdown();
    void log_frame(const Connection&, const FrameHeader&, std::string_view header_bytes,
                   std::string_view payload, bool incoming) const;

    Options options_;
    Handler& handler_;
    net::Listener listener_;
    net::Epoll epoll_;
    net::Waker waker_;
    std::unordered_map<std::uint64_t, std::unique_ptr<Connection>> connections_;
    std::vector<Connection*> dirty_;
    struct PendingClose {
        Connection* connection;
        std::uint16_t code;
        std::string reason;
    };
    std::vector<PendingClose> pending_closes_;  // on_close calls not yet made
    std::vector<std::uint64_t> dead_;
    std::vector<std::uint8_t> read_buffer_;
    std::uint64_t next_id_ = 1;
    bool shutting_down_ = false;
    bool accept_paused_ = false;
    net::Clock::time_point shutdown_deadline_{};
    net::Clock::time_point accept_resume_{};
    net::Clock::time_point last_fd_warning_{};
};

// Ctrl-C and SIGTERM call server.stop(); SIGPIPE is ignored (writes use MSG_NOSIGNAL anyway).
void stop_on_signals(Server&);

}  // namespace ws::server
