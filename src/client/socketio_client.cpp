#include "client/socketio_client.hpp"

#include "i18n/i18n.hpp"

#include <poll.h>

#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "net/socket.hpp"
#include "print/print.hpp"
#include "proto/engineio.hpp"
#include "proto/http.hpp"
#include "proto/socketio.hpp"

namespace ws {
namespace {

// A polling body as a person reads it: its packets, the 0x1e between them shown as ␞.
std::string body_text(std::string_view body) {
    std::string out;
    std::size_t at = 0;
    for (;;) {
        std::size_t end = body.find(eio::kSeparator, at);
        out += print::bare(body.substr(at, end == std::string_view::npos ? std::string_view::npos : end - at), 60);
        if (end == std::string_view::npos) return out;
        out += " ␞ ";
        at = end + 1;
    }
}

}  // namespace

HttpReply http_exchange(net::Transport& t, std::string_view request, std::chrono::milliseconds timeout) {
    net::Deadline deadline = net::after(timeout);
    std::string_view left = request;
    while (!left.empty()) {
        net::IoResult w = t.write(left);
        if (w.status == net::Io::done) left.remove_prefix(w.bytes);
        else if (w.status == net::Io::want_write || w.status == net::Io::want_read) {
            if (!net::wait_for(t.fd(), POLLOUT, deadline)) throw std::runtime_error(tr("HTTP: the request could not be sent in time"));
        } else throw std::runtime_error(tr("HTTP: the connection broke while sending"));
    }
    std::string in;
    http::ResponseParser parser;
    char buffer[16 * 1024];
    for (;;) {
        auto r = parser.parse(in);
        if (r.status == http::ParseStatus::error) throw std::runtime_error(trf("HTTP: a malformed response: {}", r.shown));
        if (r.status == http::ParseStatus::complete) {
            std::size_t length = 0;
            if (const http::Header* h = r.response.find("Content-Length")) length = std::stoul(h->value);
            if (in.size() >= r.consumed + length) {
                HttpReply reply{r.response.status, in.substr(0, r.consumed), in.substr(r.consumed, length)};
                return reply;
            }
        }
        net::IoResult got = t.read(buffer, sizeof buffer);
        if (got.status == net::Io::done) {
            in.append(buffer, got.bytes);
            continue;
        }
        if (got.status == net::Io::eof || got.status == net::Io::error)
            throw std::runtime_error(tr("HTTP: the server closed the connection before answering"));
        if (!net::wait_for(t.fd(), POLLIN, deadline)) throw std::runtime_error(tr("HTTP: no answer in time"));
    }
}

SocketIoClient::SocketIoClient(std::string host, std::uint16_t port, Random& random, Start start,
                               std::function<void(std::string_view)> show)
    : host_(std::move(host)), port_(port), random_(random), show_(std::move(show)) {
    if (start == Start::websocket_only) {
        say(fmt::format("WebSocket {}", url("websocket")));
        ws_ = std::make_unique<Client>(host_, port_, url("websocket"), random_);
        auto open = ws_->receive(std::chrono::seconds(5));
        if (open.kind != Event::Kind::message) throw std::runtime_error(tr("socket.io: no open packet on the WebSocket"));
        handle(open.payload);
    } else {
        get_conn_ = net::Transport(net::connect_to(host_, port_));
        post_conn_ = net::Transport(net::connect_to(host_, port_));
        say(fmt::format("GET {}", url("polling")));
        HttpReply open = http_exchange(get_conn_, fmt::format("GET {} HTTP/1.1\r\nHost: {}:{}\r\n\r\n", url("polling"), host_, port_),
                                       std::chrono::seconds(5));
        if (open.status != 200) throw std::runtime_error(trf("socket.io: the open request got {}: {}", open.status, open.body));
        say(fmt::format("  ← {} {}", open.status, body_text(open.body)));
        handle(open.body);
    }
    if (sid_.empty()) throw std::runtime_error(tr("socket.io: the server sent no sid"));
    send_packet("40");  // Socket.IO CONNECT to the main namespace
    // The answer: 40{"sid":…}.
    for (int i = 0; i < 3 && events_.empty(); ++i) {
        if (ws_) {
            auto m = ws_->receive(std::chrono::seconds(5));
            if (m.kind != Event::Kind::message) break;
            say(trf("  ← frame {}", print::bare(m.payload, 70)));
            handle(m.payload);
            if (m.payload.rfind("40", 0) == 0) break;
        } else {
            std::string body = poll();
            bool connected = body.find("40") != std::string::npos;
            if (connected) break;
        }
    }
    if (start == Start::polling_then_upgrade) upgrade();
}

SocketIoClient::~SocketIoClient() = default;

void SocketIoClient::say(std::string_view line) const {
    if (show_) show_(line);
}

std::string SocketIoClient::url(std::string_view transport) const {
    std::string u = fmt::format("/socket.io/?EIO=4&transport={}", transport);
    if (!sid_.empty()) u += "&sid=" + sid_;
    return u;
}

std::string SocketIoClient::poll() {
    say(trf("GET {} (a poll)", url("polling")));
    HttpReply r = http_exchange(get_conn_, fmt::format("GET {} HTTP/1.1\r\nHost: {}:{}\r\n\r\n", url("polling"), host_, port_),
                                std::chrono::seconds(60));
    say(fmt::format("  ← {} {}", r.status, body_text(r.body)));
    if (r.status != 200) {
        closed_ = true;
        return {};
    }
    eio::PayloadResult packets = eio::parse_payload(r.body);
    if (!packets.ok()) throw std::runtime_error(trf("socket.io: a malformed polling body: {}", packets.detail));
    for (const eio::Packet& p : packets.packets) handle(eio::encode_text(p));
    return r.body;
}

void SocketIoClient::post(std::string_view body) {
    say(fmt::format("POST {} {}", url("polling"), body_text(body)));
    HttpReply r = http_exchange(post_conn_,
                                fmt::format("POST {} HTTP/1.1\r\nHost: {}:{}\r\nContent-Type: text/plain;charset=UTF-8\r\n"
                                            "Content-Length: {}\r\n\r\n{}",
                                            url("polling"), host_, port_, body.size(), body),
                                std::chrono::seconds(5));
    say(fmt::format("  ← {} {}", r.status, body_text(r.body)));
    if (r.status != 200) closed_ = true;
}

void SocketIoClient::send_packet(std::string_view text) {
    if (ws_) {
        say(trf("frame {}", print::bare(text, 70)));
        ws_->send_text(text);
    } else {
        post(text);
    }
}

void SocketIoClient::handle(std::string_view text) {
    auto r = eio::parse_text(text);
    if (!r.packet) return;
    switch (r.packet->type) {
        case eio::PacketType::open: {
            auto j = nlohmann::json::parse(r.packet->data, nullptr, false);
            if (j.is_object() && j.contains("sid") && j["sid"].is_string()) sid_ = j["sid"].get<std::string>();
            return;
        }
        case eio::PacketType::ping:
            send_packet("3");
            return;
        case eio::PacketType::close:
            closed_ = true;
            return;
        case eio::PacketType::message: {
            auto p = sio::parse(r.packet->data);
            if (p.packet && p.packet->type == sio::PacketType::event && p.packet->data.size() >= 2 &&
                p.packet->data[0] == "message")
                events_.push_back(p.packet->data[1].dump());
            return;
        }
        default:
            return;
    }
}

void SocketIoClient::upgrade() {
    say(trf("WebSocket {} (upgrade)", url("websocket")));
    ws_ = std::make_unique<Client>(host_, port_, url("websocket"), random_);
    say(tr("frame 2probe"));
    ws_->send_text("2probe");
    auto answer = ws_->receive(std::chrono::seconds(5));
    if (answer.kind != Event::Kind::message || answer.payload != "3probe")
        throw std::runtime_error(tr("socket.io: the probe was not answered with 3probe"));
    say(tr("  ← frame 3probe"));
    // The poll that is pending (here: the next one) gets a noop, 6: polling may stop.
    std::unique_ptr<Client> held = std::move(ws_);
    for (int i = 0; i < 3; ++i)
        if (poll().find('6') != std::string::npos) break;
    ws_ = std::move(held);
    say(tr("frame 5 (upgrade: from now on, this WebSocket)"));
    ws_->send_text("5");
}

void SocketIoClient::emit(std::string_view event, std::string_view json) {
    send_packet(fmt::format("4{}", sio::event_text(event, json)));
}

std::optional<std::string> SocketIoClient::next_message(std::chrono::milliseconds timeout) {
    net::Deadline deadline = net::after(timeout);
    while (events_.empty() && !closed_ && net::Clock::now() < deadline) {
        if (ws_) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - net::Clock::now());
            auto m = ws_->receive(std::max(left, std::chrono::milliseconds(1)));
            if (m.kind == Event::Kind::close || m.kind == Event::Kind::fail) closed_ = true;
            if (m.kind != Event::Kind::message) continue;
            say(trf("  ← frame {}", print::bare(m.payload, 70)));
            handle(m.payload);
        } else {
            poll();
        }
    }
    if (events_.empty()) return std::nullopt;
    std::string e = std::move(events_.front());
    events_.pop_front();
    return e;
}

void SocketIoClient::disconnect() {
    if (closed_) return;
    send_packet("41");
    send_packet("1");
    closed_ = true;
    if (ws_) ws_->close(1000, "", std::chrono::seconds(2));
}

}  // namespace ws
