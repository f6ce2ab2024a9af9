// Lesson 6's inspecting relay: it sits between a client (a browser) and any WebSocket server,
// checks both halves of the handshake, and shows every frame in both directions — while
// forwarding every byte unchanged, so a developer sees their real traffic, bugs included.
//
//   browser ──→ relay ──→ server     → client to server
//   browser ←── relay ←── server     ← server to client
#pragma once

#include <chrono>
#include <memory>

#include "client/url.hpp"
#include "net/tls.hpp"
#include "net/transport.hpp"
#include "proto/http.hpp"
#include "server/threaded_server.hpp"

namespace ws::client {

struct RelayOptions {
    Url upstream;
    int verbose = 0;  // 0: a line per message; -v: a line per frame; -vv: each frame drawn
    std::chrono::milliseconds handshake_timeout{10'000};
    std::chrono::milliseconds connect_timeout{10'000};
    http::Limits limits;
    std::shared_ptr<net::TlsContext> upstream_tls;  // wss:// upstream: the relay speaks TLS to the server
};

// One client's connection, relayed to the upstream server until either side ends it.
void relay(server::ThreadedServer&, const RelayOptions&, net::Transport client, const net::Endpoint& peer, int number);

}  // namespace ws::client
