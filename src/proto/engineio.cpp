#include "proto/engineio.hpp"
#include "i18n/i18n.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "proto/handshake.hpp"
#include "proto/http.hpp"

namespace ws::eio {

std::string_view name(PacketType t) {
    switch (t) {
        case PacketType::open: return "open";
        case PacketType::close: return "close";
        case PacketType::ping: return "ping";
        case PacketType::pong: return "pong";
        case PacketType::message: return "message";
        case PacketType::upgrade: return "upgrade";
        case PacketType::noop: return "noop";
    }
    return "?";
}

std::string_view describe(Error e) {
    switch (e) {
        case Error::none: return N_("no error");
        case Error::empty_packet: return N_("an empty packet (no type character)");
        case Error::unknown_type: return N_("the packet type must be a digit 0-6 (or b for binary, in a polling body)");
        case Error::bad_base64: return N_("a binary packet (b…) that is not base64");
        case Error::binary_not_message: return N_("only a message packet can be binary");
        case Error::too_many_packets: return N_("too many packets in one body");
        case Error::too_large: return N_("larger than maxPayload");
    }
    return "?";
}

namespace {
// How a wrong type character is named in an error: 'x', or its code when not printable.
std::string type_char(char c) {
    auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u < 0x7f ? trf("type '{}'", c) : trf("type byte 0x{:02x}", u);
}

}  // namespace

ParseResult parse_text(std::string_view text) {
    ParseResult r;
    if (text.empty()) {
        r.error = Error::empty_packet;
        return r;
    }
    char t = text[0];
    if (t < '0' || t > '6') {
        r.error = Error::unknown_type;
        r.detail = type_char(t);
        return r;
    }
    r.packet = Packet{static_cast<PacketType>(t - '0'), std::string(text.substr(1)), false};
    return r;
}

Packet from_binary_frame(std::string_view bytes) { return Packet{PacketType::message, std::string(bytes), true}; }

std::string encode_text(const Packet& p) {
    std::string out;
    out.reserve(1 + p.data.size());
    out.push_back(static_cast<char>('0' + static_cast<int>(p.type)));
    out += p.data;
    return out;
}

namespace {

ParseResult parse_body_packet(std::string_view text, const Limits& limits) {
    if (!text.empty() && text[0] == 'b') {
        // A binary message in a text body: "b" and the bytes in base64 ("b" alone: no bytes).
        ParseResult r;
        std::string_view b64 = text.substr(1);
        if (b64.empty()) {
            r.packet = Packet{PacketType::message, {}, true};
            return r;
        }
        auto bytes = handshake::base64_decode(b64, limits.max_payload * 4 / 3 + 4);
        if (!bytes) {
            r.error = Error::bad_base64;
            r.detail = trf("{} characters after b", b64.size());
            return r;
        }
        r.packet = Packet{PacketType::message, std::string(bytes->begin(), bytes->end()), true};
        return r;
    }
    return parse_text(text);
}

}  // namespace

PayloadResult parse_payload(std::string_view body, const Limits& limits) {
    PayloadResult r;
    if (body.size() > limits.max_payload) {
        r.error = Error::too_large;
        r.detail = trf("{} bytes, at most {}", body.size(), limits.max_payload);
        return r;
    }
    if (std::count(body.begin(), body.end(), kSeparator) >= static_cast<std::ptrdiff_t>(limits.max_packets)) {
        r.error = Error::too_many_packets;
        r.detail = trf("more than {}", limits.max_packets);
        return r;
    }
    std::size_t index = 0;
    for (std::string_view part : split_polling_body(body)) {
        ++index;
        ParseResult one = parse_body_packet(part, limits);
        if (!one.packet) {
            r.packets.clear();
            r.error = one.error;
            r.detail = one.detail.empty() ? trf("packet {}", index) : trf("packet {}: {}", index, one.detail);
            return r;
        }
        r.packets.push_back(std::move(*one.packet));
    }
    return r;
}

void append_to_payload(std::string& body, const Packet& p) {
    if (!body.empty()) body.push_back(kSeparator);
    if (p.binary) {
        body.push_back('b');
        body += handshake::base64_encode(
            std::span(reinterpret_cast<const std::uint8_t*>(p.data.data()), p.data.size()));
    } else {
        body += encode_text(p);
    }
}

std::string encode_payload(std::span<const Packet> packets) {
    std::string body;
    for (const Packet& p : packets) append_to_payload(body, p);
    return body;
}

std::string open_json(const OpenInfo& info) {
    nlohmann::json j = {{"sid", info.sid},
                        {"upgrades", info.upgrades},
                        {"pingInterval", info.ping_interval_ms},
                        {"pingTimeout", info.ping_timeout_ms},
                        {"maxPayload", info.max_payload}};
    return j.dump();
}

std::optional<std::string> query_value(std::string_view target, std::string_view key) {
    std::size_t q = target.find('?');
    if (q == std::string_view::npos) return std::nullopt;
    std::string_view query = target.substr(q + 1);
    while (!query.empty()) {
        std::size_t amp = query.find('&');
        std::string_view pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
        std::size_t eq = pair.find('=');
        if (pair.substr(0, eq) != key) continue;
        return http::percent_decode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
    }
    return std::nullopt;
}

std::string refusal_json(Refusal why, std::string_view detail) {
    static constexpr std::string_view kMessages[] = {"Transport unknown", "Session ID unknown", "Bad handshake method",
                                                     "Bad request", "Forbidden", "Unsupported protocol version"};
    nlohmann::json j = {{"code", static_cast<int>(why)}, {"message", kMessages[static_cast<int>(why)]}};
    if (!detail.empty()) j["detail"] = std::string(detail);
    return j.dump();
}

}  // namespace ws::eio
