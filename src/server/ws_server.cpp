#include "server/ws_server.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "net/signals.hpp"
#include "print/frame_diagram.hpp"
#include "print/print.hpp"
#include "proto/handshake.hpp"
#include "server/html.hpp"

namespace ws::server {
namespace {

constexpr std::uint64_t kListenerTag = 0;
constexpr std::uint64_t kWakerTag = 1;
constexpr auto kTick = std::chrono::milliseconds(100);
constexpr auto kReleaseAfter = std::chrono::seconds(1);
constexpr std::size_t kEarlyFlush = 64 * 1024;

std::uint64_t tag_of(Connection& c) { return reinterpret_cast<std::uintptr_t>(&c); }

std::string_view path_of(std::string_view target) { return target.substr(0, target.find('?')); }

// The header of a frame this server just built (for -v/-vv only).
FrameHeader header_of(std::string_view frame) {
    return parse_header(std::span(reinterpret_cast<const std::uint8_t*>(frame.data()), frame.size())).header;
}

}  // namespace

Server::Server(Options options, Handler& handler)
    : options_(std::move(options)),
      handler_(handler),
      listener_(options_.host, options_.port, /*non_blocking=*/true),
      read_buffer_(256 * 1024) {
    epoll_.add(listener_.fd(), EPOLLIN, kListenerTag);
    epoll_.add(waker_.fd(), EPOLLIN, kWakerTag);
}

void Server::log(const Connection& c, std::string_view text) const {
    if (options_.log_connections) print::out(fmt::format("{} {}\n", print::paint(fmt::format("#{}", c.id), print::Style::bold), text));
}

void Server::log_frame(const Connection& c, const FrameHeader& h, std::string_view header_bytes,
                       std::string_view payload, bool incoming) const {
    std::string s = fmt::format("#{} {}\n", c.id, print::frame_summary(h, payload, incoming));
    if (options_.log_frames == FrameLog::diagram) {
        s += print::frame_diagram(h, header_bytes);
        // The first 64 bytes of the frame (the payload unmasked); copy no more of a payload
        // that may be 16 MiB.
        std::string shown = std::string(header_bytes) + std::string(payload.substr(0, 64 - std::min<std::size_t>(64, header_bytes.size())));
        if (h.masked) s += print::paint("the frame's bytes, with the payload already unmasked:\n", print::Style::dim);
        s += print::hexdump(shown);
        if (std::size_t total = header_bytes.size() + payload.size(); total > shown.size())
            s += fmt::format("      … {} more bytes not shown\n", total - shown.size());
    }
    print::out(s);
}

void Server::run() {
    std::vector<epoll_event> events(1024);
    auto next_timer_check = net::Clock::now() + kTick;
    for (;;) {
        for (const epoll_event& ev : epoll_.wait(events, kTick)) {
            if (ev.data.u64 == kListenerTag) {
                accept_clients();
            } else if (ev.data.u64 == kWakerTag) {
                waker_.drain();
                begin_shutdown();
            } else {
                auto& c = *reinterpret_cast<Connection*>(ev.data.u64);
                if (c.state == Connection::State::dead) continue;
                if (ev.events & (EPOLLIN | EPOLLHUP | EPOLLERR)) on_readable(c);
                if ((ev.events & EPOLLOUT) && c.state != Connection::State::dead) flush(c);
            }
        }
        // Everything the handlers queued during this turn goes out now: one write per client,
        // however many frames it holds.
        settle();
        for (auto id : dead_) connections_.erase(id);
        dead_.clear();

        auto now = net::Clock::now();
        if (now >= next_timer_check) {
            check_timers();
            next_timer_check = now + kTick;
        }
        if (shutting_down_ && (connections_.empty() || now >= shutdown_deadline_)) {
            for (auto& [id, c] : connections_)
                if (c->state != Connection::State::dead) kill(*c, "server stopped");
            connections_.clear();
            return;
        }
    }
}

void Server::accept_clients() {
    // Take every waiting client, but not forever: others are waiting for this thread too.
    for (int i = 0; i < 256 && !shutting_down_; ++i) {
        net::Endpoint peer;
        int error = 0;
        net::Fd fd = listener_.accept(&peer, &error);
        if (error == EMFILE || error == ENFILE) {
            // Out of file descriptors: stop accepting for a moment instead of spinning.
            auto now = net::Clock::now();
            if (now - last_fd_warning_ >= std::chrono::seconds(10)) {
                print::err(fmt::format("warning: cannot accept a connection: {} — raise `ulimit -n`; "
                                       "new clients wait until others leave", std::strerror(error)));
                last_fd_warning_ = now;
            }
            epoll_.remove(listener_.fd());
            accept_paused_ = true;
            accept_resume_ = now + kTick;
            return;
        }
        if (!fd) return;
        net::set_non_blocking(fd.get());
        net::set_no_delay(fd.get());
        auto conn = std::make_unique<Connection>(next_id_++, std::move(fd), options_);
        Connection& c = *conn;
        c.last_seen = net::Clock::now();
        c.deadline = c.last_seen + options_.handshake_timeout;
        if (options_.log_frames != FrameLog::none) {
            c.receiver.on_frame = [this, &c](const FrameHeader& h, std::string_view header, std::string_view payload) {
                log_frame(c, h, header, payload, true);
            };
        }
        c.interest = EPOLLIN;
        try {
            epoll_.add(c.fd.get(), c.interest, tag_of(c));
        } catch (const std::system_error& e) {
            print::err(fmt::format("warning: {}; dropping a new client", e.what()));
            continue;  // the connection is closed as `conn` goes out of scope
        }
        connections_.emplace(c.id, std::move(conn));
        log(c, fmt::format("connect {}", peer.str()));
    }
}

void Server::on_readable(Connection& c) {
    ssize_t n = ::recv(c.fd.get(), read_buffer_.data(), read_buffer_.size(), 0);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
        peer_closed(c, 1006, "connection reset");
        return;
    }
    if (n == 0) {
        peer_closed(c, 1006, "the client hung up without a close frame");
        return;
    }
    c.last_seen = net::Clock::now();
    auto bytes = std::span(read_buffer_.data(), static_cast<std::size_t>(n));

