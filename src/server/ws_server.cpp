#include "server/ws_server.hpp"

#include "i18n/i18n.hpp"

#include <atomic>
#include <cerrno>
#include <cstring>

#include "net/signals.hpp"
#include "print/frame_diagram.hpp"
#include "print/print.hpp"
#include "proto/handshake.hpp"
#include "server/html.hpp"

namespace ws::server {
namespace {

std::atomic<Server*> g_signal_target{nullptr};  // stop_on_signals: cleared when that server goes

constexpr auto kAcceptRetry = std::chrono::milliseconds(100);
constexpr auto kReleaseAfter = std::chrono::seconds(1);
constexpr std::size_t kEarlyFlush = 64 * 1024;

using http::path_of;

constexpr auto kHoldLimit = std::chrono::minutes(2);  // the longest a handler may hold a request

// A socket.io client knocking on a server that does not speak it (lesson 5): say what it is.
bool is_socketio_path(std::string_view path) { return path.rfind("/socket.io/", 0) == 0; }
constexpr std::string_view kSocketIoHint =
    "a socket.io client: it speaks Engine.IO (long-polling, then its own packets over a WebSocket), "
    "not plain WebSocket messages; this server's WebSocket is plain. Lesson 9 (lesson9-socketio) speaks socket.io";

std::span<std::uint8_t> as_bytes(std::string& s) { return {reinterpret_cast<std::uint8_t*>(s.data()), s.size()}; }

// A broadcast's frames, each built once, when its first receiver needs it: the plain frame, and
// one compressed frame per window size for receivers whose compressor starts afresh with every
// message (RFC 7692 server_no_context_takeover). A receiver whose compressor keeps its context
// must compress the message itself: it gets no prebuilt frame.
class BroadcastFrames {
public:
    BroadcastFrames(Opcode opcode, std::string_view payload, SharedStreams& shared)
        : opcode_(opcode), payload_(payload), shared_(shared) {}

    const std::string* for_receiver(const MessageDeflate* deflate) {
        Built* built = &plain_;
        if (deflate && deflate->worth_compressing(payload_.size())) {
            if (!deflate->send_resets()) {
                ++own_;
                return nullptr;
            }
            built = &compressed_.at(static_cast<std::size_t>(deflate->send_window_bits()));
        }
        if (built->receivers++ == 0) {
            if (built == &plain_) {
                append_frame(built->frame, opcode_, payload_);
            } else {
                std::string deflated;
                shared_.deflater(deflate->send_window_bits()).compress(payload_, deflated);
                append_frame(built->frame, opcode_, deflated);
                built->frame[0] = static_cast<char>(built->frame[0] | 0x40);  // RSV1: compressed (RFC 7692 §6)
            }
        }
        return &built->frame;
    }

