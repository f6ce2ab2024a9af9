// A WebSocket server on one thread and an epoll loop: many clients at once, none able to stall
// the others. It joins the pieces below it: each connection is a transport (net/) carrying a
// session (proto/), on the loop (net/); the HTTP phase in front of it serves pages and checks
// the upgrade. What to do with messages is the Handler's business: the echo server (lesson 4)
// and the chat room (lesson 5).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "i18n/i18n.hpp"
#include "net/loop.hpp"
#include "net/socket.hpp"
#include "net/tls.hpp"
#include "net/transport.hpp"
#include "proto/http.hpp"
#include "proto/session.hpp"

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
    std::size_t max_body = 0;                 // bytes of a request body (a POST) a handler may take; 0: none
    std::string index_page = "handshake.html";  // what GET / serves
    std::optional<std::string> html_dir;      // serve pages from this folder instead of the built-in copies
    std::vector<std::string> protocols;       // subprotocols spoken, in preference order
    std::shared_ptr<net::TlsContext> tls;     // wss:// (lesson 7): every connection starts with TLS
    // permessage-deflate (lesson 8). By default the server resets its compressor after every
    // message and asks clients to do the same: one compressed frame then serves every receiver
    // of a broadcast, and an idle connection holds no zlib memory (see lesson 8's README).
    ext::DeflateConfig deflate{.enabled = true, .max_window_bits = 15, .no_context_takeover = true,
                               .ask_peer_no_context_takeover = true, .mem_level = 8, .min_size = 0};
    bool log_connections = false;             // -v: one line per connection event
    std::string log_name;                     // before each connection's number in the log (lesson 10: "A#3")
    FrameLog log_frames = FrameLog::none;     // every frame in and out
    // Where the log's lines go (default: stdout). Lesson 10 holds them back until its servers
    // are announced, so that "listening on" stays the first line.
    std::function<void(std::string)> log_to;
};

class Server;

// One client. The server owns it; the handler sees it between on_open and on_close.
class Connection final : public net::Watcher, public net::Timer, public FrameObserver {
public:
    std::uint64_t id() const { return id_; }
    // True while messages may be sent to it (the handshake is done and no close was sent).
    bool is_open() const { return phase_ == Phase::websocket && session_.is_open(); }
    const Session& session() const { return session_; }
    std::size_t backlog() const { return session_.backlog(); }
    // The subprotocol agreed in the handshake ("" for none).
    std::string_view protocol() const;

    Connection(Server&, std::uint64_t id, net::Fd, const Options&);

private:
    friend class Server;
    enum class Phase : std::uint8_t {
        tls,        // the TLS handshake (wss://), before any HTTP
        http,       // reading the HTTP request
        websocket,  // the session runs (open, or closing: our close sent, waiting for theirs)
        draining,   // done: send what is queued, then half-close and wait for the client's end
        dead,       // socket closed; freed at the end of this loop turn
    };

    void on_ready(std::uint32_t events) override;
    void on_timer() override;
    void on_frame(const FrameHeader&, std::string_view header_bytes, std::string_view payload,
                  bool incoming) override;
    void on_inflated(std::string_view compressed, std::string_view message, bool incoming) override;

