// A socket.io client written here, small and blocking, for lesson 9's demo and its tests: it
// says every step of Engine.IO v4 out loud (the open request, the CONNECT, each poll, the
// upgrade's 2probe/3probe/5) through `show`, then emits and receives "message" events.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "client/client.hpp"
#include "net/transport.hpp"
#include "proto/random.hpp"

namespace ws {

// One HTTP/1.1 request on a kept-alive connection, and its whole response (Content-Length).
struct HttpReply {
    int status = 0;
    std::string head;
    std::string body;
};
HttpReply http_exchange(net::Transport&, std::string_view request, std::chrono::milliseconds timeout);

class SocketIoClient {
public:
    enum class Start { polling_then_upgrade, polling_only, websocket_only };
    // Connects (the Engine.IO session, then the Socket.IO CONNECT to "/", then the upgrade if
    // asked). Throws std::runtime_error saying which step failed.
    SocketIoClient(std::string host, std::uint16_t port, Random&, Start,
                   std::function<void(std::string_view)> show = {});
    ~SocketIoClient();

    // socket.emit(event, arg): 42["event",arg], arg as JSON text.
    void emit(std::string_view event, std::string_view json);
    // socket.send(obj) is emit("message", obj).
    void send(std::string_view json) { emit("message", json); }
    // The next "message" event's argument, as JSON text; pings are answered meanwhile. Nothing
    // when none came in time or the session ended.
    std::optional<std::string> next_message(std::chrono::milliseconds timeout);
    // 41 (leave the namespace), then 1 (close the session).
    void disconnect();

    const std::string& sid() const { return sid_; }
    bool on_websocket() const { return ws_ != nullptr; }

private:
    void say(std::string_view line) const;
    std::string url(std::string_view transport) const;
    std::string poll();                // one GET: its body
    void post(std::string_view body);  // one POST
    void handle(std::string_view packet_text);
    void upgrade();
    void send_packet(std::string_view text);  // an Engine.IO packet, by the transport in use

    std::string host_;
    std::uint16_t port_;
    Random& random_;
    std::function<void(std::string_view)> show_;
    std::string sid_;
    net::Transport get_conn_, post_conn_;
    std::unique_ptr<Client> ws_;
    std::deque<std::string> events_;  // "message" arguments not yet taken
    bool closed_ = false;
};

}  // namespace ws