    switch (c.state) {
        case Connection::State::http:
            c.in.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
            handle_http(c);
            return;
        case Connection::State::open:
        case Connection::State::closing:
            break;
        default:
            return;  // draining: the client's last bytes are read and dropped
    }

    if (c.in.empty()) {
        // The usual case: frames are handled straight from the read buffer, and only an
        // incomplete tail is kept for the next read.
        std::size_t used = handle_frames(c, bytes);
        if (used < bytes.size() && c.state != Connection::State::dead && c.state != Connection::State::draining)
            c.in.assign(reinterpret_cast<const char*>(bytes.data() + used), bytes.size() - used);
    } else {
        c.in.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
        std::size_t used = handle_frames(c, std::span(reinterpret_cast<std::uint8_t*>(c.in.data()), c.in.size()));
        if (c.state == Connection::State::dead || c.state == Connection::State::draining) return;
        c.in.erase(0, used);
        if (c.in.empty()) std::string().swap(c.in);
    }
}

void Server::handle_http(Connection& c) {
    http::ParseResult r = c.parser.parse(c.in);
    if (r.status == http::ParseResult::Status::need_more) return;
    if (r.status == http::ParseResult::Status::error) {
        log(c, fmt::format("bad request: {} ({})", http::describe(r.error), r.detail));
        int status = r.error == http::ParseError::head_too_large || r.error == http::ParseError::too_many_headers ? 431 : 400;
        respond_and_hang_up(c, html::response(status, fmt::format("{}: {}\n", http::describe(r.error), r.detail)));
        return;
    }
    const http::Request& req = r.request;

    if (!handshake::wants_websocket(req)) {
        if (req.method != "GET" && req.method != "HEAD") {
            respond_and_hang_up(c, html::response(405, "only GET is served here\n"));
            return;
        }
        html::Page page = html::find(req.target, options_.index_page, options_.html_dir);
        log(c, fmt::format("HTTP {} {} → {}", req.method, req.target, page.status));
        respond_and_hang_up(c, html::response(page, req.method == "HEAD"));
        return;
    }
    if (!options_.ws_path.empty() && path_of(req.target) != options_.ws_path) {
        log(c, fmt::format("upgrade refused: {} is not {}", req.target, options_.ws_path));
        respond_and_hang_up(c, html::response(404, fmt::format("the WebSocket endpoint is {}\n", options_.ws_path)));
        return;
    }
    handshake::Result result = handshake::check_request(req, options_.protocols);
    if (!result.ok()) {
        const auto* failed = result.first_failure();
        log(c, fmt::format("handshake refused ({}): {}", result.status(), failed->detail));
        respond_and_hang_up(c, handshake::response_refusal(result));
        return;
    }

    std::string response = handshake::response_101(result);
    c.out.append(response);
    mark_dirty(c);
    c.state = Connection::State::open;
    const http::Header* agent = req.find("User-Agent");
    log(c, fmt::format("handshake ok · GET {}{}", req.target, agent ? " · " + agent->value.substr(0, 60) : ""));

    // Frames the client sent right behind its request are already in `in`.
    std::string rest = c.in.substr(r.consumed);
    std::string().swap(c.in);
    c.notified_open = true;
    handler_.on_open(*this, c);
    if (!rest.empty() && c.state == Connection::State::open) {
        std::size_t used = handle_frames(c, std::span(reinterpret_cast<std::uint8_t*>(rest.data()), rest.size()));
        bool reading = c.state == Connection::State::open || c.state == Connection::State::closing;
        if (reading && used < rest.size()) c.in = rest.substr(used);
    }
}

