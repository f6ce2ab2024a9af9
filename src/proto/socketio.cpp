#include "proto/socketio.hpp"
#include "i18n/i18n.hpp"

#include <array>

#include <fmt/format.h>

namespace ws::sio {

std::string_view name(PacketType t) {
    switch (t) {
        case PacketType::connect: return "CONNECT";
        case PacketType::disconnect: return "DISCONNECT";
        case PacketType::event: return "EVENT";
        case PacketType::ack: return "ACK";
        case PacketType::connect_error: return "CONNECT_ERROR";
        case PacketType::binary_event: return "BINARY_EVENT";
        case PacketType::binary_ack: return "BINARY_ACK";
    }
    return "?";
}

std::string_view describe(Error e) {
    switch (e) {
        case Error::none: return N_("no error");
        case Error::empty: return N_("an empty packet (no type digit)");
        case Error::unknown_type: return N_("the packet type must be a digit 0-6");
        case Error::bad_attachments: return N_("a binary packet must say how many attachments follow: 51-[…]");
        case Error::bad_namespace: return N_("a namespace starts with / and ends with a comma");
        case Error::bad_ack_id: return N_("an ack id is a number of at most 15 digits");
        case Error::bad_json: return N_("the payload is not JSON");
        case Error::bad_payload: return N_("the payload has the wrong shape for this packet type");
        case Error::unexpected_binary: return N_("a binary attachment that no packet announced");
        case Error::attachment_expected: return N_("a packet arrived while binary attachments were still awaited");
    }
    return "?";
}

namespace {

constexpr std::size_t kMaxIdDigits = 15;  // below 2^53: a JavaScript number holds it exactly
constexpr std::array<std::string_view, 6> kReserved = {"connect", "connect_error", "disconnect", "disconnecting",
                                                       "newListener", "removeListener"};

// How a wrong type character is named in an error: 'x', or its code when not printable.
std::string type_char(char c) {
    auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u < 0x7f ? trf("type '{}'", c) : trf("type byte 0x{:02x}", u);
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

ParseResult fail(Error e, std::string detail = {}) { return ParseResult{std::nullopt, e, std::move(detail)}; }

// The shape each type's payload must have (the socket.io parser's own rules).
bool payload_fits(PacketType type, const nlohmann::json& data, std::string& why) {
    switch (type) {
        case PacketType::connect:
            why = tr("CONNECT takes an object (its auth)");
            return data.is_object();
        case PacketType::disconnect:
            why = tr("DISCONNECT takes no payload");
            return false;
        case PacketType::connect_error:
            why = tr("CONNECT_ERROR takes an object or a string");
            return data.is_object() || data.is_string();
        case PacketType::event:
        case PacketType::binary_event:
            if (!data.is_array() || data.empty() || !data[0].is_string()) {
                why = tr("an event is [\"name\", arguments…]");
                return false;
            }
            for (std::string_view reserved : kReserved)
                if (data[0].get_ref<const std::string&>() == reserved) {
                    why = trf("\"{}\" is a reserved event name", reserved);
                    return false;
                }
            return true;
        case PacketType::ack:
        case PacketType::binary_ack:
            why = tr("an ack is [arguments…]");
            return data.is_array();
    }
    return false;
}

bool is_binary_type(PacketType t) { return t == PacketType::binary_event || t == PacketType::binary_ack; }

}  // namespace

ParseResult parse(std::string_view text, const Limits& limits) {
    if (text.empty()) return fail(Error::empty);
    if (text[0] < '0' || text[0] > '6') return fail(Error::unknown_type, type_char(text[0]));
    Packet p;
    p.type = static_cast<PacketType>(text[0] - '0');
    std::size_t i = 1;
    if (is_binary_type(p.type)) {
        std::size_t start = i;
        while (i < text.size() && is_digit(text[i]) && i - start < 4) ++i;
        if (i == start || i >= text.size() || text[i] != '-')
            return fail(Error::bad_attachments, tr("expected digits then - after the type"));
        p.attachments = std::stoul(std::string(text.substr(start, i - start)));
        if (p.attachments > limits.max_attachments)
            return fail(Error::bad_attachments, trf("{} attachments, at most {}", p.attachments, limits.max_attachments));
        ++i;  // the dash
    }
    if (i < text.size() && text[i] == '/') {
        std::size_t comma = text.find(',', i);
        std::size_t end = comma == std::string_view::npos ? text.size() : comma;
        if (end - i > limits.max_namespace)
            return fail(Error::bad_namespace, trf("{} bytes, at most {}", end - i, limits.max_namespace));
        p.nsp = std::string(text.substr(i, end - i));
        i = comma == std::string_view::npos ? text.size() : comma + 1;
    }
    if (i < text.size() && is_digit(text[i])) {
        std::size_t start = i;
        while (i < text.size() && is_digit(text[i])) ++i;
        if (i - start > kMaxIdDigits) return fail(Error::bad_ack_id, trf("{} digits", i - start));
        p.id = std::stoull(std::string(text.substr(start, i - start)));
    }
    if (i < text.size()) {
        // Nesting is bounded while parsing: printing or walking JSON is recursive, and one
        // packet of [[[[… under maxPayload would otherwise overflow the stack later.
        bool too_deep = false;
        auto depth_limit = [&](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
            if (static_cast<std::size_t>(depth) > limits.max_depth) too_deep = true;
            return !too_deep;
        };
        p.data = nlohmann::json::parse(text.substr(i), depth_limit, /*allow_exceptions=*/false);
        if (too_deep) return fail(Error::bad_json, trf("nested deeper than {} levels", limits.max_depth));
        if (p.data.is_discarded()) return fail(Error::bad_json, trf("{} bytes after the header", text.size() - i));
        std::string why;
        if (!payload_fits(p.type, p.data, why)) return fail(Error::bad_payload, why);
    } else if (p.type == PacketType::event || p.type == PacketType::binary_event || p.type == PacketType::ack ||
               p.type == PacketType::binary_ack) {
        return fail(Error::bad_payload, tr("an event or ack needs its array"));
    }
    if ((p.type == PacketType::ack || p.type == PacketType::binary_ack) && !p.id)
        return fail(Error::bad_payload, tr("an ack needs the id of the event it answers"));
    return ParseResult{std::move(p), Error::none, {}};
}

std::string encode(const Packet& p) {
    std::string out(1, static_cast<char>('0' + static_cast<int>(p.type)));
    if (is_binary_type(p.type)) out += fmt::format("{}-", p.attachments);
    if (p.nsp != "/") out += p.nsp + ",";
    if (p.id) out += std::to_string(*p.id);
    if (!p.data.is_null()) out += p.data.dump();
    return out;
}

std::string event_text(std::string_view event, std::string_view json_argument) {
    std::string out = "2[";
    out += nlohmann::json(std::string(event)).dump();
    out += ',';
    out += json_argument;
    out += ']';
    return out;
}

namespace {

// Puts attachment N where {"_placeholder":true,"num":N} stands; false for a bad placeholder.
bool fill_placeholders(nlohmann::json& j, std::vector<std::string>& buffers) {
    if (j.is_object() && j.size() == 2 && j.contains("_placeholder") && j["_placeholder"] == true) {
        const auto& num = j["num"];
        if (!num.is_number_unsigned() || num.get<std::size_t>() >= buffers.size()) return false;
        const std::string& b = buffers[num.get<std::size_t>()];
        j = nlohmann::json::binary(std::vector<std::uint8_t>(b.begin(), b.end()));
        return true;
    }
    if (j.is_structured())
        for (auto& child : j)
            if (!fill_placeholders(child, buffers)) return false;
    return true;
}

}  // namespace

ParseResult Decoder::text(std::string_view text) {
    if (pending_) {
        std::size_t missing = awaited();
        pending_.reset();
        buffers_.clear();
        return fail(Error::attachment_expected, trf("{} attachment{} still missing", missing, missing == 1 ? "" : "s"));
    }
    ParseResult r = parse(text, limits_);
    if (!r.packet || !is_binary_type(r.packet->type)) return r;
    pending_ = std::move(r.packet);
    return finish();
}

ParseResult Decoder::binary(std::string_view bytes) {
    if (!pending_) return fail(Error::unexpected_binary, trf("{} bytes", bytes.size()));
    buffers_.emplace_back(bytes);
    return finish();
}

ParseResult Decoder::finish() {
    if (buffers_.size() < pending_->attachments) return {};
    Packet p = std::move(*pending_);
    pending_.reset();
    bool ok = fill_placeholders(p.data, buffers_);
    buffers_.clear();
    if (!ok) return fail(Error::bad_payload, tr("a placeholder names an attachment that does not exist"));
    return ParseResult{std::move(p), Error::none, {}};
}

}  // namespace ws::sio