    Server& server_;
    std::uint64_t id_;
    net::Transport transport_;
    Session session_;
    // Received bytes not used yet: a request that arrives in pieces (and how far its parser
    // got), or the start of a frame header. Null, so costing 8 bytes, almost always.
    struct Pending {
        std::string bytes;
        http::RequestParser parser;
    };
    std::unique_ptr<Pending> pending_;
    net::Clock::time_point deadline_{};  // of the current phase: handshake, close, pong
    net::Clock::time_point last_seen_{};
    std::uint32_t slot_ = 0;             // where the server keeps it
    Phase phase_ = Phase::http;
    std::uint8_t interest_ = 0;          // EPOLLIN / EPOLLOUT watched now
    bool dirty_ = false;                 // has bytes to write this loop turn
    bool reading_paused_ = false;        // too much queued for this client: not read until it drains
    bool write_shut_ = false;
    bool read_wants_write_ = false;      // TLS: a read (or the handshake) waits for the socket to be writable
    bool write_wants_read_ = false;      // TLS: a write waits for the socket to be readable
    bool notified_open_ = false;         // the handler saw on_open (so it must see on_close)
    bool watched_ = false;               // the handler sees this connection's frames
    bool held_ = false;                  // HTTP: the handler has the request and answers it later (a long poll)
    bool kept_alive_ = false;            // HTTP: answered one request and waits for the next
    std::uint8_t protocol_ = kNoProtocol;  // index into Options::protocols
    static constexpr std::uint8_t kNoProtocol = 0xFF;
};

class Handler {
public:
    virtual ~Handler() = default;
    virtual void on_open(Server&, Connection&) {}
    // The same, with the request that was upgraded (its path and query); calls on_open.
    virtual void on_upgraded(Server& s, Connection& c, const http::Request&) { on_open(s, c); }

    // HTTP beyond pages and /ws (lesson 9's /socket.io/): a path the handler serves takes
    // requests (GET, POST with a body of at most Options::max_body, OPTIONS) and upgrades.
    virtual bool serves(std::string_view /*path*/) const { return false; }
    // A request for such a path. The handler answers with Server::respond, now or later (a
    // long poll holds it); until then the connection waits.
    virtual void on_request(Server&, Connection&, const http::Request&, std::string_view /*body*/) {}
    // A held request's connection went away (or the server stops) before it was answered.
    virtual void on_request_dropped(Server&, Connection&) {}
    // Before the 101 of any upgrade: an empty string accepts, a complete HTTP response refuses.
    virtual std::string refuse_upgrade(Server&, Connection&, const http::Request&) { return {}; }
    // stop() was called: every WebSocket is about to be sent 1001 (their on_close follows, as
    // each closing handshake ends).
    virtual void on_shutdown(Server&) {}
    // run() is about to return: the loop stops, and the handler lets go of its timers.
    virtual void on_stop(Server&) {}

    virtual void on_message(Server&, Connection&, Opcode type, std::string_view payload) = 0;
    // Every frame of a connection the handler asked to watch (Server::watch_frames), in and out,
    // as its header is read or written; the payload as Receiver's FrameObserver gives it.
    virtual void on_frame(Server&, Connection&, const FrameHeader&, bool /*incoming*/) {}
    // Called once for every connection that was opened, however it ended; code 1006 when the
    // TCP connection dropped without a close frame. Called at the end of the loop turn in which
    // the connection stopped being open, never from inside another handler call.
    virtual void on_close(Server&, Connection&, std::uint16_t /*code*/, std::string_view /*reason*/) {}
};

class Server {
public:
    Server(Options options, Handler& handler);
    ~Server();
    net::Endpoint local() const { return listener_.local(); }
    const Options& options() const { return options_; }

    // Serves until stop() is called, then closes every WebSocket with 1001 and returns.
    void run();
    // Safe from another thread and from a signal handler.
    void stop() { loop_.wake(); }

    // Queues a message to an open connection; it is written at the end of this loop turn,
    // together with the rest. Does nothing once the connection is closing.
    void send(Connection&, Opcode, std::string_view payload);
    // Encodes the frame once and queues it to each connection. A client with more than
    // max_backlog bytes waiting is closed with 1013: it is not reading, and the room goes on.
    void broadcast(std::span<Connection* const> to, Opcode, std::string_view payload);
    // Starts the closing handshake (RFC 6455 §7.1.2).
    void close(Connection&, std::uint16_t code, std::string_view reason);
    // Answers the request a handler holds (Handler::on_request) with a complete HTTP response.
    // With keep_alive the connection then reads its next request; without, it hangs up.
    void respond(Connection&, std::string response, bool keep_alive);
    net::Loop& loop() { return loop_; }
    // From now on the handler's on_frame sees this connection's frames.
    void watch_frames(Connection&);