std::size_t Server::handle_frames(Connection& c, std::span<std::uint8_t> bytes) {
    std::size_t total = 0;
    while (c.state == Connection::State::open || c.state == Connection::State::closing) {
        std::size_t consumed = 0;
        Event e = c.receiver.next(bytes.subspan(total), consumed);
        total += consumed;
        switch (e.kind) {
            case Event::Kind::need_more:
                return total;
            case Event::Kind::message:
                // Once we have sent a close frame, data that crosses it on the wire is dropped.
                if (c.state == Connection::State::open) handler_.on_message(*this, c, e.type, e.payload);
                break;
            case Event::Kind::ping:
                // RFC 6455 §5.5.2: answer with a pong carrying the same payload.
                if (c.state == Connection::State::open) send(c, Opcode::pong, e.payload);
                break;
            case Event::Kind::pong:
                c.ping_outstanding = false;  // §5.5.3: an unsolicited pong is simply noted
                break;
            case Event::Kind::close:
                peer_closed(c, e.code, e.reason);
                return total;
            case Event::Kind::fail:
                fail(c, e.code, e.reason);
                return total;
        }
    }
    return total;
}

void Server::send(Connection& c, Opcode opcode, std::string_view payload) {
    if (c.state == Connection::State::open) queue_frame(c, opcode, payload);
}

void Server::queue_frame(Connection& c, Opcode opcode, std::string_view payload) {
    std::size_t before = c.out.size();
    append_frame(c.out, opcode, payload);
    if (options_.log_frames != FrameLog::none) {
        std::string_view frame(c.out.data() + before, c.out.size() - before);
        const FrameHeader header = header_of(frame);
        log_frame(c, header, frame.substr(0, header.header_length), payload, false);
    }
    mark_dirty(c);
}

void Server::send_close(Connection& c, std::uint16_t code, std::string_view payload, std::string_view reason) {
    queue_frame(c, Opcode::close, payload);
    c.state = Connection::State::closing;
    notify_closed(c, code, reason);
}

