// Exercise 3 (exercises/3-accept-key.cpp) is this function: Sec-WebSocket-Accept from
// Sec-WebSocket-Key (RFC 6455 §4.2.2 item 5.4, §1.3).
#include "proto/handshake.hpp"
#include "proto/http.hpp"

namespace ws::handshake {

std::string accept_key(std::string_view client_key) {
    std::string joined(http::trim(client_key));
    joined += kGuid;
    auto digest = sha1(joined);
    return base64_encode(digest);
}

}  // namespace ws::handshake