    std::size_t connection_count() const { return connections_.size(); }
    bool shutting_down() const { return shutting_down_; }

    // "#3 text", with -v; nothing is formatted without it. `format` is a sentence of the
    // catalogue (src/i18n): the log is in the lesson's language.
    bool logging() const { return options_.log_connections; }
    template <class... Args>
    void log(const Connection& c, fmt::format_string<Args...> format, Args&&... args) const {
        if (logging()) log_line(c, fmt::format(fmt::runtime(i18n::tr(i18n::view(format))), std::forward<Args>(args)...));
    }

private:
    friend class Connection;
    struct ListenerWatch final : net::Watcher {
        Server& server;
        explicit ListenerWatch(Server& s) : server(s) {}
        void on_ready(std::uint32_t) override { server.accept_clients(); }
    };
    struct ServerTimer final : net::Timer {
        Server& server;
        explicit ServerTimer(Server& s) : server(s) {}
        void on_timer() override { server.on_server_timer(); }
    };

    void accept_clients();
    void on_readable(Connection&);
    void continue_tls(Connection&);
    void read_once(Connection&, bool pending_only);
    void handle_input(Connection&, std::span<std::uint8_t> bytes);
    void handle_http(Connection&, std::string_view received, bool buffered);
    void upgrade(Connection&, const http::Request&, std::string_view after_head);
    void serve_request(Connection&, const http::Request&, std::string_view received, std::size_t head_size);
    void continue_requests(Connection&);
    Connection* find_connection(std::uint64_t id, std::uint32_t slot);
    std::size_t handle_frames(Connection&, std::span<std::uint8_t> bytes);
    void keep_tail(Connection&, std::string_view tail);
    // After the session reacted to input or was asked to send: flush, hang up, tell the handler.
    void after_session(Connection&);
    void peer_gone(Connection&, std::string_view reason);
    void respond_and_hang_up(Connection&, std::string response);
    void begin_draining(Connection&);
    void notify_closed(Connection&, std::uint16_t code, std::string_view reason);
    void flush(Connection&);
    void settle();
    void update_interest(Connection&);
    void mark_dirty(Connection&);
    void kill(Connection&, std::string_view why);
    void schedule(Connection&);
    void on_connection_timer(Connection&);
    void on_server_timer();
    void begin_shutdown();
    void log_line(const Connection&, std::string_view text) const;
    void log_out(std::string text) const;
    void log_frame(const Connection&, const FrameHeader&, std::string_view header_bytes, std::string_view payload,
                   bool incoming) const;

    Options options_;
    Handler& handler_;
    net::Loop loop_;
    net::Listener listener_;
    ListenerWatch listener_watch_{*this};
    ServerTimer server_timer_{*this};
    std::vector<std::unique_ptr<Connection>> connections_;  // each knows its slot
    std::vector<Connection*> dirty_;
    struct PendingClose {
        Connection* connection;
        std::uint16_t code;
        std::string reason;
    };
    std::vector<PendingClose> pending_closes_;  // on_close calls not yet made
    std::vector<Connection*> dead_;
    std::vector<std::uint8_t> read_buffer_;
    SharedStreams shared_streams_;  // the compressors of connections that reset after every message
    std::uint64_t next_id_ = 1;
    bool settle_scheduled_ = false;
    bool shutting_down_ = false;
    bool accept_paused_ = false;
    net::Clock::time_point shutdown_deadline_{};
    net::Clock::time_point accept_resume_{};
    net::Clock::time_point last_fd_warning_{};
};

// Ctrl-C and SIGTERM call server.stop(); SIGPIPE is ignored (writes use MSG_NOSIGNAL anyway).
void stop_on_signals(Server&);

}  // namespace ws::server
