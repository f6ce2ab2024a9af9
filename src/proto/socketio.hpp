// Socket.IO v5 packets (https://socket.io/docs/v4/socket-io-protocol/), carried in Engine.IO
// message packets: a digit for the type, then, where they apply, the number of binary
// attachments and a dash, the namespace and a comma, an ack id, and a JSON payload:
//     42["message",{"type":"CHAT","message":"hi"}]     EVENT "message" on namespace "/"
//     451-/chat,7["file",{"_placeholder":true,"num":0}] BINARY_EVENT, 1 attachment, on /chat, ack 7
// Parsing and building only: the chat room's adapter is src/apps/socketio_chat.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace ws::sio {

enum class PacketType : std::uint8_t {
    connect = 0,        // client: join a namespace (payload: auth, optional); server: {"sid":…}
    disconnect = 1,     // leave a namespace
    event = 2,          // ["name", args…], with an ack id when the sender wants an answer
    ack = 3,            // the answer to an event: [args…] and the event's ack id
    connect_error = 4,  // server: the namespace refused the client ({"message":…})
    binary_event = 5,   // an event whose arguments hold binary: the attachments follow
    binary_ack = 6,     // an ack whose arguments hold binary
};
std::string_view name(PacketType);  // "EVENT"

struct Packet {
    PacketType type = PacketType::event;
    std::string nsp = "/";
    std::optional<std::uint64_t> id;  // the ack id
    nlohmann::json data;              // null when there is no payload
    std::size_t attachments = 0;      // binary packets: how many Engine.IO binary messages follow
};

enum class Error {
    none,
    empty,                 // no type digit
    unknown_type,          // not 0-6
    bad_attachments,       // a binary packet without "<count>-", or too many attachments
    bad_namespace,         // a namespace that does not start with "/", or too long
    bad_ack_id,            // too many digits
    bad_json,              // the payload is not JSON
    bad_payload,           // JSON, but not the shape this type needs (an event's ["name", …])
    unexpected_binary,     // a binary Engine.IO message when no attachment was announced
    attachment_expected,   // a text packet arrived while attachments were still awaited
};
std::string_view describe(Error);

struct Limits {
    std::size_t max_attachments = 10;
    std::size_t max_namespace = 128;
    std::size_t max_depth = 64;  // arrays and objects inside one another
};

struct ParseResult {
    std::optional<Packet> packet;
    Error error = Error::none;
    std::string detail;
};

// One packet from an Engine.IO message's text. Binary packets come back with their
// placeholders still in `data`; Decoder puts the attachments in.
ParseResult parse(std::string_view text, const Limits& = {});
std::string encode(const Packet&);
// An EVENT's text: 42["name",arg] on "/", the argument's JSON text given as it is (a broadcast
// builds it once for every receiver).
std::string event_text(std::string_view event, std::string_view json_argument);

// The packets of one client, as Engine.IO hands them over: a binary packet is complete once
// its attachments (Engine.IO binary messages) have arrived, each put where its placeholder
// {"_placeholder":true,"num":N} stood, as JSON binary.
class Decoder {
public:
    explicit Decoder(Limits limits = {}) : limits_(limits) {}
    // A packet when one is complete; neither packet nor error while attachments are awaited.
    ParseResult text(std::string_view);
    ParseResult binary(std::string_view);
    std::size_t awaited() const { return pending_ ? pending_->attachments - buffers_.size() : 0; }

private:
    ParseResult finish();

    Limits limits_;
    std::optional<Packet> pending_;
    std::vector<std::string> buffers_;
};

}  // namespace ws::sio
