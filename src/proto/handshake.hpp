// The opening handshake (RFC 6455 §4): the server's checks of the client's request, the
// Sec-WebSocket-Accept key, and the responses. No I/O and no printing.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "proto/extensions.hpp"
#include "proto/http.hpp"

namespace ws::handshake {

// RFC 6455 §1.3: the same GUID for every server; it proves the server read the key.
inline constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
inline constexpr std::string_view kVersion = "13";

// The checks of RFC 6455 §4.2.1, numbered as the RFC lists them.
enum class Check {
    method_and_version = 1,  // GET, HTTP/1.1 or higher
    host = 2,                // a Host header
    upgrade = 3,             // Upgrade lists "websocket"
    connection = 4,          // Connection lists "Upgrade"
    key = 5,                 // Sec-WebSocket-Key: base64 of 16 bytes, sent once
    version = 6,             // Sec-WebSocket-Version: 13
};
inline constexpr std::array kAllChecks = {Check::method_and_version, Check::host, Check::upgrade,
                                          Check::connection, Check::key, Check::version};

std::string_view name(Check);       // "no_connection_upgrade"-style name, for logs and tests
std::string_view describe(Check);   // what the check asks for, in a sentence

struct CheckResult {
    Check check;
    bool ok = false;
    std::string detail;  // what was seen, e.g. `Sec-WebSocket-Version is 8, this server speaks 13`
    std::string shown;   // the same in the lesson's language, for the screen (empty: `detail`);
                         // `detail` is what the refusal's body says on the wire
};

struct Result {
    std::vector<CheckResult> checks;     // all six, in order, each evaluated
    std::string accept;                  // Sec-WebSocket-Accept, when ok
    std::optional<std::string> protocol; // the subprotocol chosen, if any was offered and known
    std::optional<std::string> extensions;  // Sec-WebSocket-Extensions to answer with (negotiate_deflate)
    bool ok() const;
    const CheckResult* first_failure() const;
    int status() const;                  // 101, or 426 when only the version is wrong, else 400
};

// Runs every check. `protocols` are the subprotocols this server speaks, in preference order.
Result check_request(const http::Request&, std::span<const std::string> protocols = {});

// permessage-deflate for this request (RFC 7692 §7.1, the server's side): what was agreed and
// the header value to answer with, or nullopt with `why` (no offer, a malformed header: then
// no extension at all, or every offer declined).
std::optional<ext::Agreement> negotiate_deflate(const http::Request&, const ext::DeflateConfig&, std::string& why);

// True for a request that asks for a WebSocket at all (an Upgrade header is present);
// anything else is plain HTTP.
bool wants_websocket(const http::Request&);

// SHA-1(key + GUID), then base64 (RFC 6455 §4.2.2 item 5.4).
std::array<std::uint8_t, 20> sha1(std::string_view data);
std::string base64_encode(std::span<const std::uint8_t> bytes);
// Strict base64 (whole groups of four, '=' only at the end); nothing for more than `max_chars`.
std::optional<std::vector<std::uint8_t>> base64_decode(std::string_view text, std::size_t max_chars = 4096);
std::string accept_key(std::string_view client_key);

// "HTTP/1.1 101 Switching Protocols" with Upgrade, Connection and Sec-WebSocket-Accept (and
// the subprotocol and extensions, when chosen).
std::string response_101(const Result&);
// 400 or 426 with a text body naming the failed check (426 names the version we speak).
std::string response_refusal(const Result&);

// ---- The client's side (RFC 6455 §4.1)

// What a client asks for: the request it sends is made from this, and the response is checked
// against it (an answer may only pick what was offered).
struct ClientOffer {
    std::string host;                      // the Host header: "127.0.0.1:8080"
    std::string path = "/";                // with the query, if any
    std::string key;                       // base64 of 16 fresh random bytes: client_key()
    std::vector<std::string> protocols;    // Sec-WebSocket-Protocol, in preference order
    std::vector<std::string> extensions;   // Sec-WebSocket-Extensions offers, as written
    // permessage-deflate offered (ext::client_offer), and the answer checked against it
    std::optional<ext::DeflateConfig> deflate;
    std::string origin;                    // Origin, if any (browsers always send one)
    std::vector<http::Header> headers;     // any more headers, sent as given
};
std::string client_request(const ClientOffer&);
// A request for `host`/`path` with this key and at most one subprotocol.
std::string client_request(std::string_view host, std::string_view path, std::string_view key,
                           std::string_view protocol = {});
std::string client_key(std::span<const std::uint8_t, 16> nonce);

// The client's checks of the server's response, numbered in the order RFC 6455 §4.1 gives them.
enum class ClientCheck {
    status = 1,      // 101 Switching Protocols
    upgrade = 2,     // Upgrade: websocket
    connection = 3,  // Connection lists "Upgrade"
    accept = 4,      // Sec-WebSocket-Accept is SHA-1(key + GUID) in base64
    extensions = 5,  // no extension that was not offered
    protocol = 6,    // no subprotocol that was not offered
};
inline constexpr std::array kAllClientChecks = {ClientCheck::status, ClientCheck::upgrade, ClientCheck::connection,
                                                ClientCheck::accept, ClientCheck::extensions, ClientCheck::protocol};
std::string_view name(ClientCheck);      // "not_101", "bad_accept" ...
std::string_view describe(ClientCheck);  // what the check asks for

struct ClientCheckResult {
    ClientCheck check;
    bool ok = false;
    std::string detail;  // what was seen
};

struct ClientResult {
    std::vector<ClientCheckResult> checks;  // all six, in order
    std::string expected_accept;            // what the accept key must be, for showing side by side
    std::optional<std::string> protocol;    // the subprotocol the server chose
    std::optional<std::string> extensions;  // the extensions the server accepted (as written)
    std::optional<ext::DeflateParams> deflate;  // permessage-deflate, when the server accepted our offer
    bool ok() const;
    const ClientCheckResult* first_failure() const;
};
ClientResult check_response(const http::Response&, const ClientOffer&);

}  // namespace ws::handshake

namespace ws::handshake {
// What Chrome sends for `new WebSocket("ws://HOST/")`, byte for byte apart from the key:
// the lessons' built-in "browser" uses it so a class sees a real request without a browser.
std::string browser_request(std::string_view host, std::string_view path, std::string_view key);
}  // namespace ws::handshake
