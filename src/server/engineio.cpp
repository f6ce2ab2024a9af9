#include "server/engineio.hpp"

#include "i18n/i18n.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "print/print.hpp"
#include "proto/handshake.hpp"
#include "server/html.hpp"

namespace ws::server {
namespace {

constexpr std::size_t kPacketsPerPoll = 16;

bool wants_keep_alive(const http::Request& req) {
    const http::Header* connection = req.find("Connection");
    if (connection && http::list_contains(connection->value, "close")) return false;
    return req.version == "HTTP/1.1";
}

}  // namespace

// ---- EioSocket

EioSocket::EioSocket(EngineIo& engine, std::string sid, Transport transport)
    : engine_(engine), sid_(std::move(sid)), transport_(transport) {}

EioSocket::~EioSocket() = default;  // its timer is cancelled by whoever ends it (finish, on_stop)

void EioSocket::on_timer() { engine_.on_socket_timer(*this); }

// ---- EngineIo

EngineIo::EngineIo(EngineIoOptions options, EngineIoListener& listener, Random& random)
    : options_(std::move(options)), listener_(listener), random_(random) {}

EngineIo::~EngineIo() = default;

void EngineIo::on_stop(Server& server) {
    // The server's loop is about to go: no session may keep a timer on it.
    for (auto& [sid, s] : sockets_) server.loop().cancel(*s);
    sockets_.clear();
    finished_.clear();
    websockets_.clear();
    polls_.clear();
}

std::string EngineIo::new_sid() {
    // 15 random bytes, base64url: 20 characters that go into a URL as they are.
    for (;;) {
        std::array<std::uint8_t, 15> bytes{};
        random_.fill(bytes);
        std::string sid = handshake::base64_encode(bytes);
        std::replace(sid.begin(), sid.end(), '+', '-');
        std::replace(sid.begin(), sid.end(), '/', '_');
        if (!sockets_.count(sid)) return sid;
    }
}

void EngineIo::note(const Connection* c, const EioSocket* s, std::string_view text) const {
    if (!server_ || !server_->logging()) return;
    std::string who = s ? print::paint(s->short_sid(), print::Style::cyan) + " " : std::string();
    if (c) server_->log(*c, "{}", print::fit(who + std::string(text), 100 - 2 - fmt::formatted_size("{}", c->id())));
    else print::out(print::fit(who + std::string(text), 100) + "\n");
}

std::string EngineIo::packet_line(const eio::Packet& p) const {
    // The packet as it travels (42["message",…]), then what it is.
    if (p.binary) return trf("binary message, {} bytes = {}", p.data.size(), listener_.describe(p.data, true));
    std::string line = print::bare(eio::encode_text(p), 52);
    if (p.type != eio::PacketType::message) return fmt::format("{} = {}", line, eio::name(p.type));
    std::string meaning = listener_.describe(p.data, false);
    return meaning.empty() ? fmt::format("{} = message", line) : fmt::format("{} = {}", line, meaning);
}

Why EngineIo::origin_problem(const http::Request& req) const {
    const http::Header* origin = req.find("Origin");
    if (!origin) return {};  // not a browser page: nothing to check
    const http::Header* host = req.find("Host");
    if (host && (origin->value == fmt::format("http://{}", host->value) || origin->value == fmt::format("https://{}", host->value)))
        return {};
    if (options_.cors_origin && (*options_.cors_origin == "*" || *options_.cors_origin == origin->value)) return {};
    return because("a page from {} (not this server's own) may not use it; allow it with --cors {}",
                   print::bare(origin->value, 40), print::bare(origin->value, 40));
}

Asker EngineIo::asker(const http::Request& req) {
    const http::Header* origin = req.find("Origin");
    return {origin ? origin->value : std::string(), wants_keep_alive(req)};
}

std::string EngineIo::http_response(int status, std::string_view content_type, std::string_view body, const Asker& to) const {
    std::string out = fmt::format("HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: no-store\r\n",
                                  status, html::status_text(status), content_type, body.size());
    if (!to.origin.empty() && options_.cors_origin) {
        // A page from another origin reads the answer only when the server says it may (it
        // got this far: origin_problem found its origin allowed).
        out += fmt::format("Access-Control-Allow-Origin: {}\r\nAccess-Control-Allow-Credentials: true\r\nVary: Origin\r\n",
                           to.origin);
    }
    if (!to.keep_alive) out += "Connection: close\r\n";
    out += "\r\n";
    out += body;
    return out;
}

void EngineIo::refuse(Connection& c, const http::Request& req, int status, eio::Refusal code, const Why& why,
                      bool keep_alive) {
    note(&c, nullptr, trf("HTTP {} {} → {} {}", req.method, print::bare(req.target, 40), status, why.shown));
    server_->respond(c, http_response(status, "application/json", eio::refusal_json(code, why.wire), asker(req)), keep_alive);
}

void EngineIo::on_request(Server& server, Connection& c, const http::Request& req, std::string_view body) {
    server_ = &server;
    bool keep_alive = wants_keep_alive(req);
    if (Why problem = origin_problem(req); !problem.wire.empty())
        return refuse(c, req, 403, eio::Refusal::forbidden, problem, keep_alive);
    if (req.method == "OPTIONS") {
        // A cross-origin page asks first (CORS preflight): which methods and headers may come.
        note(&c, nullptr, tr("HTTP OPTIONS (a CORS preflight) → 204"));
        std::string head = http_response(204, "text/plain", "", asker(req));
        head.insert(head.size() - 2, "Access-Control-Allow-Methods: GET, POST\r\nAccess-Control-Allow-Headers: content-type\r\n");
        server.respond(c, std::move(head), keep_alive);
        return;
    }
    auto version = eio::query_value(req.target, "EIO");
    if (version != eio::kProtocol)
        return refuse(c, req, 400, eio::Refusal::unsupported_version,
                      version ? because("EIO={} (this server speaks 4: socket.io 3 and 4)", print::bare(*version, 8))
                              : because("no EIO= in the query"),
                      keep_alive);
    auto transport = eio::query_value(req.target, "transport");
    if (transport != "polling")
        return refuse(c, req, 400, eio::Refusal::unknown_transport,
                      transport == "websocket" ? because("transport=websocket needs an upgrade request")
                                               : because("transport must be polling or websocket"),
                      keep_alive);
    auto sid = eio::query_value(req.target, "sid");
    if (!sid) {
        if (req.method != "GET") return refuse(c, req, 400, eio::Refusal::bad_handshake_method, because("a new session starts with GET"), keep_alive);
        return open_session(c, req, keep_alive);
    }
    auto found = sockets_.find(*sid);
    if (found == sockets_.end() || !found->second->is_open())
        return refuse(c, req, 400, eio::Refusal::unknown_sid, because("sid {}", print::bare(*sid, 24)), keep_alive);
    EioSocket& s = *found->second;
    if (s.transport_ == EioSocket::Transport::websocket)
        return refuse(c, req, 400, eio::Refusal::bad_request, because("this session moved to its WebSocket"), keep_alive);
    if (req.method == "GET") return poll(c, s, asker(req));
    if (req.method == "POST") return post(c, s, body, asker(req));
    refuse(c, req, 400, eio::Refusal::bad_request, because("polling is GET or POST"), keep_alive);
}

void EngineIo::open_session(Connection& c, const http::Request& req, bool keep_alive) {
    if (sockets_.size() >= options_.max_sessions) {
        note(&c, nullptr, trf("HTTP GET → 503: {} sessions already", sockets_.size()));
        server_->respond(c, http_response(503, "text/plain; charset=UTF-8", "too many sessions\n", asker(req)), keep_alive);
        return;
    }
    auto owned = std::make_unique<EioSocket>(*this, new_sid(), EioSocket::Transport::polling);
    EioSocket& s = *owned;
    sockets_.emplace(s.sid_, std::move(owned));
    eio::Packet open{eio::PacketType::open,
                     eio::open_json({s.sid_, {"websocket"}, static_cast<std::uint32_t>(options_.ping_interval.count()),
                                     static_cast<std::uint32_t>(options_.ping_timeout.count()), options_.max_payload}),
                     false};
    note(&c, &s, trf("HTTP GET {} → 200: a new session (long-polling)", print::bare(req.target, 40)));
    if (logging()) note(&c, &s, trf("out {}", packet_line(open)));
    server_->respond(c, http_response(200, "text/plain; charset=UTF-8", eio::encode_text(open), asker(req)), keep_alive);
    s.ping_due_ = server_->loop().now() + options_.ping_interval;
    arm(s);
    listener_.on_open(s);
}

void EngineIo::poll(Connection& c, EioSocket& s, Asker to) {
    if (s.poll_) {
        // Two polls at once: the client lost track of its session (engine.io ends it too).
        note(&c, &s, tr("HTTP GET while another poll is held → 400; the session ends"));
        server_->respond(c, http_response(400, "application/json", eio::refusal_json(eio::Refusal::bad_request, "two polls at once"), to),
                         to.keep_alive);
        finish(s, tr("two polls at once"), true);
        return;
    }
    s.poll_ = &c;
    s.poll_asker_ = std::move(to);
    polls_[&c] = &s;
    if (s.upgrade_probed_) queue(s, {eio::PacketType::noop, {}, false});  // a probe waits for this poll to end
    if (s.outbox_.empty()) note(&c, &s, tr("HTTP GET (poll) held: nothing to send yet"));
    answer_poll(s);
}

void EngineIo::answer_poll(EioSocket& s) {
    if (!s.poll_ || s.outbox_.empty()) return;
    Connection& c = *s.poll_;
    // At most kPacketsPerPoll in one answer (engine.io's clients refuse longer bodies: Python's
    // takes 16); the rest waits for the next poll, which is answered at once.
    std::size_t n = std::min(s.outbox_.size(), kPacketsPerPoll);
    std::string body;
    for (std::size_t i = 0; i < n; ++i) {
        eio::append_to_payload(body, s.outbox_[i]);
        s.outbox_bytes_ -= s.outbox_[i].data.size() + 2;
    }
    note(&c, &s, trf("HTTP GET (poll) → 200: {} packet{}, {} bytes{}", n, n == 1 ? "" : "s", body.size(),
                             s.outbox_.size() > n ? trf(" ({} wait for the next poll)", s.outbox_.size() - n) : ""));
    s.outbox_.erase(s.outbox_.begin(), s.outbox_.begin() + static_cast<std::ptrdiff_t>(n));
    polls_.erase(&c);
    s.poll_ = nullptr;
    server_->respond(c, http_response(200, "text/plain; charset=UTF-8", body, s.poll_asker_), s.poll_asker_.keep_alive);
}

void EngineIo::post(Connection& c, EioSocket& s, std::string_view body, const Asker& to) {
    eio::PayloadResult r = eio::parse_payload(body, {.max_payload = options_.max_payload, .max_packets = 1000});
    if (!r.ok()) {
        note(&c, &s, trf("HTTP POST → 400: {} ({}); the session ends", tr(eio::describe(r.error)), r.detail));
        server_->respond(c, http_response(400, "application/json", eio::refusal_json(eio::Refusal::bad_request, eio::describe(r.error)), to),
                         to.keep_alive);
        finish(s, tr("a malformed polling body"), true);
        return;
    }
    note(&c, &s, trf("HTTP POST ({} bytes, {} packet{}) → 200 ok", body.size(), r.packets.size(),
                             r.packets.size() == 1 ? "" : "s"));
    server_->respond(c, http_response(200, "text/plain; charset=UTF-8", "ok", to), to.keep_alive);
    for (const eio::Packet& p : r.packets) {
        if (!s.open_) break;
        received(s, &c, p);
    }
}

void EngineIo::received(EioSocket& s, Connection* via, const eio::Packet& p) {
    if (logging()) note(via, &s, trf("in  {}", packet_line(p)));
    switch (p.type) {
        case eio::PacketType::pong:
            s.awaiting_pong_ = false;
            s.ping_due_ = server_->loop().now() + options_.ping_interval;
            arm(s);
            return;
        case eio::PacketType::ping:  // v3 clients pinged; answer in kind
            queue(s, {eio::PacketType::pong, p.data, false});
            return;
        case eio::PacketType::message:
            listener_.on_message(s, p.data, p.binary);
            return;
        case eio::PacketType::close:
            finish(s, tr("the client closed the session"), false);
            return;
        case eio::PacketType::noop:
            return;
        case eio::PacketType::open:
        case eio::PacketType::upgrade:
            note(via, &s, trf("a client does not send {} here; the session ends", eio::name(p.type)));
            finish(s, tr("a packet out of place"), true);
            return;
    }
}

void EngineIo::queue(EioSocket& s, const eio::Packet& p) {
    if (!s.open_ || s.closing_) return;
    if (logging()) note(s.websocket(), &s, trf("out {}", packet_line(p)));
    if (Connection* ws = s.websocket()) {
        server_->send(*ws, p.binary ? Opcode::binary : Opcode::text, p.binary ? p.data : eio::encode_text(p));
        return;
    }
    if (s.outbox_bytes_ + p.data.size() + 2 > server_->options().max_backlog) {
        // A client that stopped polling. The session ends after this turn, not now: whoever
        // is sending (a broadcast going through a list of sockets, the room logging someone
        // in) still holds this socket.
        s.closing_ = true;
        s.outbox_.clear();
        s.outbox_bytes_ = 0;
        server_->loop().defer([this, sid = s.sid_] {
            auto found = sockets_.find(sid);
            if (found != sockets_.end())
                finish(*found->second, trf("not polling: over {} bytes waiting", server_->options().max_backlog), false);
        });
        return;
    }
    s.outbox_bytes_ += p.data.size() + 2;
    s.outbox_.push_back(p);
    answer_poll(s);
}

void EngineIo::send(EioSocket& s, std::string_view text) { queue(s, {eio::PacketType::message, std::string(text), false}); }

void EngineIo::broadcast(std::span<EioSocket* const> to, std::string_view text) {
    std::vector<Connection*> sockets;
    for (EioSocket* s : to) {
        if (Connection* ws = s->websocket()) sockets.push_back(ws);
        else send(*s, text);
    }
    if (sockets.empty()) return;
    if (server_->logging()) note(nullptr, nullptr, trf("out 4{} → {} WebSocket{} (one frame for all)", print::bare(text, 48),
                                                         sockets.size(), sockets.size() == 1 ? "" : "s"));
    std::string frame = "4";
    frame += text;
    server_->broadcast(sockets, Opcode::text, frame);
}

void EngineIo::close(EioSocket& s, std::string_view reason) { finish(s, reason, true); }

void EngineIo::finish(EioSocket& s, std::string_view reason, bool tell_client) {
    if (!s.open_) return;
    note(s.websocket(), &s, trf("session closed: {}", reason));
    if (tell_client && s.websocket()) server_->send(*s.ws_, Opcode::text, "1");
    if (tell_client || s.poll_) {
        // A held poll is answered either way, so its connection is not left waiting.
        s.outbox_.push_back({eio::PacketType::close, {}, false});
        answer_poll(s);
    }
    s.open_ = false;
    if (s.ws_) {
        websockets_.erase(s.ws_);
        server_->close(*s.ws_, static_cast<std::uint16_t>(CloseCode::normal), "engine.io session closed");
        s.ws_ = nullptr;
    }
    if (s.poll_) {
        polls_.erase(s.poll_);
        s.poll_ = nullptr;
    }
    server_->loop().cancel(s);
    listener_.on_close(s, reason);
    // Freed after this turn: whoever called this may still hold the socket.
    auto found = sockets_.find(s.sid_);
    if (found == sockets_.end()) return;
    if (finished_.empty())
        server_->loop().defer([this] { finished_.clear(); });
    finished_.push_back(std::move(found->second));
    sockets_.erase(found);
}

void EngineIo::arm(EioSocket& s) {
    auto when = s.awaiting_pong_ ? s.pong_due_ : s.ping_due_;
    server_->loop().arm(s, when);
}

void EngineIo::on_socket_timer(EioSocket& s) {
    auto now = server_->loop().now();
    if (s.awaiting_pong_) {
        if (now >= s.pong_due_) {
            finish(s, trf("no pong within pingTimeout ({} ms)", options_.ping_timeout.count()), true);
            return;
        }
    } else if (now >= s.ping_due_) {
        s.awaiting_pong_ = true;
        s.pong_due_ = now + options_.ping_timeout;
        queue(s, {eio::PacketType::ping, {}, false});
        if (!s.open_) return;
    }
    arm(s);
}

void EngineIo::on_request_dropped(Server&, Connection& c) {
    auto found = polls_.find(&c);
    if (found == polls_.end()) return;
    EioSocket& s = *found->second;
    polls_.erase(found);
    s.poll_ = nullptr;
    note(&c, &s, tr("the held poll's connection closed (the session waits for the next poll)"));
}

std::string EngineIo::refuse_upgrade(Server& server, Connection& c, const http::Request& req) {
    server_ = &server;
    auto refusal = [&](eio::Refusal code, const Why& why) {
        note(&c, nullptr, trf("upgrade {} refused: {}", print::bare(req.target, 40), why.shown));
        return http_response(code == eio::Refusal::forbidden ? 403 : 400, "application/json", eio::refusal_json(code, why.wire),
                             asker(req));
    };
    if (Why problem = origin_problem(req); !problem.wire.empty()) return refusal(eio::Refusal::forbidden, problem);
    if (eio::query_value(req.target, "EIO") != eio::kProtocol)
        return refusal(eio::Refusal::unsupported_version, because("EIO must be 4"));
    if (eio::query_value(req.target, "transport") != "websocket")
        return refusal(eio::Refusal::unknown_transport, because("an upgrade is transport=websocket"));
    auto sid = eio::query_value(req.target, "sid");
    if (!sid) {
        if (sockets_.size() >= options_.max_sessions) return refusal(eio::Refusal::bad_request, because("too many sessions"));
        return {};
    }
    auto found = sockets_.find(*sid);
    if (found == sockets_.end() || !found->second->is_open())
        return refusal(eio::Refusal::unknown_sid, because("sid {}", print::bare(*sid, 24)));
    if (found->second->transport_ != EioSocket::Transport::polling || found->second->ws_)
        return refusal(eio::Refusal::bad_request, because("this session already has a WebSocket"));
    return {};
}

void EngineIo::on_upgraded(Server& server, Connection& c, const http::Request& req) {
    server_ = &server;
    auto sid = eio::query_value(req.target, "sid");
    if (sid) {
        auto found = sockets_.find(*sid);
        if (found == sockets_.end() || !found->second->is_open() || found->second->ws_) {  // gone since refuse_upgrade
            server.close(c, static_cast<std::uint16_t>(CloseCode::policy_violation), "unknown sid");
            return;
        }
        EioSocket& s = *found->second;
        s.ws_ = &c;
        websockets_[&c] = &s;
        note(&c, &s, tr("upgrade 1/3: a WebSocket for this session; polling goes on until the client probes it"));
        return;
    }
    auto owned = std::make_unique<EioSocket>(*this, new_sid(), EioSocket::Transport::websocket);
    EioSocket& s = *owned;
    sockets_.emplace(s.sid_, std::move(owned));
    s.ws_ = &c;
    websockets_[&c] = &s;
    note(&c, &s, tr("a new session on a WebSocket straight away (no polling)"));
    queue(s, {eio::PacketType::open,
              eio::open_json({s.sid_, {}, static_cast<std::uint32_t>(options_.ping_interval.count()),
                              static_cast<std::uint32_t>(options_.ping_timeout.count()), options_.max_payload}),
              false});
    s.ping_due_ = server.loop().now() + options_.ping_interval;
    arm(s);
    listener_.on_open(s);
}

void EngineIo::on_message(Server&, Connection& c, Opcode type, std::string_view payload) {
    auto found = websockets_.find(&c);
    if (found == websockets_.end()) return;
    EioSocket& s = *found->second;
    eio::Packet p;
    if (type == Opcode::binary) {
        p = eio::from_binary_frame(payload);
    } else {
        eio::ParseResult r = eio::parse_text(payload);
        if (!r.packet) {
            std::string why = tr(eio::describe(r.error));
            note(&c, &s, r.detail.empty() ? trf("not an Engine.IO packet: {}; the session ends", why)
                                          : trf("not an Engine.IO packet: {} ({}); the session ends", why, r.detail));
            finish(s, tr("a malformed packet"), true);
            return;
        }
        p = std::move(*r.packet);
    }
    if (s.transport_ == EioSocket::Transport::websocket) return received(s, &c, p);
    // The upgrade, over the new WebSocket, while the session still polls.
    if (p.type == eio::PacketType::ping && p.data == "probe" && !p.binary) {
        server_->send(c, Opcode::text, "3probe");
        s.upgrade_probed_ = true;
        note(&c, &s, tr("upgrade 2/3: in 2probe, out 3probe (the WebSocket works); the pending poll gets a noop (6)"));
        if (s.poll_) queue(s, {eio::PacketType::noop, {}, false});
        return;
    }
    if (p.type == eio::PacketType::upgrade && s.upgrade_probed_) {
        s.transport_ = EioSocket::Transport::websocket;
        s.upgrade_probed_ = false;
        std::vector<eio::Packet> waiting = std::move(s.outbox_);
        s.outbox_.clear();
        s.outbox_bytes_ = 0;
        note(&c, &s, trf("upgrade 3/3: in 5 (upgrade) — the session is on the WebSocket now{}",
                                 waiting.empty() ? "" : trf("; {} waiting packets go as frames", waiting.size())));
        for (const eio::Packet& w : waiting)
            if (w.type != eio::PacketType::noop) queue(s, w);
        return;
    }
    note(&c, &s, trf("in  {} on a WebSocket not yet upgraded to; the WebSocket is closed", packet_line(p)));
    websockets_.erase(&c);
    s.ws_ = nullptr;
    s.upgrade_probed_ = false;
    server_->close(c, static_cast<std::uint16_t>(CloseCode::protocol_error), "expected 2probe, then 5");
}

void EngineIo::on_close(Server&, Connection& c, std::uint16_t code, std::string_view) {
    auto found = websockets_.find(&c);
    if (found == websockets_.end()) return;
    EioSocket& s = *found->second;
    websockets_.erase(found);
    if (s.ws_ != &c) return;
    s.ws_ = nullptr;
    if (s.transport_ == EioSocket::Transport::websocket) {
        finish(s, trf("its WebSocket closed ({})", code), false);
        return;
    }
    s.upgrade_probed_ = false;
    note(&c, &s, tr("the WebSocket closed before the upgrade finished; the session goes on polling"));
}

}  // namespace ws::server