void Server::broadcast(std::span<Connection* const> to, Opcode opcode, std::string_view payload) {
    std::string frame;
    append_frame(frame, opcode, payload);
    if (options_.log_frames != FrameLog::none && !to.empty())
        print::out(fmt::format("   {} (to {} clients)\n", print::frame_summary(header_of(frame), payload, false), to.size()));
    std::vector<Connection*> laggards;
    for (Connection* c : to) {
        if (c->state != Connection::State::open) continue;
        c->out.append(frame);
        mark_dirty(*c);
        if (c->backlog() > options_.max_backlog) laggards.push_back(c);
        // Many broadcasts in one loop turn (a crowd leaving at once) would otherwise pile up
        // in memory: write early once a queue is large. A broken connection found this way
        // is closed, and the handler hears of it later, in settle().
        else if (c->backlog() >= kEarlyFlush) flush(*c);
    }
    for (Connection* c : laggards)
        close(*c, static_cast<std::uint16_t>(CloseCode::try_again_later),
              fmt::format("too slow: over {} bytes waiting", options_.max_backlog));
}

void Server::close(Connection& c, std::uint16_t code, std::string_view reason) {
    if (c.state != Connection::State::open) return;
    log(c, fmt::format("closing with {} ({}) {}", code, close_code_name(code), reason));
    send_close(c, code, close_payload(code, reason), reason);
    c.deadline = net::Clock::now() + options_.close_timeout;
}

void Server::peer_closed(Connection& c, std::uint16_t code, std::string_view reason) {
    if (code == 1006) {
        // The TCP connection ended without a close frame.
        if (c.state == Connection::State::open) log(c, fmt::format("gone: {}", reason));
        if (c.state == Connection::State::open || c.state == Connection::State::closing) notify_closed(c, code, reason);
        kill(c, "");
        return;
    }
    if (c.state == Connection::State::open) {
        log(c, fmt::format("close {} ({}){}", code, close_code_name(code),
                           reason.empty() ? "" : fmt::format(" \"{}\"", reason)));
        // RFC 6455 §5.5.1: answer with a close frame, echoing the status code.
        send_close(c, code, code == 1005 ? std::string() : close_payload(code, ""), reason);
    }
    begin_draining(c);
}

void Server::fail(Connection& c, std::uint16_t code, std::string_view reason) {
    // RFC 6455 §7.1.7 "Fail the WebSocket Connection": send a close frame with the reason, hang up.
    if (c.state == Connection::State::open) {
        log(c, fmt::format("protocol failure: {} → closing with {} ({})", reason, code, close_code_name(code)));
        send_close(c, code, close_payload(code, reason), reason);
    }
    begin_draining(c);
}

void Server::notify_closed(Connection& c, std::uint16_t code, std::string_view reason) {
    if (!c.notified_open) return;
    c.notified_open = false;
    // Not called here and now: the handler may broadcast, a broadcast may close a laggard,
    // and that close would call the handler again, as deep as there are laggards. Queued
    // instead, and delivered one after another by settle().
    pending_closes_.push_back({&c, code, std::string(reason)});
}

void Server::settle() {
    do {
        for (std::size_t i = 0; i < pending_closes_.size(); ++i) {
            PendingClose p = std::move(pending_closes_[i]);  // on_close may add to the list
            handler_.on_close(*this, *p.connection, p.code, p.reason);
        }
        pending_closes_.clear();
        flush_dirty();  // which may find broken connections, and so more to tell the handler
    } while (!pending_closes_.empty());
}

void Server::respond_and_hang_up(Connection& c, std::string response) {
    c.out.append(response);
    std::string().swap(c.in);
    begin_draining(c);
}

void Server::begin_draining(Connection& c) {
    // Send what is queued, then half-close (FIN) and read until the client hangs up too, so no
    // unread input turns our last bytes into a reset (RFC 6455 §7.1.1: the server closes first).
    c.state = Connection::State::draining;
    c.deadline = net::Clock::now() + options_.close_timeout;
    std::string().swap(c.in);
    c.reading_paused = false;
    mark_dirty(c);
}

void Server::mark_dirty(Connection& c) {
    if (!c.dirty) {
        c.dirty = true;
        dirty_.push_back(&c);
    }
}

void Server::flush_dirty() {
    // By index: a flush that finds a broken connection can make the handler queue more.
    for (std::size_t i = 0; i < dirty_.size(); ++i) {
        Connection& c = *dirty_[i];
        c.dirty = false;
        if (c.state != Connection::State::dead) flush(c);
    }
    dirty_.clear();
}

