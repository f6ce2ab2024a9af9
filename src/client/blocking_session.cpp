#include "client/blocking_session.hpp"

#include <stdexcept>

namespace ws {

BlockingSession::BlockingSession(net::Transport transport, Role role, ReceiverLimits limits, Random* random,
                                 std::string leftover)
    : transport_(std::move(transport)), session_(role, limits, random), buffer_(std::move(leftover)) {}

BlockingSession::~BlockingSession() {
    // A completed closing handshake ends as TCP should; anything else just drops the socket.
    if (transport_ && session_.state() == Session::State::closed) finish(std::chrono::milliseconds(500));
}

bool BlockingSession::flush(std::chrono::milliseconds timeout) {
    if (!session_.has_output()) return true;
    auto status = net::write_all(transport_, session_.output(), net::after(timeout));
    session_.wrote(session_.backlog());
    // Bytes not sent are gone: the stream is broken, and TLS may still hold half a record of
    // them that must never be followed by other bytes. The connection ends here.
    if (status != net::IoStatus::ok) transport_.close();
    return status == net::IoStatus::ok;
}

Received BlockingSession::receive(std::chrono::milliseconds timeout) {
    auto deadline = net::after(timeout);
    for (;;) {
        std::size_t consumed = 0;
        Event e = session_.next(std::span(reinterpret_cast<std::uint8_t*>(buffer_.data()), buffer_.size()), consumed);
        Received m{e.kind, e.type, std::string(e.payload), e.code, std::string(e.reason), e.error};
        buffer_.erase(0, consumed);
        if (auto_flush) flush();  // a pong, or the close that answers theirs
        if (e.kind == Event::Kind::ping && !report_pings) continue;
        if (e.kind != Event::Kind::need_more) return m;
        if (!transport_ || (session_.state() == Session::State::closed)) {
            m.kind = Event::Kind::close;
            m.code = static_cast<std::uint16_t>(CloseCode::abnormal);
            m.reason = "the connection is closed";
            return m;
        }

        char chunk[16 * 1024];
        std::size_t n = 0;
        auto status = net::read_some(transport_, chunk, sizeof chunk, n, deadline);
        if (status == net::IoStatus::timeout) return Received{};
        if (status != net::IoStatus::ok) {
            transport_.close();
            m.kind = Event::Kind::close;
            m.code = static_cast<std::uint16_t>(CloseCode::abnormal);  // no close frame was seen
            m.reason = "connection closed without a close frame";
            return m;
        }
        buffer_.append(chunk, n);
    }
}

Received BlockingSession::close(std::uint16_t code, std::string_view reason, std::chrono::milliseconds timeout) {
    if (session_.close(code, reason) && !flush()) {
        transport_.close();
        return Received{Event::Kind::close, Opcode::close, {}, static_cast<std::uint16_t>(CloseCode::abnormal),
                        "the connection broke while sending the close", FrameError::none};
    }
    auto deadline = net::after(timeout);
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - net::Clock::now());
        if (left.count() <= 0) return Received{};
        Received m = receive(left);
        if (m.kind == Event::Kind::close || m.kind == Event::Kind::fail || m.kind == Event::Kind::need_more) {
            if (m.kind != Event::Kind::need_more) finish();
            return m;
        }
    }
}

void BlockingSession::finish(std::chrono::milliseconds timeout) {
    if (!transport_) return;
    flush();
    // RFC 6455 §7.1.1: the server ends the TCP connection first; the client waits for that.
    if (session_.role() == Role::server) transport_.shutdown_write();
    auto deadline = net::after(timeout);
    char chunk[4096];
    std::size_t n = 0;
    while (net::read_some(transport_, chunk, sizeof chunk, n, deadline) == net::IoStatus::ok) {
    }
    transport_.close();
}

net::Transport BlockingSession::take(std::string& leftover) && {
    leftover = std::move(buffer_);
    return std::move(transport_);
}

}  // namespace ws
