// Engine.IO v4, the transport under socket.io (https://socket.io/docs/v4/engine-io-protocol/):
// a packet is one character for its type and then its data; over HTTP long-polling several
// packets travel in one body, joined by the record separator 0x1e. Parsing and building only:
// the server side of both transports is src/server/engineio.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ws::eio {

inline constexpr std::string_view kProtocol = "4";  // the EIO=4 in every request's query
inline constexpr char kSeparator = '\x1e';          // between the packets of a polling body

enum class PacketType : std::uint8_t {
    open = 0,     // server → client, first: {"sid":…,"upgrades":[…],"pingInterval":…,…}
    close = 1,    // either side: the session ends
    ping = 2,     // server → client every pingInterval ("2probe" from a client testing a WebSocket)
    pong = 3,     // the answer ("3probe" to a probe)
    message = 4,  // the payload: what socket.io (or an application) sends
    upgrade = 5,  // client → server over the new WebSocket: from now on, use this one
    noop = 6,     // server → a pending poll during an upgrade: stop polling
};
std::string_view name(PacketType);  // "message"

struct Packet {
    PacketType type = PacketType::message;
    std::string data;     // after the type character (a message's bytes, a probe's "probe")
    bool binary = false;  // a binary message: a WebSocket binary frame, or "b" + base64 in a body
};

enum class Error {
    none,
    empty_packet,      // no type character
    unknown_type,      // not 0-6 (nor "b" in a body)
    bad_base64,        // "b" followed by something that is not base64
    binary_not_message,// only a message can be binary
    too_many_packets,  // a body with more packets than allowed
    too_large,         // a packet or a body over maxPayload
};
std::string_view describe(Error);  // a sentence: "the packet type must be a digit 0-6"

struct ParseResult {
    std::optional<Packet> packet;
    Error error = Error::none;
    std::string detail;
};

// One packet from a WebSocket frame: a text frame is "<type><data>", a binary frame is a
// message's bytes as they are (v4 has no type byte there).
ParseResult parse_text(std::string_view text);
Packet from_binary_frame(std::string_view bytes);

// One packet as a WebSocket text frame carries it (binary ones go as binary frames: data).
std::string encode_text(const Packet&);

struct PayloadResult {
    std::vector<Packet> packets;
    Error error = Error::none;
    std::string detail;
    bool ok() const { return error == Error::none; }
};
struct Limits {
    std::size_t max_payload = 1'000'000;  // bytes in one body (maxPayload in the open packet)
    std::size_t max_packets = 1'000;      // packets in one body
};

// A polling body (HTTP POST from the client, or what a GET is answered with): packets joined
// by 0x1e, a binary message as "b" + base64. All or nothing: one bad packet refuses the body.
PayloadResult parse_payload(std::string_view body, const Limits& = {});
// The packets' texts of a body, cut at every 0x1e, in order (exercise 9).
std::vector<std::string_view> split_polling_body(std::string_view body);
std::string encode_payload(std::span<const Packet>);
// Appends one packet to a body being built (the separator first, unless it is the first).
void append_to_payload(std::string& body, const Packet&);

// The open packet's JSON (server → client, the first thing said on a new session).
struct OpenInfo {
    std::string sid;
    std::vector<std::string> upgrades;  // ["websocket"] while polling; [] over a WebSocket
    std::uint32_t ping_interval_ms = 25'000;
    std::uint32_t ping_timeout_ms = 20'000;
    std::size_t max_payload = 1'000'000;
};
std::string open_json(const OpenInfo&);

// The query of a request target: "/socket.io/?EIO=4&transport=polling&sid=x" → value of `key`
// ("4", "polling", "x"), percent-decoded; nothing when absent or malformed.
std::optional<std::string> query_value(std::string_view target, std::string_view key);

// How the HTTP side refuses (engine.io's own codes and messages, as a JSON body with 400).
enum class Refusal { unknown_transport = 0, unknown_sid = 1, bad_handshake_method = 2, bad_request = 3,
                     forbidden = 4, unsupported_version = 5 };
std::string refusal_json(Refusal, std::string_view detail = {});

}  // namespace ws::eio
