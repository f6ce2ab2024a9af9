#include "i18n/i18n.hpp"
#include "print/frame_diagram.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "print/print.hpp"

namespace ws::print {
namespace {

// A field of `bits` bits drawn between bars takes 2*bits-1 characters.
std::string field(std::string_view content, int bits) {
    std::size_t width = static_cast<std::size_t>(2 * bits - 1);
    std::size_t chars = columns(content);  // "…" is three bytes, one column
    if (chars > width) return std::string(content.substr(0, width));
    std::size_t left = (width - chars) / 2;
    return std::string(left, ' ') + std::string(content) + std::string(width - chars - left, ' ');
}

std::string bits_of(unsigned value, int count) {
    std::string s;
    for (int i = count - 1; i >= 0; --i) {
        s += ((value >> i) & 1) ? '1' : '0';
        if (i) s += ' ';
    }
    return s;
}

const std::string kRuleFirst = "+-+-+-+-+-------+-+-------------+-------------------------------+\n";
const std::string kRuleHalves = "+-------------------------------+-------------------------------+\n";

}  // namespace

namespace {
// As the diagram says it (a diagram is the same in every language).
std::string_view length_form_english(LengthForm form) {
    switch (form) {
        case LengthForm::seven_bit: return N_("7-bit form: ≤125");
        case LengthForm::sixteen_bit: return N_("16-bit form: 126, then 2 bytes");
        case LengthForm::sixty_four_bit: return N_("64-bit form: 127, then 8 bytes");
    }
    return "";
}
}  // namespace

std::string length_form_name(LengthForm form) { return tr(length_form_english(form)); }

std::string frame_diagram(const FrameHeader& h, std::string_view bytes) {
    auto byte = [&](std::size_t i) { return static_cast<unsigned char>(bytes[i]); };
    std::string s;
    s += " 0                   1                   2                   3\n";
    s += " 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1\n";
    s += kRuleFirst;

    // The 16-bit chunks after the first two bytes, each with a label.
    std::vector<std::string> chunks;
    std::size_t extended = h.length_form == LengthForm::sixteen_bit ? 2 : h.length_form == LengthForm::sixty_four_bit ? 8 : 0;
    for (std::size_t i = 0; i < extended; i += 2) {
        std::string label = extended == 2 ? fmt::format("ext. length: {:02x} {:02x} = {}", byte(2), byte(3), h.payload_length)
                                          : fmt::format("ext. length {}/4: {:02x} {:02x}", i / 2 + 1, byte(2 + i), byte(3 + i));
        chunks.push_back(label);
    }
    if (h.masked)
        for (std::size_t i = 0; i < 4; i += 2)
            chunks.push_back(fmt::format("masking key {}/2: {:02x} {:02x}", i / 2 + 1, h.mask[i], h.mask[i + 1]));
    std::string payload_label = h.payload_length ? "payload data …" : "(no payload)";

    std::string first = chunks.empty() ? payload_label : chunks.front();
    s += fmt::format("|{}|{}|{}|{}|{}|{}|{}|{}|\n", h.fin ? 1 : 0, h.rsv1 ? 1 : 0, h.rsv2 ? 1 : 0, h.rsv3 ? 1 : 0,
                     bits_of(h.opcode, 4), h.masked ? 1 : 0, bits_of(byte(1) & 0x7F, 7), field(first, 16));
    s += kRuleFirst;
    // The legend under the first row, column for column.
    std::string len_text = h.length_form == LengthForm::seven_bit ? std::to_string(h.payload_length)
                                                                  : std::to_string(byte(1) & 0x7F);
    s += " F R R R opcode  M payload len\n";
    s += fmt::format(" I S S S {:<7} A {}\n", fmt::format("{}={}", h.opcode, opcode_name(h.opcode)).substr(0, 7), len_text);
    s += fmt::format(" N V V V         S ({})\n", length_form_english(h.length_form));
    s += "   1 2 3         K\n";

    if (chunks.size() > 1) {
        s += kRuleHalves;
        for (std::size_t i = 1; i < chunks.size(); i += 2) {
            std::string right = i + 1 < chunks.size() ? chunks[i + 1] : payload_label;
            s += fmt::format("|{}|{}|\n", field(chunks[i], 16), field(right, 16));
            s += kRuleHalves;
        }
    }
    return s;
}

std::string frame_fields(const FrameHeader& h) {
    std::vector<std::pair<std::string, std::string>> rows = {
        {"FIN", h.fin ? tr("1  (the last frame of its message)") : tr("0  (more frames of this message follow)")},
        {"RSV1 RSV2 RSV3", fmt::format("{} {} {}{}", int(h.rsv1), int(h.rsv2), int(h.rsv3),
                                       h.rsv2 || h.rsv3 ? tr("  (reserved: no extension defines them here)") : h.rsv1         ? tr("  (RSV1: compressed, if permessage-deflate was agreed)") : "")},
        {"opcode", fmt::format("0x{:x} = {}{}", h.opcode, opcode_name(h.opcode),
                               is_control(h.opcode) ? tr(" (control frame)") : "")},
        {"MASK", h.masked ? tr("1  (masked: a client sent this)") : tr("0  (not masked: a server sent this)")},
        {tr("payload length"), trf("{} bytes ({})", h.payload_length, length_form_name(h.length_form))},
    };
    if (h.masked) rows.push_back({tr("masking key"), hex(std::span<const std::uint8_t>(h.mask))});
    rows.push_back({tr("header length"), trf("{} bytes", h.header_length)});
    return table(rows);
}

std::string frame_summary(const FrameHeader& h, std::string_view payload, bool incoming) {
    std::string detail;
    if (h.opcode == static_cast<std::uint8_t>(Opcode::close) && payload.size() >= 2) {
        auto code = static_cast<std::uint16_t>((static_cast<unsigned char>(payload[0]) << 8) | static_cast<unsigned char>(payload[1]));
        detail = fmt::format("code {} ({}) {}", code, close_code_name(code), printable(payload.substr(2), 40));
    } else if (!payload.empty() || h.payload_length == 0) {
        detail = printable(payload, 40);
    }
    return fmt::format("{} {:<12} {}{}{} {} B{}{}", incoming ? "←" : "→", opcode_name(h.opcode), h.fin ? "fin" : "---",
                       h.masked ? " masked" : "", h.rsv2 || h.rsv3 ? " RSV!" : h.rsv1 ? " RSV1" : "", h.payload_length,
                       detail.empty() ? "" : " ", detail);
}

std::string frame_log(std::string_view prefix, const FrameHeader& h, std::string_view header_bytes,
                      std::string_view payload, bool incoming, bool diagram) {
    std::string s = fmt::format("{} {}\n", prefix, frame_summary(h, payload, incoming));
    if (!diagram) return s;
    s += frame_diagram(h, header_bytes);
    // The first 64 bytes of the frame (the payload unmasked); no more of a payload that may be
    // 16 MiB is copied.
    std::string shown = std::string(header_bytes) +
                        std::string(payload.substr(0, 64 - std::min<std::size_t>(64, header_bytes.size())));
    if (h.masked) s += paint(tr("the frame's bytes, with the payload already unmasked:\n"), Style::dim);
    s += hexdump(shown);
    if (std::size_t total = header_bytes.size() + payload.size(); total > shown.size())
        s += trf("      … {} more bytes not shown\n", total - shown.size());
    return s;
}

std::string inflated_log(std::string_view prefix, std::string_view compressed, std::string_view message,
                         bool incoming, bool side_by_side) {
    double percent = message.empty() ? 100.0 : 100.0 * static_cast<double>(compressed.size()) / static_cast<double>(message.size());
    std::string s = trf("{} {} {}: {} B on the wire for {} B ({:.0f}%) {}\n", prefix, incoming ? "←" : "→",
                                paint(incoming ? tr("inflated") : tr("compressed"), Style::dim), compressed.size(), message.size(),
                                percent, printable(message, 32));
    if (!side_by_side) return s;
    // The two forms one above the other, their first bytes lined up.
    auto first = [](std::string_view bytes) { return hex(bytes.substr(0, 12)) + (bytes.size() > 12 ? " …" : ""); };
    std::string wire = tr("on the wire"), plain = tr("message");
    std::size_t width = std::max(columns(wire), columns(plain));
    auto label = [&](const std::string& l) { return paint(l, Style::dim) + std::string(width - columns(l), ' '); };
    s += trf("   {}  {}  ({} B, RSV1 set)\n", label(wire), first(compressed), compressed.size());
    s += trf("   {}  {}  ({} B) {}\n", label(plain), first(message), message.size(), printable(message, 16));
    return s;
}

std::string unmask_steps(std::string_view masked, const std::array<std::uint8_t, 4>& key, std::size_t max) {
    std::string s;
    std::size_t n = std::min(masked.size(), max);
    for (std::size_t i = 0; i < n; ++i) {
        auto m = static_cast<unsigned char>(masked[i]);
        unsigned char k = key[i % 4];
        unsigned char p = m ^ k;
        std::string shown = (p >= 0x20 && p < 0x7f) ? fmt::format("'{}'", static_cast<char>(p)) : "   ";
        s += fmt::format("{}{:02x}^{:02x}={:02x} {}", (i % 4 == 0) ? "\n  " : "   ", m, k, p, shown);
    }
    if (n < masked.size()) s += trf("\n  … and {} more bytes the same way", masked.size() - n);
    return s + "\n";
}

}  // namespace ws::print

