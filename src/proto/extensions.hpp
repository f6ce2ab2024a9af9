// Sec-WebSocket-Extensions (RFC 6455 §9.1) and the permessage-deflate negotiation (RFC 7692
// §7.1), both roles. No I/O: a header value in, what was agreed (or why not) out.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ws::ext {

struct Param {
    std::string name;
    std::optional<std::string> value;  // unquoted
};
struct Offer {
    std::string name;
    std::vector<Param> params;
};

// The extensions in one or more header values, in order. Empty error: it parsed. The grammar:
// extension *( ";" param ), separated by commas; a param is a token, optionally "=" and a token
// or a quoted string.
struct ParseResult {
    std::vector<Offer> offers;
    std::string error;  // "an extension name is missing at byte 0"
    bool ok() const { return error.empty(); }
};
ParseResult parse(std::string_view header);

// What permessage-deflate agreed, from both sides' point of view.
struct DeflateParams {
    bool server_no_context_takeover = false;
    bool client_no_context_takeover = false;
    int server_max_window_bits = 15;  // the server's compressor window (the client inflates it)
    int client_max_window_bits = 15;  // the client's compressor window
};

// What this endpoint is willing to do (the lessons' --no-deflate, window and takeover options).
struct DeflateConfig {
    bool enabled = true;
    int max_window_bits = 15;            // our compressor's largest window, 9 to 15
    bool no_context_takeover = false;    // we reset our compressor after each message
    bool ask_peer_no_context_takeover = false;
    // Not negotiated, this endpoint's own choices:
    int mem_level = 8;                   // zlib's memLevel 1-9: the compressor's hash table size
    std::size_t min_size = 0;            // shorter messages are sent uncompressed (RSV1 clear)
};

// Server: the first permessage-deflate offer it can accept, and the header value to answer with;
// nullopt when there is none (`why` then says why each offer was declined, for the lesson).
struct Agreement {
    DeflateParams params;
    std::string response;  // "permessage-deflate; server_max_window_bits=15"
};
std::optional<Agreement> negotiate(const std::vector<Offer>& offers, const DeflateConfig& config, std::string* why);

// Client: the offer to send, and the check of the server's answer (RFC 7692 §7.1: an answer it
// cannot accept fails the connection; `error` says why).
std::string client_offer(const DeflateConfig& config);
std::optional<DeflateParams> accept_answer(const Offer& answer, const DeflateConfig& config, std::string& error);

}  // namespace ws::ext
