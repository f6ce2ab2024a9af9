#include "proto/frame.hpp"

#include "i18n/i18n.hpp"
#include "proto/utf8.hpp"

#include <cstring>

namespace ws {

std::string_view opcode_name(std::uint8_t opcode) {
    switch (opcode) {
        case 0x0: return "continuation";
        case 0x1: return "text";
        case 0x2: return "binary";
        case 0x8: return "close";
        case 0x9: return "ping";
        case 0xA: return "pong";
        default: return is_control(opcode) ? "reserved control" : "reserved data";  // as the RFC says it: English
    }
}

bool is_known_opcode(std::uint8_t opcode) {
    return opcode <= 0x2 || (opcode >= 0x8 && opcode <= 0xA);
}

std::string_view close_code_name(std::uint16_t code) {
    switch (code) {
        case 1000: return "normal closure";
        case 1001: return "going away";
        case 1002: return "protocol error";
        case 1003: return "unsupported data";
        case 1005: return "no status code";
        case 1006: return "abnormal closure";
        case 1007: return "invalid payload data";
        case 1008: return "policy violation";
        case 1009: return "message too big";
        case 1010: return "mandatory extension";
        case 1011: return "internal error";
        case 1012: return "service restart";
        case 1013: return "try again later";
        case 1014: return "bad gateway";
        case 1015: return "TLS handshake failure";
        default:
            if (code >= 3000 && code <= 3999) return i18n::tr_literal(N_("registered (3000-3999)"));
            if (code >= 4000 && code <= 4999) return i18n::tr_literal(N_("private use (4000-4999)"));
            return i18n::tr_literal(N_("not a valid close code"));
    }
}


std::string_view name(FrameError e) {
    switch (e) {
        case FrameError::none: return "none";
        case FrameError::reserved_bits: return "reserved_bits";
        case FrameError::compressed_bit_misplaced: return "compressed_bit_misplaced";
        case FrameError::reserved_opcode: return "reserved_opcode";
        case FrameError::unmasked_client_frame: return "unmasked_client_frame";
        case FrameError::masked_server_frame: return "masked_server_frame";
        case FrameError::fragmented_control: return "fragmented_control";
        case FrameError::control_too_long: return "control_too_long";
        case FrameError::orphan_continuation: return "orphan_continuation";
        case FrameError::expected_continuation: return "expected_continuation";
        case FrameError::length_high_bit: return "length_high_bit";
        case FrameError::message_too_big: return "message_too_big";
        case FrameError::close_one_byte: return "close_one_byte";
        case FrameError::bad_close_code: return "bad_close_code";
        case FrameError::close_reason_not_utf8: return "close_reason_not_utf8";
        case FrameError::text_not_utf8: return "text_not_utf8";
        case FrameError::text_cut_short: return "text_cut_short";
        case FrameError::inflated_too_big: return "inflated_too_big";
        case FrameError::not_deflate: return "not_deflate";
    }
    return "unknown";
}

std::string_view describe(FrameError e) {
    switch (e) {
        case FrameError::none: return N_("no error");
        case FrameError::reserved_bits: return N_("RSV bit set, but no extension was negotiated");
        case FrameError::compressed_bit_misplaced: return N_("RSV1 (compressed) on a control frame or a continuation");
        case FrameError::reserved_opcode: return N_("reserved opcode");
        case FrameError::unmasked_client_frame: return N_("client frame is not masked");
        case FrameError::masked_server_frame: return N_("server frame is masked");
        case FrameError::fragmented_control: return N_("fragmented control frame");
        case FrameError::control_too_long: return N_("control frame longer than 125 bytes");
        case FrameError::orphan_continuation: return N_("continuation frame without a message to continue");
        case FrameError::expected_continuation: return N_("new data frame inside a fragmented message");
        case FrameError::length_high_bit: return N_("the 64-bit payload length has its most significant bit set");
        case FrameError::message_too_big: return N_("message larger than the limit");
        case FrameError::close_one_byte: return N_("close frame with a 1-byte payload");
        case FrameError::bad_close_code: return N_("invalid close code");
        case FrameError::close_reason_not_utf8: return N_("close reason is not valid UTF-8");
        case FrameError::text_not_utf8: return N_("text message is not valid UTF-8");
        case FrameError::text_cut_short: return N_("text message is not valid UTF-8 (a character is cut short)");
        case FrameError::inflated_too_big: return N_("message larger than the limit once inflated");
        case FrameError::not_deflate: return N_("compressed message is not valid DEFLATE data");
    }
    return "unknown error";
}

std::uint16_t close_code_for(FrameError e) {
    switch (e) {
        case FrameError::message_too_big:
        case FrameError::inflated_too_big: return static_cast<std::uint16_t>(CloseCode::message_too_big);
        case FrameError::not_deflate:
        case FrameError::close_reason_not_utf8:
        case FrameError::text_not_utf8:
        case FrameError::text_cut_short: return static_cast<std::uint16_t>(CloseCode::invalid_payload);
        default: return static_cast<std::uint16_t>(CloseCode::protocol_error);
    }
}

HeaderParse parse_header(std::span<const std::uint8_t> bytes) {
    HeaderParse r;
    if (bytes.size() < 2) return r;

    FrameHeader& h = r.header;
    h.fin = bytes[0] & 0x80;
    h.rsv1 = bytes[0] & 0x40;
    h.rsv2 = bytes[0] & 0x20;
    h.rsv3 = bytes[0] & 0x10;
    h.opcode = bytes[0] & 0x0F;
    h.masked = bytes[1] & 0x80;
    std::uint8_t len7 = bytes[1] & 0x7F;

    std::size_t extended = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
    h.length_form = len7 == 126 ? LengthForm::sixteen_bit : len7 == 127 ? LengthForm::sixty_four_bit
                                                                         : LengthForm::seven_bit;
    h.header_length = 2 + extended + (h.masked ? 4 : 0);
    r.needed = h.header_length;
    if (bytes.size() < h.header_length) return r;

    h.payload_length = read_payload_length(bytes.first(2 + extended));
    if (extended == 8) {
        // RFC 6455 §5.2: "the most significant bit MUST be 0".
        if ((h.payload_length >> 63) != 0) {
            r.status = HeaderParse::Status::error;
            r.error = FrameError::length_high_bit;
            return r;
        }
    }
    if (h.masked) std::memcpy(h.mask.data(), bytes.data() + 2 + extended, 4);
    r.status = HeaderParse::Status::ok;
    return r;
}

std::string build_frame(const FrameSpec& spec, std::string_view payload) {
    std::uint8_t header[14];
    std::size_t n = write_header(header, spec.fin, spec.opcode, payload.size(), spec.masked ? &spec.mask : nullptr);
    header[0] |= static_cast<std::uint8_t>((spec.rsv1 ? 0x40 : 0) | (spec.rsv2 ? 0x20 : 0) | (spec.rsv3 ? 0x10 : 0));
    std::string out(reinterpret_cast<const char*>(header), n);
    out.append(payload);
    if (spec.masked) apply_mask(reinterpret_cast<std::uint8_t*>(out.data() + n), payload.size(), spec.mask);
    return out;
}

void append_frame(std::string& out, Opcode opcode, std::string_view payload, bool fin,
                  const std::array<std::uint8_t, 4>* mask) {
    std::uint8_t header[kMaxHeader];
    std::size_t n = write_header(header, fin, static_cast<std::uint8_t>(opcode), payload.size(), mask);
    std::size_t at = out.size();
    out.append(reinterpret_cast<const char*>(header), n);
    out.append(payload);
    if (mask) apply_mask(reinterpret_cast<std::uint8_t*>(out.data() + at + n), payload.size(), *mask);
}

FrameHeader header_of(std::string_view frame) {
    return parse_header(std::span(reinterpret_cast<const std::uint8_t*>(frame.data()), frame.size())).header;
}

std::uint16_t close_code_of(std::string_view payload) {
    return static_cast<std::uint16_t>((static_cast<std::uint8_t>(payload[0]) << 8) | static_cast<std::uint8_t>(payload[1]));
}

std::string close_payload(std::uint16_t code, std::string_view reason) {
    // A close frame is a control frame: 125 bytes at most, so the reason gets 123. It is cut
    // at a character boundary, since a receiver checks it as UTF-8 (RFC 6455 §5.5.1).
    if (reason.size() > 123) {
        std::size_t cut = 123;
        while (cut > 0 && is_continuation_byte(reason[cut])) --cut;
        reason = reason.substr(0, cut);
    }
    std::string p;
    p.push_back(static_cast<char>(code >> 8));
    p.push_back(static_cast<char>(code & 0xFF));
    p.append(reason);
    return p;
}


}  // namespace ws