#include "proto/receiver.hpp"

namespace ws::print {
namespace {

// At most `max` bytes in hex, then how many there were.
std::string hex_preview(std::string_view bytes, std::size_t max) {
    std::string s = hex(bytes.substr(0, max));
    if (bytes.size() > max) s += fmt::format(" … ({} bytes)", bytes.size());
    return s.empty() ? tr("(empty)") : s;
}

std::string verdict(const Event& e, const FrameHeader& h, Role role) {
    std::string from = role == Role::server ? tr("from a client") : tr("from a server");
    switch (e.kind) {
        case Event::Kind::message:
            return trf("a complete {} message {} — deliver {}{}", e.type == Opcode::text ? "text" : "binary",
                               from, e.type == Opcode::text ? printable(e.payload, 20) : hex_preview(e.payload, 6),
                               h.opcode == 0 ? tr(" (fragments joined)") : "");
        case Event::Kind::need_more:
            return h.opcode == 0 ? tr("a middle fragment — keep it and wait for the frame with FIN set") : tr("the first fragment of a message (FIN is 0) — keep it and wait for continuation frames");
        case Event::Kind::ping: return std::string(tr("a ping — answer with a pong carrying the same payload"));
        case Event::Kind::pong: return std::string(tr("a pong — note that the peer is alive (an unsolicited pong is ignored)"));
        case Event::Kind::close: {
            // RFC 6455 §7.1.1: the server closes the TCP connection first; a client waits for it.
            std::string then = role == Role::server ? tr("then close TCP") : tr("let the server close TCP");
            return e.code == 1005 ? trf("a close without a code — answer with a close, {}", then)
                                  : trf("close {} ({}) — answer with a close frame, {}", e.code,
                                                close_code_name(e.code), then);
        }
        case Event::Kind::fail:
            return paint(trf("{} — fail the connection with close code {} ({})", tr(describe(e.error)), e.code,
                                     close_code_name(e.code)), Style::red);
    }
    return "";
}

}  // namespace

std::string explain_frames(std::string_view input, const ExplainOptions& options) {
    std::string s;
    std::string bytes(input);  // the receiver unmasks in place; keep the original for display
    if (bytes.empty()) return std::string(tr("no bytes given\n"));
    Role role = (static_cast<unsigned char>(bytes.size() > 1 ? bytes[1] : 0) & 0x80) ? Role::server : Role::client;
    Receiver receiver(role, ReceiverLimits{UINT64_MAX >> 1});
    std::size_t offset = 0;
    int number = 0;
    std::uint8_t message_type = 0;  // the opcode a run of continuation frames belongs to
    while (offset < bytes.size()) {
        ++number;
        std::string_view rest = std::string_view(input).substr(offset);
        HeaderParse hp = parse_header(std::span(reinterpret_cast<const std::uint8_t*>(rest.data()), rest.size()));
        if (hp.status == HeaderParse::Status::need_more) {
            s += heading(trf("frame {} (incomplete, from offset {})", number, offset));
            s += trf("incomplete: the header needs {} bytes and only {} are here — a receiver waits for more\n",
                             hp.needed, rest.size());
            break;
        }
        const FrameHeader& h = hp.header;
        std::uint64_t frame_size = h.header_length + h.payload_length;
        s += heading(frame_size <= rest.size()
                         ? trf("frame {} ({} bytes from offset {})", number, frame_size, offset)
                         : trf("frame {} ({} bytes, of which {} are here, from offset {})", number, frame_size,
                                       rest.size(), offset));
        s += frame_diagram(h, rest.substr(0, h.header_length));
        s += frame_fields(h);
        if (hp.status == HeaderParse::Status::error) {
            s += paint(trf("receiver: {} — fail the connection with close code 1002\n", tr(describe(hp.error))),
                       Style::red);
            break;
        }
        // RFC 6455 §5.2: "the minimal number of bytes MUST be used to encode the length".
        bool non_minimal = (h.length_form == LengthForm::sixteen_bit && h.payload_length <= 125) ||
                           (h.length_form == LengthForm::sixty_four_bit && h.payload_length <= 0xFFFF);
        if (non_minimal)
            s += paint(trf("note: a length of {} in the {}. RFC 6455 §5.2 says the shortest\n"
                                   "      form MUST be used; this receiver accepts it, a strict one may refuse it.\n",
                                   h.payload_length, length_form_name(h.length_form)),
                       Style::yellow);
        std::uint64_t available = rest.size() - h.header_length;
        if (available < h.payload_length) {
            // The header alone may already break a rule (a long control frame, a huge length).
            std::size_t consumed = 0;
            Event e = receiver.next(std::span(reinterpret_cast<std::uint8_t*>(bytes.data() + offset), rest.size()), consumed);
            if (e.kind == Event::Kind::fail) {
                s += tr("receiver: ") + verdict(e, h, role) + "\n";
                break;
            }
            s += trf("incomplete: the payload is {} bytes and only {} are here — a receiver waits for more\n",
                             h.payload_length, available);
            break;
        }
        auto length = static_cast<std::size_t>(h.payload_length);
        std::string payload(rest.substr(h.header_length, length));
        if (h.masked) {
            s += fmt::format("{:<23} {}\n", tr("payload (masked)"), hex_preview(payload, 16));
            std::string plain = payload;
            apply_mask(reinterpret_cast<std::uint8_t*>(plain.data()), plain.size(), h.mask);
            if (options.unmask_steps) s += tr("unmask: byte i XOR key[i mod 4]") + unmask_steps(payload, h.mask, options.unmask_max);
            payload = plain;
        }
        // The payload is read as its opcode says: a binary frame is bytes, not text, even when
        // its bytes happen to be letters; a continuation is read as the message it continues.
        if (!is_control(h.opcode) && h.opcode != 0) message_type = h.opcode;
        std::uint8_t as = h.opcode == 0 ? message_type : h.opcode;
        if (h.opcode == static_cast<std::uint8_t>(Opcode::close) && payload.size() >= 2) {
            std::uint16_t code = close_code_of(payload);
            s += fmt::format("{:<23} {}\n{:<23} {}\n", tr("close code"), trf("{} ({})", code, close_code_name(code)),
                             tr("close reason"), printable(std::string_view(payload).substr(2)));
        } else if (as == static_cast<std::uint8_t>(Opcode::binary)) {
            s += fmt::format("{:<23} {}\n", h.opcode == 0 ? tr("payload (binary, cont.)") : tr("payload (binary)"),
                             hex_preview(payload, 16));
        } else if (as == static_cast<std::uint8_t>(Opcode::text)) {
            s += fmt::format("{:<23} {}\n", h.opcode == 0 ? tr("payload (text, cont.)") : tr("payload (text)"),
                             printable(payload, 56));
        } else {
            s += fmt::format("{:<23} {}\n", trf("payload ({})", opcode_name(h.opcode)), printable(payload, 56));
        }

        std::size_t consumed = 0;
        std::size_t frame_length = h.header_length + length;
        Event e = receiver.next(std::span(reinterpret_cast<std::uint8_t*>(bytes.data() + offset), frame_length), consumed);
        s += tr("receiver: ") + verdict(e, h, role) + "\n";
        offset += frame_length;
        if (e.kind == Event::Kind::fail) break;
        if (e.kind == Event::Kind::close && offset < bytes.size()) {
            std::size_t after = bytes.size() - offset;
            s += paint(trf("{} more byte{} after the close frame: nothing may follow a close (RFC 6455 §5.5.1),\n"
                                   "so a receiver ignores {}: {}\n",
                                   after, after == 1 ? "" : "s", after == 1 ? "it" : "them",
                                   hex_preview(std::string_view(input).substr(offset), 16)),
                       Style::yellow);
            break;
        }
    }
    return s;
}

}  // namespace ws::print