void Server::flush(Connection& c) {
    while (c.out_sent < c.out.size()) {
        ssize_t n = ::send(c.fd.get(), c.out.data() + c.out_sent, c.out.size() - c.out_sent, MSG_NOSIGNAL);
        if (n > 0) {
            c.out_sent += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        peer_closed(c, 1006, "the connection broke while sending");
        return;
    }
    if (c.out_sent == c.out.size()) {
        // Keep the capacity while the client is busy (allocating and faulting in fresh pages for
        // every large message costs more than the copy); check_timers gives it back once idle.
        c.out.clear();
        c.out_sent = 0;
        if (c.state == Connection::State::draining && !c.write_shut) {
            ::shutdown(c.fd.get(), SHUT_WR);
            c.write_shut = true;
        }
    } else if (c.out_sent > c.out.size() / 2) {
        c.out.erase(0, c.out_sent);
        c.out_sent = 0;
    }
    // Backpressure: a client that does not read its replies is not read from either.
    if (c.backlog() > options_.max_backlog) c.reading_paused = true;
    else if (c.backlog() <= options_.max_backlog / 2) c.reading_paused = false;
    update_interest(c);
}

void Server::update_interest(Connection& c) {
    std::uint32_t want = (c.reading_paused ? 0u : static_cast<std::uint32_t>(EPOLLIN)) | (c.backlog() ? EPOLLOUT : 0u);
    if (want != c.interest) {
        c.interest = want;
        epoll_.modify(c.fd.get(), want, tag_of(c));
    }
}

void Server::kill(Connection& c, std::string_view why) {
    if (c.state == Connection::State::dead) return;
    if (!why.empty()) log(c, why);
    epoll_.remove(c.fd.get());
    c.fd.reset();
    c.state = Connection::State::dead;
    dead_.push_back(c.id);
}

void Server::check_timers() {
    auto now = net::Clock::now();
    if (accept_paused_ && now >= accept_resume_ && !shutting_down_) {
        epoll_.add(listener_.fd(), EPOLLIN, kListenerTag);
        accept_paused_ = false;
    }
    for (auto& [id, ptr] : connections_) {
        Connection& c = *ptr;
        switch (c.state) {
            case Connection::State::http:
                if (now >= c.deadline) {
                    log(c, "no complete request in time");
                    respond_and_hang_up(c, html::response(408, "no complete request in time\n"));
                }
                break;
            case Connection::State::closing:
            case Connection::State::draining:
                if (now >= c.deadline) kill(c, "closed (the client did not finish the close in time)");
                break;
            case Connection::State::open:
                // An idle connection holds no buffers: memory per idle client stays small.
                if (now - c.last_seen >= kReleaseAfter) {
                    if (c.out.empty() && c.out.capacity() > 0) std::string().swap(c.out);
                    c.receiver.release_memory();
                }
                if (options_.ping_interval.count() <= 0) break;
                if (c.ping_outstanding && now >= c.deadline) {
                    log(c, "no pong in time");
                    close(c, static_cast<std::uint16_t>(CloseCode::policy_violation), "no pong in time");
                } else if (!c.ping_outstanding && now - c.last_seen >= options_.ping_interval) {
                    c.ping_outstanding = true;
                    c.deadline = now + options_.ping_interval;
                    send(c, Opcode::ping, "keep-alive");
                }
                break;
            case Connection::State::dead:
                break;
        }
    }
    settle();
}

void Server::begin_shutdown() {
    if (shutting_down_) return;
    shutting_down_ = true;
    shutdown_deadline_ = net::Clock::now() + options_.close_timeout;
    if (!accept_paused_) epoll_.remove(listener_.fd());
    for (auto& [id, ptr] : connections_) {
        Connection& c = *ptr;
        if (c.state == Connection::State::open) close(c, static_cast<std::uint16_t>(CloseCode::going_away), "server shutting down");
        else if (c.state == Connection::State::http) kill(c, "");
    }
}

void stop_on_signals(Server& server) {
    static Server* target = nullptr;
    target = &server;
    net::call_on_stop_signals([] { target->stop(); });
}

}  // namespace ws::server