    // -v: each frame once, with how many it went to.
    std::string log() const {
        std::string out;
        auto line = [&](const Built& b, std::string_view extra) {
            if (b.receivers == 0) return;
            FrameHeader h = header_of(b.frame);
            out += trf("   {} (to {} client{}){}\n",
                               print::frame_summary(h, std::string_view(b.frame).substr(h.header_length), false),
                               b.receivers, b.receivers == 1 ? "" : "s", extra);
        };
        line(plain_, "");
        for (const Built& b : compressed_)
            line(b, trf(" · compressed {} B → {} B", payload_.size(), b.frame.size() - header_of(b.frame).header_length));
        if (own_ > 0)
            out += trf("   compressed by each receiver's own compressor (context takeover): {} client{}\n",
                               own_, own_ == 1 ? "" : "s");
        return out;
    }

private:
    struct Built {
        std::string frame;
        std::size_t receivers = 0;
    };
    Opcode opcode_;
    std::string_view payload_;
    SharedStreams& shared_;
    Built plain_;
    std::array<Built, 16> compressed_;  // by window bits
    std::size_t own_ = 0;
};

}  // namespace

// ---- Connection: the loop's callbacks, handed to the server

Connection::Connection(Server& server, std::uint64_t id, net::Fd fd, const Options& o)
    : server_(server),
      id_(id),
      transport_(o.tls ? o.tls->wrap(std::move(fd)) : net::Transport(std::move(fd))),
      session_(Role::server, o.limits),
      phase_(o.tls ? Phase::tls : Phase::http) {}

void Connection::on_ready(std::uint32_t events) {
    if (phase_ == Phase::dead) return;
    if (phase_ == Phase::tls) {
        server_.continue_tls(*this);
        return;
    }
    bool readable = events & (EPOLLIN | EPOLLHUP | EPOLLERR), writable = events & EPOLLOUT;
    // With TLS, a read may wait for room to write, and a write for bytes to read: each is
    // retried on what it waited for.
    if (writable || (readable && write_wants_read_)) server_.flush(*this);
    if (phase_ != Phase::dead && (readable || (writable && read_wants_write_))) {
        read_wants_write_ = false;
        server_.on_readable(*this);
    }
}

void Connection::on_timer() { server_.on_connection_timer(*this); }

void Connection::on_frame(const FrameHeader& h, std::string_view header_bytes, std::string_view payload,
                          bool incoming) {
    if (server_.options_.log_frames != FrameLog::none) server_.log_frame(*this, h, header_bytes, payload, incoming);
    if (watched_) server_.handler_.on_frame(server_, *this, h, incoming);
}

void Connection::on_inflated(std::string_view compressed, std::string_view message, bool incoming) {
    if (server_.options_.log_frames != FrameLog::none)
        server_.log_out(print::inflated_log(fmt::format("{}#{}", server_.options_.log_name, id_), compressed, message, incoming, true));
}

std::string_view Connection::protocol() const {
    return protocol_ == kNoProtocol ? std::string_view{} : std::string_view(server_.options_.protocols[protocol_]);
}

// ---- Server

Server::Server(Options options, Handler& handler)
    : options_(std::move(options)),
      handler_(handler),
      listener_(options_.host, options_.port, /*non_blocking=*/true),
      read_buffer_(256 * 1024),
      shared_streams_(options_.deflate.mem_level) {
    loop_.on_wake = [this] { begin_shutdown(); };
    // OpenSSL sets itself up on first use (a few hundred KiB): pay that now, not with the
    // first client, so what each connection costs is what it really costs.
    handshake::accept_key("dGhlIHNhbXBsZSBub25jZQ==");
}

Server::~Server() {
    // A stop signal after this (a second Ctrl-C while the lesson exits) finds no server.
    Server* self = this;
    g_signal_target.compare_exchange_strong(self, nullptr);
}

void Server::log_out(std::string text) const {
    if (options_.log_to) return options_.log_to(std::move(text));
    print::out(text);
}

void Server::log_line(const Connection& c, std::string_view text) const {
    log_out(fmt::format("{} {}\n", print::paint(fmt::format("{}#{}", options_.log_name, c.id()), print::Style::bold), text));
}

void Server::log_frame(const Connection& c, const FrameHeader& h, std::string_view header_bytes,
                       std::string_view payload, bool incoming) const {
    log_out(print::frame_log(fmt::format("{}#{}", options_.log_name, c.id()), h, header_bytes, payload, incoming,
                             options_.log_frames == FrameLog::diagram));
}

void Server::run() {
    loop_.watch(listener_.fd(), EPOLLIN, listener_watch_);
    loop_.run();
    handler_.on_stop(*this);
    // The loop stops once every client has gone, or the shutdown deadline passed.
    for (auto& c : connections_) c->transport_.close();
    connections_.clear();
}

void Server::accept_clients() {
    // Take every waiting client, but not forever: others are waiting for this thread too.
    for (int i = 0; i < 256 && !shutting_down_; ++i) {
        net::Endpoint peer;
        int error = 0;
        net::Fd fd = listener_.accept(logging() ? &peer : nullptr, &error);
        if (error == EMFILE || error == ENFILE) {
            // Out of file descriptors: stop accepting for a moment instead of spinning.
            auto now = loop_.now();
            if (now - last_fd_warning_ >= std::chrono::seconds(10)) {
                print::err(trf("warning: cannot accept a connection: {} — raise `ulimit -n`; "
                                       "new clients wait until others leave", std::strerror(error)));
                last_fd_warning_ = now;
            }
            loop_.unwatch(listener_.fd());
            accept_paused_ = true;
            accept_resume_ = now + kAcceptRetry;
            loop_.arm(server_timer_, accept_resume_);
            return;
        }
        if (!fd) return;
        net::set_no_delay(fd.get());
        int raw = fd.get();
        std::unique_ptr<Connection> conn;
        try {
            conn = std::make_unique<Connection>(*this, next_id_++, std::move(fd), options_);
        } catch (const std::exception& e) {  // TLS could not start for it (out of memory)
            print::err(trf("warning: {}; dropping a new client", e.what()));
            continue;
        }
        Connection& c = *conn;
        c.last_seen_ = loop_.now();
        c.deadline_ = c.last_seen_ + options_.handshake_timeout;
        if (options_.log_frames != FrameLog::none) c.session_.set_observer(&c);
        c.interest_ = EPOLLIN;
        try {
            loop_.watch(raw, EPOLLIN, c);
        } catch (const std::system_error& e) {
            print::err(trf("warning: {}; dropping a new client", e.what()));
            continue;  // the connection is closed as `conn` goes out of scope
        }
        c.slot_ = static_cast<std::uint32_t>(connections_.size());
        connections_.push_back(std::move(conn));
        loop_.arm(c, c.deadline_);
        log(c, "connect {}", peer.str());
    }
}

void Server::continue_tls(Connection& c) {
    net::IoResult r = c.transport_.handshake();
    switch (r.status) {
        case net::Io::done: {
            c.phase_ = Connection::Phase::http;
            c.read_wants_write_ = false;
            if (logging()) {
                net::TlsSummary tls = net::summarize(c.transport_);
                log(c, "TLS {} · {}{}", tls.version, tls.cipher, tls.alpn.empty() ? "" : " · ALPN " + tls.alpn);
            }
            update_interest(c);
            // The request may have come with the handshake's last flight: OpenSSL may hold it
            // already, where epoll cannot see it.
            on_readable(c);
            return;
        }
        case net::Io::want_read:
        case net::Io::want_write:
            c.read_wants_write_ = r.status == net::Io::want_write;
            update_interest(c);
            return;
        case net::Io::eof:
        case net::Io::error:
            break;
    }
    std::string why = net::explain_tls_failure(c.transport_.error_text());
    if (c.transport_.error_text() == "http request") {
        // Plain HTTP on the TLS port: a student typed http:// for https://. Say so, in plain text.
        c.transport_.send_unencrypted(html::response(400, "this port speaks TLS: use https:// (or wss://)\n"));
        why = tr("plain HTTP sent to the TLS port (answered 400 in plain text)");
    }
    kill(c, trf("TLS handshake failed: {}", why));
}

void Server::on_readable(Connection& c) {
    if (c.phase_ == Connection::Phase::tls) return continue_tls(c);
    if (c.reading_paused_ && c.phase_ == Connection::Phase::websocket) return;
    read_once(c, false);
    // With TLS a read that filled the buffer may leave decrypted bytes inside OpenSSL, which
    // epoll cannot see: take those too (and only those: what is still in the socket waits for
    // the next turn, so one busy client cannot keep the loop from everyone else).
    while (c.transport_.has_pending() && c.phase_ != Connection::Phase::dead &&
           !(c.reading_paused_ && c.phase_ == Connection::Phase::websocket))
        read_once(c, true);
}

void Server::read_once(Connection& c, bool pending_only) {
    net::IoResult r = pending_only ? c.transport_.read_pending(read_buffer_.data(), read_buffer_.size())
                                   : c.transport_.read(read_buffer_.data(), read_buffer_.size());
    if (c.read_wants_write_ != (r.status == net::Io::want_write)) {
        c.read_wants_write_ = r.status == net::Io::want_write;
        update_interest(c);
    }
    switch (r.status) {
        case net::Io::done: break;
        case net::Io::want_read:
        case net::Io::want_write: return;
        case net::Io::eof: peer_gone(c, tr("the client hung up without a close frame")); return;
        case net::Io::error:
            peer_gone(c, c.transport_.secure() ? trf("TLS: {}", tr(c.transport_.error_text())) : tr("connection reset"));
            return;
    }
    c.last_seen_ = loop_.now();
    handle_input(c, std::span(read_buffer_.data(), r.bytes));
}

void Server::handle_input(Connection& c, std::span<std::uint8_t> bytes) {

    switch (c.phase_) {
        case Connection::Phase::http:
            if (c.held_) {
                // A request is being answered: what comes meanwhile waits (within bounds).
                if (!c.pending_) c.pending_ = std::make_unique<Connection::Pending>(Connection::Pending{{}, http::RequestParser(options_.http_limits)});
                c.pending_->bytes.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
                if (c.pending_->bytes.size() > options_.http_limits.max_head_bytes + options_.max_body)
                    kill(c, tr("sent too much while its request was held"));
                return;
            }
            if (!c.pending_) {
                // The usual case: the whole request in one read, parsed where it lies.
                handle_http(c, {reinterpret_cast<const char*>(bytes.data()), bytes.size()}, false);
            } else {
                c.pending_->bytes.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
                handle_http(c, c.pending_->bytes, true);
            }
            return;
        case Connection::Phase::websocket:
            break;
        default:
            return;  // draining: the client's last bytes are read and dropped
    }

    if (!c.pending_) {
        // Frames are handled straight from the read buffer; only an incomplete tail is kept.
        std::size_t used = handle_frames(c, bytes);
        keep_tail(c, {reinterpret_cast<const char*>(bytes.data()) + used, bytes.size() - used});
    } else {
        std::string& in = c.pending_->bytes;
        in.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
        std::size_t used = handle_frames(c, as_bytes(in));
        if (c.phase_ != Connection::Phase::websocket) return;
        in.erase(0, used);
        if (in.empty()) c.pending_.reset();
    }
}

void Server::keep_tail(Connection& c, std::string_view tail) {
    if (tail.empty() || c.phase_ != Connection::Phase::websocket) return;
    c.pending_ = std::make_unique<Connection::Pending>(Connection::Pending{std::string(tail), http::RequestParser()});
}

void Server::handle_http(Connection& c, std::string_view received, bool buffered) {
    http::RequestParser first(options_.http_limits);
    http::RequestParser& parser = buffered ? c.pending_->parser : first;
    http::ParseResult r = parser.parse(received);
    if (r.status == http::ParseResult::Status::need_more) {
        // The request comes in pieces: keep what arrived, and where the parser got to.
        if (!buffered) c.pending_ = std::make_unique<Connection::Pending>(Connection::Pending{std::string(received), first});
        return;
    }
    if (r.status == http::ParseResult::Status::error) {
        log(c, "bad request: {} ({})", tr(http::describe(r.error)), r.shown);
        int status = r.error == http::ParseError::head_too_large || r.error == http::ParseError::too_many_headers ? 431 : 400;
        respond_and_hang_up(c, html::response(status, fmt::format("{}: {}\n", http::describe(r.error), r.detail)));
        return;
    }
    const http::Request& req = r.request;
    if (!handshake::wants_websocket(req)) {
        serve_request(c, req, received, r.consumed);
        return;
    }
    std::string_view path = path_of(req.target);
    if (!options_.ws_path.empty() && path != options_.ws_path && !handler_.serves(path)) {
        if (is_socketio_path(path)) log(c, "{}", kSocketIoHint);
        else log(c, "upgrade refused: {} is not {}", req.target, options_.ws_path);
        respond_and_hang_up(c, html::response(404, fmt::format("the WebSocket endpoint is {}\n", options_.ws_path)));
        return;
    }
    // Frames the client sent right behind its request are already here.
    upgrade(c, req, received.substr(r.consumed));
}

void Server::serve_request(Connection& c, const http::Request& req, std::string_view received, std::size_t head_size) {
    std::string_view path = path_of(req.target);
    bool handlers = handler_.serves(path);
    if (!handlers && req.method != "GET" && req.method != "HEAD") {
        // Pages are only read (a POST's body, whatever its size, is not wanted either).
        log(c, "HTTP {} {} → 405 (pages are only read: GET)", req.method, print::printable(req.target, 40));
        respond_and_hang_up(c, html::response(405, "only GET is served here\n"));
        return;
    }
    // A body follows the head when Content-Length says so (RFC 9112 §6.3); a chunked one is
    // not taken. Only a handler's path takes a body, and only so much.
    if (req.find("Transfer-Encoding")) {
        log(c, "HTTP {} {} → 411 (a chunked body; send Content-Length)", req.method, req.target);
        respond_and_hang_up(c, html::response(411, "send the body with a Content-Length\n"));
        return;
    }
    std::size_t body_size = 0;
    if (const http::Header* length = req.find("Content-Length")) {
        const std::string& v = length->value;
        bool digits = !v.empty() && v.size() <= 12 && v.find_first_not_of("0123456789") == std::string::npos;
        if (!digits || req.count("Content-Length") != 1) {
            log(c, "HTTP {} {} → 400 (Content-Length \"{}\")", req.method, req.target, print::printable(v, 20));
            respond_and_hang_up(c, html::response(400, "Content-Length must be one number\n"));
            return;
        }
        body_size = std::stoull(v);
    }
    std::size_t allowed = handlers ? options_.max_body : 0;
    if (body_size > allowed) {
        log(c, "HTTP {} {} → 413 (a body of {} bytes; at most {} here)", req.method, req.target, body_size, allowed);
        respond_and_hang_up(c, html::response(413, fmt::format("a request body of at most {} bytes is taken here\n", allowed)));
        return;
    }
    if (received.size() - head_size < body_size) {
        // The body comes in pieces: keep what arrived; the head is read again when more comes.
        if (!c.pending_) c.pending_ = std::make_unique<Connection::Pending>(Connection::Pending{std::string(received), http::RequestParser(options_.http_limits)});
        c.pending_->parser = http::RequestParser(options_.http_limits);
        return;
    }
    // Copied out: `received` may be the pending bytes, which now make room for what follows
    // (a next request sent early, read once this one is answered).
    std::string body(received.substr(head_size, body_size));
    std::string rest(received.substr(head_size + body_size));
    c.pending_.reset();
    if (!rest.empty())
        c.pending_ = std::make_unique<Connection::Pending>(Connection::Pending{std::move(rest), http::RequestParser(options_.http_limits)});
    if (handlers) {
        c.held_ = true;
        c.deadline_ = loop_.now() + kHoldLimit;
        handler_.on_request(*this, c, req, body);
        return;
    }
    if (is_socketio_path(path)) {
        log(c, "HTTP {} {} → 404 · {}", req.method, print::printable(req.target, 40), kSocketIoHint);
        respond_and_hang_up(c, html::response(404, std::string(kSocketIoHint) + "\n"));
        return;
    }
    html::Page page = html::find(req.target, options_.index_page, options_.html_dir);
    log(c, "HTTP {} {} → {}", req.method, req.target, page.status);
    respond_and_hang_up(c, html::response(page, req.method == "HEAD"));
}

void Server::respond(Connection& c, std::string response, bool keep_alive) {
    if (c.phase_ != Connection::Phase::http || !c.held_) return;
    c.held_ = false;
    if (!keep_alive || shutting_down_) {
        respond_and_hang_up(c, std::move(response));
        return;
    }
    c.session_.send_raw(response);
    c.kept_alive_ = true;
    c.deadline_ = loop_.now() + options_.handshake_timeout;
    mark_dirty(c);
    schedule(c);
    if (c.pending_) {
        // The next request arrived early: read it after this turn (not inside another's call).
        loop_.defer([this, id = c.id_, slot = c.slot_] {
            if (Connection* again = find_connection(id, slot)) continue_requests(*again);
        });
    }
}

void Server::continue_requests(Connection& c) {
    if (c.phase_ != Connection::Phase::http || c.held_ || !c.pending_) return;
    handle_http(c, c.pending_->bytes, true);
}

Connection* Server::find_connection(std::uint64_t id, std::uint32_t slot) {
    if (slot < connections_.size() && connections_[slot]->id_ == id) return connections_[slot].get();
    for (auto& c : connections_)
        if (c->id_ == id) return c->phase_ == Connection::Phase::dead ? nullptr : c.get();
    return nullptr;
}

void Server::upgrade(Connection& c, const http::Request& req, std::string_view after_head) {
    handshake::Result result = handshake::check_request(req, options_.protocols);
    if (!result.ok()) {
        const handshake::CheckResult& failed = *result.first_failure();
        log(c, "handshake refused ({}): {}", result.status(), failed.shown.empty() ? failed.detail : failed.shown);
        respond_and_hang_up(c, handshake::response_refusal(result));
        return;
    }
    if (std::string refusal = handler_.refuse_upgrade(*this, c, req); !refusal.empty()) {
        respond_and_hang_up(c, std::move(refusal));
        return;
    }
    std::string why;
    std::optional<ext::Agreement> deflate = handshake::negotiate_deflate(req, options_.deflate, why);
    if (deflate) {
        result.extensions = deflate->response;
        c.session_.use_deflate(
            std::make_unique<MessageDeflate>(Role::server, deflate->params, options_.deflate, &shared_streams_));
    }
    // Written at once: almost always it goes whole, and a connection that then stays idle never
    // holds a buffer for it. What does not fit waits in the session's output.
    std::string response = handshake::response_101(result);
    net::IoResult written = c.transport_.write(response);
    std::size_t sent = written.status == net::Io::done ? written.bytes : 0;
    if (sent < response.size()) c.session_.send_raw(std::string_view(response).substr(sent));
    c.phase_ = Connection::Phase::websocket;
    if (result.protocol)
        for (std::size_t i = 0; i < options_.protocols.size(); ++i)
            if (options_.protocols[i] == *result.protocol) c.protocol_ = static_cast<std::uint8_t>(i);
    if (logging()) {
        const http::Header* agent = req.find("User-Agent");
        log(c, "handshake ok · GET {}{}", print::bare(req.target, 50), agent ? " · " + agent->value.substr(0, 60) : "");
        if (deflate) {
            std::size_t bound = c.session_.deflate()->memory_bound();
            log(c, "permessage-deflate: {} · {}", deflate->response,
                bound == 0 ? tr("no zlib memory of its own (both sides reset: shared streams)")
                           : trf("zlib memory for this connection: at most {}", print::bytes_size(bound)));
        }
        else if (req.find("Sec-WebSocket-Extensions"))
            log(c, "permessage-deflate: not agreed ({})", why);
    }
    // The request's bytes may be pending: keep what follows the head, then let them go.
    std::string rest(after_head);
    c.pending_.reset();
    mark_dirty(c);
    c.notified_open_ = true;
    handler_.on_upgraded(*this, c, req);
    if (!rest.empty() && c.phase_ == Connection::Phase::websocket) {
        std::size_t used = handle_frames(c, as_bytes(rest));
        keep_tail(c, std::string_view(rest).substr(used));
    }
    schedule(c);
}

std::size_t Server::handle_frames(Connection& c, std::span<std::uint8_t> bytes) {
    std::size_t used = c.session_.feed(bytes, [&](const Event& e) {
        switch (e.kind) {
            case Event::Kind::message:
                handler_.on_message(*this, c, e.type, e.payload);
                break;
            case Event::Kind::close:
                if (c.notified_open_ && e.reason.empty())  // the client spoke first; the session answered
                    log(c, "close {} ({})", e.code, close_code_name(e.code));
                else if (c.notified_open_)
                    log(c, "close {} ({}) {}", e.code, close_code_name(e.code), print::printable(e.reason, 40));
                notify_closed(c, e.code, e.reason);
                break;
            case Event::Kind::fail:
                log(c, "protocol failure: {} ({}) → closing with {} ({})", tr(describe(e.error)), name(e.error), e.code,
                    close_code_name(e.code));
                notify_closed(c, e.code, e.reason);
                break;
            default:
                break;  // pings are answered by the session; pongs only noted
        }
    });
    after_session(c);
    return used;
}

void Server::after_session(Connection& c) {
    if (c.session_.has_output()) mark_dirty(c);
    if (c.phase_ == Connection::Phase::websocket && c.session_.state() == Session::State::closed) begin_draining(c);
}

void Server::send(Connection& c, Opcode opcode, std::string_view payload) {
    if (c.is_open() && c.session_.send(opcode, payload)) mark_dirty(c);
}

void Server::broadcast(std::span<Connection* const> to, Opcode opcode, std::string_view payload) {
    BroadcastFrames frames(opcode, payload, shared_streams_);
    std::vector<Connection*> laggards;
    for (Connection* c : to) {
        if (!c->is_open()) continue;
        // One frame built for many, or (a compressor with context takeover) compressed for this one.
        const std::string* frame = frames.for_receiver(c->session_.deflate());
        if (frame ? !c->session_.send_prebuilt(*frame) : !c->session_.send(opcode, payload)) continue;
        mark_dirty(*c);
        if (c->backlog() > options_.max_backlog) laggards.push_back(c);
        // Many broadcasts in one loop turn (a crowd leaving at once) would otherwise pile up
        // in memory: write early once a queue is large. A broken connection found this way
        // is closed, and the handler hears of it later, in settle().
        else if (c->backlog() >= kEarlyFlush) flush(*c);
    }
    if (options_.log_frames != FrameLog::none) log_out(frames.log());
    for (Connection* c : laggards)  // the reason goes in the close frame: the same bytes in every language
        close(*c, static_cast<std::uint16_t>(CloseCode::try_again_later),
              fmt::format("too slow: over {} bytes waiting", options_.max_backlog));
}

void Server::close(Connection& c, std::uint16_t code, std::string_view reason) {
    if (!c.is_open()) return;
    log(c, "closing with {} ({}) {}", code, close_code_name(code), reason);
    c.session_.close(code, reason);
    notify_closed(c, code, reason);
    c.deadline_ = loop_.now() + options_.close_timeout;
    mark_dirty(c);
    schedule(c);
}

void Server::watch_frames(Connection& c) {
    c.watched_ = true;
    c.session_.set_observer(&c);
}

void Server::peer_gone(Connection& c, std::string_view reason) {
    // The TCP connection ended without (the rest of) the closing handshake.
    if (c.phase_ == Connection::Phase::websocket) {
        if (c.session_.is_open()) log(c, "gone: {}", reason);
        notify_closed(c, static_cast<std::uint16_t>(CloseCode::abnormal), reason);
    }
    kill(c, "");
}

void Server::notify_closed(Connection& c, std::uint16_t code, std::string_view reason) {
    if (!c.notified_open_) return;
    c.notified_open_ = false;
    // Not called here and now: the handler may broadcast, a broadcast may close a laggard,
    // and that close would call the handler again, as deep as there are laggards. Queued
    // instead, and delivered one after another by settle().
    pending_closes_.push_back({&c, code, std::string(reason)});
    if (!settle_scheduled_) {
        settle_scheduled_ = true;
        loop_.defer([this] { settle(); });
    }
}

void Server::settle() {
    settle_scheduled_ = false;
    do {
        for (std::size_t i = 0; i < pending_closes_.size(); ++i) {
            PendingClose p = std::move(pending_closes_[i]);  // on_close may add to the list
            handler_.on_close(*this, *p.connection, p.code, p.reason);
        }
        pending_closes_.clear();
        // Everything queued during this turn goes out now: one write per client, however many
        // frames it holds. By index: a flush that finds a broken connection can queue more.
        for (std::size_t i = 0; i < dirty_.size(); ++i) {
            Connection& c = *dirty_[i];
            c.dirty_ = false;
            if (c.phase_ != Connection::Phase::dead) flush(c);
        }
        dirty_.clear();
    } while (!pending_closes_.empty());

    for (Connection* c : dead_) {
        std::uint32_t slot = c->slot_;
        if (slot + 1 != connections_.size()) {
            connections_[slot] = std::move(connections_.back());
            connections_[slot]->slot_ = slot;
        }
        connections_.pop_back();
    }
    dead_.clear();
    if (shutting_down_ && connections_.empty()) loop_.quit();
}

void Server::respond_and_hang_up(Connection& c, std::string response) {
    c.session_.send_raw(response);
    begin_draining(c);
}

void Server::begin_draining(Connection& c) {
    // Send what is queued, then half-close (FIN) and read until the client hangs up too, so no
    // unread input turns our last bytes into a reset (RFC 6455 §7.1.1: the server closes first).
    c.phase_ = Connection::Phase::draining;
    c.deadline_ = loop_.now() + options_.close_timeout;
    c.pending_.reset();
    c.reading_paused_ = false;
    mark_dirty(c);
    schedule(c);
}

void Server::mark_dirty(Connection& c) {
    if (c.dirty_) return;
    c.dirty_ = true;
    dirty_.push_back(&c);
    if (!settle_scheduled_) {
        settle_scheduled_ = true;
        loop_.defer([this] { settle(); });
    }
}

void Server::flush(Connection& c) {
    if (c.phase_ == Connection::Phase::tls) return;  // nothing is written before the TLS handshake ends
    c.write_wants_read_ = false;
    while (c.session_.has_output()) {
        net::IoResult r = c.transport_.write(c.session_.output());
        if (r.status == net::Io::done && r.bytes > 0) {
            c.session_.wrote(r.bytes);
            continue;
        }
        if (r.status == net::Io::error || r.status == net::Io::eof) {
            peer_gone(c, tr("the connection broke while sending"));
            return;
        }
        // The socket is full (epoll says when it has room), or TLS needs to read first; the
        // same bytes are offered again then.
        c.write_wants_read_ = r.status == net::Io::want_read;
        break;
    }
    if (!c.session_.has_output() && c.phase_ == Connection::Phase::draining && !c.write_shut_) {
        // After a complete closing handshake nothing more may come from the client (RFC 6455
        // §5.5.1), so the server closes the TCP connection first (§7.1.1) at once. After a
        // failure or a refusal the client may still be sending: half-close, read what it still
        // sends, and close when it does, so no unread input turns our last bytes into a reset.
        if (c.session_.close_sent() && c.session_.close_received()) {
            kill(c, "");
            return;
        }
        c.transport_.shutdown_write();
        c.write_shut_ = true;
    }
    // Backpressure: a client that does not read its replies is not read from either.
    bool was_paused = c.reading_paused_;
    if (c.backlog() > options_.max_backlog) c.reading_paused_ = true;
    else if (c.backlog() <= options_.max_backlog / 2) c.reading_paused_ = false;
    update_interest(c);
    if (was_paused && !c.reading_paused_ && c.transport_.has_pending()) {
        // Reading resumes, but what OpenSSL holds wakes no epoll: read it soon, if still there.
        loop_.defer([this, id = c.id_, slot = c.slot_] {
            if (slot < connections_.size() && connections_[slot]->id_ == id) on_readable(*connections_[slot]);
        });
    }
    if (c.phase_ == Connection::Phase::websocket && c.session_.can_release_memory()) schedule(c);
}

void Server::update_interest(Connection& c) {
    // A TLS read that waits for room to write watches for room only (readable would fire again
    // and again with nothing to do), and a write that waits for bytes watches for bytes.
    bool read = (!c.reading_paused_ || c.write_wants_read_ || c.phase_ == Connection::Phase::tls) && !c.read_wants_write_;
    bool write = (c.session_.has_output() && c.phase_ != Connection::Phase::tls && !c.write_wants_read_) ||
                 c.read_wants_write_;
    auto want = static_cast<std::uint8_t>((read ? unsigned{EPOLLIN} : 0u) | (write ? unsigned{EPOLLOUT} : 0u));
    if (want != c.interest_) {
        c.interest_ = want;
        loop_.modify(c.transport_.fd(), want, c);
    }
}

void Server::kill(Connection& c, std::string_view why) {
    if (c.phase_ == Connection::Phase::dead) return;
    if (!why.empty()) log(c, "{}", why);
    if (c.held_) {
        c.held_ = false;
        handler_.on_request_dropped(*this, c);
    }
    loop_.cancel(c);
    c.transport_.close();  // closing the descriptor also takes it out of epoll
    c.phase_ = Connection::Phase::dead;
    dead_.push_back(&c);
    if (!settle_scheduled_) {
        settle_scheduled_ = true;
        loop_.defer([this] { settle(); });
    }
}

void Server::schedule(Connection& c) {
    // One timer per connection, set to the earliest thing it waits for. It is only ever moved
    // earlier here; when it fires too early (the client was busy since), on_connection_timer
    // finds nothing to do and sets it again. So a read costs no timer work at all.
    auto when = net::Clock::time_point::max();
    switch (c.phase_) {
        case Connection::Phase::tls:
        case Connection::Phase::http:
        case Connection::Phase::draining:
            when = c.deadline_;
            break;
        case Connection::Phase::websocket:
            if (!c.session_.is_open()) {
                when = c.deadline_;  // our close frame's answer
                break;
            }
            if (options_.ping_interval.count() > 0)
                when = c.session_.awaiting_pong() ? c.deadline_ : c.last_seen_ + options_.ping_interval;
            if (c.session_.can_release_memory()) when = std::min(when, c.last_seen_ + kReleaseAfter);
            break;
        case Connection::Phase::dead:
            loop_.cancel(c);
            return;
    }
    if (when == net::Clock::time_point::max()) return;
    // Never in the past: what was due has just been handled.
    when = std::max(when, loop_.now() + std::chrono::milliseconds(1));
    if (!c.armed() || when < c.when()) loop_.arm(c, when);
}

void Server::on_connection_timer(Connection& c) {
    auto now = loop_.now();
    switch (c.phase_) {
        case Connection::Phase::tls:
            if (now >= c.deadline_) {
                kill(c, tr("no TLS handshake in time"));  // no HTTP can be said before TLS
                return;
            }
            break;
        case Connection::Phase::http:
            if (now >= c.deadline_ && c.held_) {
                kill(c, tr("a held request was not answered in time"));
                return;
            }
            if (now >= c.deadline_ && c.kept_alive_ && !c.pending_) {
                kill(c, tr("keep-alive connection idle: closed"));
                return;
            }
            if (now >= c.deadline_) {
                log(c, "no complete request in time → 408");
                respond_and_hang_up(c, html::response(408, "no complete request in time\n"));
                return;
            }
            break;
        case Connection::Phase::draining:
            if (now >= c.deadline_) {
                kill(c, tr("closed (the client did not finish the close in time)"));
                return;
            }
            break;
        case Connection::Phase::websocket:
            if (!c.session_.is_open()) {
                if (now >= c.deadline_) {
                    kill(c, tr("closed (the client did not answer our close in time)"));
                    return;
                }
                break;
            }
            // An idle connection holds no buffers: memory per idle client stays small.
            if (now - c.last_seen_ >= kReleaseAfter) {
                c.session_.release_memory();
            }
            if (options_.ping_interval.count() <= 0) break;
            if (c.session_.awaiting_pong() && now >= c.deadline_) {
                log(c, "no pong in time");
                close(c, static_cast<std::uint16_t>(CloseCode::policy_violation), "no pong in time");
                return;
            }
            if (!c.session_.awaiting_pong() && now - c.last_seen_ >= options_.ping_interval) {
                c.session_.ping("keep-alive");
                c.deadline_ = now + options_.ping_interval;
                mark_dirty(c);
            }
            break;
        case Connection::Phase::dead:
            return;
    }
    schedule(c);
}

void Server::on_server_timer() {
    auto now = loop_.now();
    if (accept_paused_ && now >= accept_resume_ && !shutting_down_) {
        loop_.watch(listener_.fd(), EPOLLIN, listener_watch_);
        accept_paused_ = false;
    }
    if (shutting_down_) {
        if (now >= shutdown_deadline_) {
            for (auto& c : connections_) kill(*c, "server stopped");
            loop_.quit();
            return;
        }
        loop_.arm(server_timer_, shutdown_deadline_);
    }
}

void Server::begin_shutdown() {
    if (shutting_down_) return;
    shutting_down_ = true;
    handler_.on_shutdown(*this);
    shutdown_deadline_ = loop_.now() + options_.close_timeout;
    if (!accept_paused_) loop_.unwatch(listener_.fd());
    loop_.arm(server_timer_, shutdown_deadline_);
    // By index: kill() does not change the table before settle().
    for (std::size_t i = 0; i < connections_.size(); ++i) {
        Connection& c = *connections_[i];
        if (c.is_open()) close(c, static_cast<std::uint16_t>(CloseCode::going_away), "server shutting down");
        else if (c.phase_ == Connection::Phase::http || c.phase_ == Connection::Phase::tls) kill(c, "");
    }
    if (!settle_scheduled_) {
        settle_scheduled_ = true;
        loop_.defer([this] { settle(); });
    }
}

void stop_on_signals(Server& server) {
    g_signal_target = &server;
    net::call_on_stop_signals([] {
        if (Server* target = g_signal_target.load()) target->stop();
    });
}

}  // namespace ws::server
