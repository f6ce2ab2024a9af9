// The server side of Engine.IO v4, socket.io's transport, on the WebSocket server: HTTP
// long-polling (a GET held until there is something to say, a POST for what the client says)
// and the upgrade of a polling session to a WebSocket (2probe → 3probe, a noop to the pending
// poll, 5), the heartbeat (ping every pingInterval, a pong within pingTimeout), and clients
// that start on a WebSocket straight away. What the messages mean is the Listener's business:
// lesson 9's socket.io chat (src/apps/socketio_chat.cpp). The packets are src/proto/engineio.
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

#include "proto/engineio.hpp"
#include "proto/random.hpp"
#include "server/ws_server.hpp"

namespace ws::server {

struct EngineIoOptions {
    std::string path = "/socket.io/";
    std::chrono::milliseconds ping_interval{25'000};
    std::chrono::milliseconds ping_timeout{20'000};
    std::size_t max_payload = 1'000'000;       // bytes in one POST body or one WebSocket message
    std::size_t max_sessions = 10'000;         // open sessions; a new one beyond gets 503
    std::optional<std::string> cors_origin;    // a page from this origin may poll (--cors); "*": any
};

class EngineIo;

// Who asked, as far as the answer's headers care: the page's origin (CORS) and keep-alive.
// Kept with a held poll, which is answered later.
struct Asker {
    std::string origin;
    bool keep_alive = true;
};

// One Engine.IO session: a client known by its sid, on long-polling or on a WebSocket.
class EioSocket final : public net::Timer {
public:
    enum class Transport { polling, websocket };
    const std::string& sid() const { return sid_; }
    std::string short_sid() const { return sid_.substr(0, 6); }  // for log lines
    Transport transport() const { return transport_; }
    Connection* websocket() const { return transport_ == Transport::websocket ? ws_ : nullptr; }
    bool is_open() const { return open_ && !closing_; }
    void* user = nullptr;  // the listener's own state for this client

    EioSocket(EngineIo&, std::string sid, Transport);
    ~EioSocket();  // cancelled first: a socket's timer is on the server's loop
    EioSocket(const EioSocket&) = delete;
    EioSocket& operator=(const EioSocket&) = delete;

private:
    friend class EngineIo;
    void on_timer() override;

    EngineIo& engine_;
    std::string sid_;
    Transport transport_;
    bool open_ = true;
    bool closing_ = false;                  // ends after this turn (it stopped polling)
    bool awaiting_pong_ = false;
    bool upgrade_probed_ = false;           // 2probe answered: the pending poll gets a noop
    Connection* poll_ = nullptr;            // the held GET
    Asker poll_asker_;                      // who holds it: the answer's headers
    Connection* ws_ = nullptr;              // the WebSocket (the transport, or the one probed)
    std::vector<eio::Packet> outbox_;       // what the next poll takes
    std::size_t outbox_bytes_ = 0;
    net::Clock::time_point ping_due_{}, pong_due_{};
};

class EngineIoListener {
public:
    virtual ~EngineIoListener() = default;
    virtual void on_open(EioSocket&) {}
    virtual void on_message(EioSocket&, std::string_view data, bool binary) = 0;
    // Once per session that opened; the socket is freed after this returns.
    virtual void on_close(EioSocket&, std::string_view reason) { (void)reason; }
    // A line for the log: what a message packet's data means ("EVENT \"message\" on /").
    virtual std::string describe(std::string_view data, bool binary) const {
        (void)data, (void)binary;
        return {};
    }
};

// The endpoint: every session, reached through the server's Handler calls for its path.
class EngineIo {
public:
    EngineIo(EngineIoOptions, EngineIoListener&, Random&);
    ~EngineIo();
    const EngineIoOptions& options() const { return options_; }

    // Wired in from a server::Handler (lesson 9's): true for requests this endpoint owns.
    bool serves(std::string_view path) const { return path == options_.path; }
    bool owns(const Connection& c) const { return websockets_.count(&c) != 0; }
    void on_request(Server&, Connection&, const http::Request&, std::string_view body);
    void on_request_dropped(Server&, Connection&);
    std::string refuse_upgrade(Server&, Connection&, const http::Request&);
    void on_upgraded(Server&, Connection&, const http::Request&);
    void on_message(Server&, Connection&, Opcode, std::string_view payload);
    void on_close(Server&, Connection&, std::uint16_t code, std::string_view reason);
    void on_stop(Server&);

    // A message packet to one client: at its next poll, or as a WebSocket frame now.
    void send(EioSocket&, std::string_view text);
    // The same message to many: one frame built for every WebSocket among them.
    void broadcast(std::span<EioSocket* const>, std::string_view text);
    // Ends a session (a close packet to the client), telling the listener.
    void close(EioSocket&, std::string_view reason);
    std::size_t size() const { return sockets_.size(); }
    // A line in the log about this client (-v), as the endpoint's own lines look.
    void log(const EioSocket& s, std::string_view text) const { note(s.websocket(), &s, text); }
    bool logging() const { return server_ && server_->logging(); }
    Server* server() const { return server_; }

private:
    friend class EioSocket;
    void on_socket_timer(EioSocket&);
    void poll(Connection&, EioSocket&, Asker);
    void post(Connection&, EioSocket&, std::string_view body, const Asker&);
    void open_session(Connection&, const http::Request&, bool keep_alive);
    void received(EioSocket&, Connection*, const eio::Packet&);
    void queue(EioSocket&, const eio::Packet&);
    void answer_poll(EioSocket&);
    void finish(EioSocket&, std::string_view reason, bool tell_client);
    void arm(EioSocket&);
    std::string new_sid();
    static Asker asker(const http::Request&);
    std::string http_response(int status, std::string_view content_type, std::string_view body, const Asker&) const;
    // `why.wire` goes into the JSON body, `why.shown` into the log.
    void refuse(Connection&, const http::Request&, int status, eio::Refusal, const Why& why, bool keep_alive);
    // Empty when the request may come from its page's origin; else why not.
    Why origin_problem(const http::Request&) const;
    void note(const Connection*, const EioSocket*, std::string_view text) const;
    std::string packet_line(const eio::Packet&) const;

    EngineIoOptions options_;
    EngineIoListener& listener_;
    Random& random_;
    Server* server_ = nullptr;  // known from the first call
    std::unordered_map<std::string, std::unique_ptr<EioSocket>> sockets_;  // by sid
    std::unordered_map<const Connection*, EioSocket*> websockets_;         // a socket's WebSocket(s)
    std::unordered_map<const Connection*, EioSocket*> polls_;              // held GETs
    std::vector<std::unique_ptr<EioSocket>> finished_;                     // freed after this turn
};

}  // namespace ws::server
