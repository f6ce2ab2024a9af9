#include "server/client.hpp"

#include <stdexcept>

#include "proto/handshake.hpp"
#include "proto/http.hpp"

namespace ws {
namespace {

// The Sec-WebSocket-Accept value of a response head ("" if absent); names in any case.
std::string_view accept_value(std::string_view head) {
    for (std::size_t at = head.find("\r\n"); at != std::string_view::npos;) {
        std::size_t end = head.find("\r\n", at + 2);
        std::string_view line = head.substr(at + 2, end == std::string_view::npos ? end : end - at - 2);
        std::size_t colon = line.find(':');
        if (colon != std::string_view::npos && http::iequals(line.substr(0, colon), "Sec-WebSocket-Accept"))
            return http::trim(line.substr(colon + 1));
        at = end;
    }
    return {};
}

}  // namespace

Client::Client(const std::string& host, std::uint16_t port, std::string_view path, Random& random,
               std::chrono::milliseconds timeout)
    : fd_(net::connect_to(host, port)), random_(random) {
    auto nonce = random_.nonce();
    std::string key = handshake::client_key(nonce);
    request_ = handshake::client_request(host + ":" + std::to_string(port), path, key);
    auto deadline = net::after(timeout);
    if (net::write_all(fd_.get(), request_, deadline) != net::IoStatus::ok)
        throw std::runtime_error("could not send the handshake request");

    // Read up to the empty line that ends the response head; anything after it is frames.
    for (;;) {
        auto end = buffer_.find("\r\n\r\n");
        if (end != std::string::npos) {
            response_ = buffer_.substr(0, end + 4);
            buffer_.erase(0, end + 4);
            break;
        }
        if (buffer_.size() > 16 * 1024) throw std::runtime_error("the handshake response is too large");
        char chunk[4096];
        std::size_t n = 0;
        auto status = net::read_some(fd_.get(), chunk, sizeof chunk, n, deadline);
        if (status == net::IoStatus::timeout) throw std::runtime_error("no handshake response in time");
        if (status != net::IoStatus::ok) throw std::runtime_error("the server closed the connection during the handshake");
        buffer_.append(chunk, n);
    }
    // RFC 6455 §4.1: the client checks the status and the accept key before using the connection.
    if (response_.rfind("HTTP/1.1 101", 0) != 0)
        throw std::runtime_error("handshake refused: " + response_.substr(0, response_.find("\r\n")));
    if (accept_value(response_) != handshake::accept_key(key))
        throw std::runtime_error("the server's Sec-WebSocket-Accept is wrong or missing");
}

net::Fd Client::take_connection(std::string& leftover) && {
    leftover = std::move(buffer_);
    return std::move(fd_);
}

void Client::send_raw(std::string_view bytes) {
    if (net::write_all(fd_.get(), bytes, net::after(std::chrono::seconds(10))) != net::IoStatus::ok)
        throw std::runtime_error("the connection closed while sending");
}

void Client::send(Opcode opcode, std::string_view payload, bool fin) {
    FrameSpec spec;
    spec.opcode = static_cast<std::uint8_t>(opcode);
    spec.fin = fin;
    spec.masked = true;  // RFC 6455 §5.3: a fresh, unpredictable key for every frame
    spec.mask = random_.mask_key();
    send_raw(build_frame(spec, payload));
}

void Client::send_close(std::uint16_t code, std::string_view reason) { send(Opcode::close, close_payload(code, reason)); }

ClientMessage Client::receive(std::chrono::milliseconds timeout) {
    auto deadline = net::after(timeout);
    for (;;) {
        std::size_t consumed = 0;
        Event e = receiver_.next(std::span(reinterpret_cast<std::uint8_t*>(buffer_.data()), buffer_.size()), consumed);
        ClientMessage m;
        m.kind = e.kind;
        m.type = e.type;
        m.payload = e.payload;
        m.code = e.code;
        m.reason = e.reason;
        buffer_.erase(0, consumed);
        if (e.kind == Event::Kind::ping) {
            send(Opcode::pong, m.payload);
            continue;
        }
        if (e.kind != Event::Kind::need_more) return m;

        char chunk[16 * 1024];
        std::size_t n = 0;
        auto status = net::read_some(fd_.get(), chunk, sizeof chunk, n, deadline);
        if (status == net::IoStatus::timeout) return ClientMessage{};
        if (status != net::IoStatus::ok) {
            ClientMessage closed;
            closed.kind = Event::Kind::close;
            closed.code = 1006;  // the TCP connection ended without a close frame
            closed.reason = "connection closed without a close frame";
            return closed;
        }
        buffer_.append(chunk, n);
    }
}

ClientMessage Client::close(std::uint16_t code, std::string_view reason) {
    send_close(code, reason);
    for (;;) {
        ClientMessage m = receive();
        if (m.kind == Event::Kind::close || m.kind == Event::Kind::fail || m.kind == Event::Kind::need_more) return m;
    }
}

}  // namespace ws
