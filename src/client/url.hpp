// A WebSocket URL (RFC 6455 §3): ws://host[:port]/path?query, and wss:// once lesson 7 exists.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ws {

struct Url {
    std::string scheme;  // "ws" or "wss"
    std::string host;    // without brackets, also for IPv6
    std::uint16_t port = 80;
    std::string path = "/";  // with the query, never the fragment (§3: fragments are not allowed)
    bool secure() const { return scheme == "wss"; }
    std::string host_header() const;  // "host:port", "[::1]:port"
    std::string str() const;          // "ws://host:port/path"
};

// Throws std::runtime_error naming what is wrong ("... expected ws://HOST[:PORT]/PATH").
Url parse_url(std::string_view text);

}  // namespace ws
