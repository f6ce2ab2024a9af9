// The WebSocket frame (RFC 6455 §5.2): parsing a header from whatever bytes have arrived,
// building frames, and masking. No I/O.
//
//   0                   1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  +-+-+-+-+-------+-+-------------+-------------------------------+
//  |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
//  |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
//  |N|V|V|V|       |S|             |   (if payload len==126/127)   |
//  | |1|2|3|       |K|             |                               |
//  +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
//  |     Extended payload length continued, if payload len == 127  |
//  + - - - - - - - - - - - - - - - +-------------------------------+
//  |                               |Masking-key, if MASK set to 1  |
//  +-------------------------------+-------------------------------+
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace ws {

enum class Opcode : std::uint8_t {
    continuation = 0x0,
    text = 0x1,
    binary = 0x2,
    close = 0x8,
    ping = 0x9,
    pong = 0xA,
};

std::string_view opcode_name(std::uint8_t opcode);  // "text", "close", "reserved (0x3)" ...
inline bool is_control(std::uint8_t opcode) { return (opcode & 0x8) != 0; }
bool is_known_opcode(std::uint8_t opcode);

// Close codes (RFC 6455 §7.4.1) that this project sends, by name.
enum class CloseCode : std::uint16_t {
    normal = 1000,
    going_away = 1001,
    protocol_error = 1002,
    unsupported_data = 1003,
    no_status = 1005,         // never sent: means "the close frame had no code"
    abnormal = 1006,          // never sent: means "the TCP connection dropped without a close frame"
    invalid_payload = 1007,   // e.g. text that is not UTF-8
    policy_violation = 1008,
    message_too_big = 1009,
    internal_error = 1011,
    try_again_later = 1013,
};
std::string_view close_code_name(std::uint16_t code);  // "normal closure", "protocol error" ...
// May this code appear in a close frame on the wire? (1005, 1006, 1015 and unassigned ones may not.)
bool is_valid_close_code(std::uint16_t code);

// Every rule a received frame can break (RFC 6455 §5-§8), by name. Each carries the close code
// the receiver must fail the connection with and a sentence saying what was wrong.
enum class FrameError : std::uint8_t {
    none,
    reserved_bits,            // §5.2: RSV1-3 set, but no extension defines them
    compressed_bit_misplaced, // RFC 7692 §6: RSV1 only on a data message's first frame
    reserved_opcode,          // §5.2: opcodes 3-7 and B-F
    unmasked_client_frame,    // §5.1: a server must refuse a frame that is not masked
    masked_server_frame,      // §5.1: a client must refuse a masked frame
    fragmented_control,       // §5.5: control frames must not be fragmented
    control_too_long,         // §5.5: control frames carry at most 125 bytes
    orphan_continuation,      // §5.4: a continuation frame with no message to continue
    expected_continuation,    // §5.4: a new data frame inside a fragmented message
    length_high_bit,          // §5.2: the 64-bit length's most significant bit must be 0
    message_too_big,          // §7.4.1 (1009): over this endpoint's message size limit
    close_one_byte,           // §5.5.1: a close payload is empty or at least 2 bytes
    bad_close_code,           // §7.4: a code that may not appear on the wire
    close_reason_not_utf8,    // §5.5.1: the reason is UTF-8 (1007)
    text_not_utf8,            // §8.1: text messages are UTF-8 (1007)
    text_cut_short,           // §8.1: the text ends inside a character (1007)
    inflated_too_big,         // RFC 7692: inflated, the message is over the size limit (1009)
    not_deflate,              // RFC 7692 §7.2.2: a compressed payload that does not inflate (1007)
};
std::string_view name(FrameError);         // "unmasked_client_frame", for logs and tests
std::string_view describe(FrameError);     // "client frame is not masked"
std::uint16_t close_code_for(FrameError);  // 1002, 1007 or 1009

// Which of the three payload length forms a frame used.
enum class LengthForm : std::uint8_t { seven_bit, sixteen_bit, sixty_four_bit };

struct FrameHeader {
    bool fin = true;
    bool rsv1 = false, rsv2 = false, rsv3 = false;
    std::uint8_t opcode = 0;
    bool masked = false;
    std::uint64_t payload_length = 0;
    std::array<std::uint8_t, 4> mask{};
    LengthForm length_form = LengthForm::seven_bit;
    std::size_t header_length = 2;  // 2 to 14 bytes
};

// Parsing a header from a buffer that may hold less than a header, exactly one, or more.
struct HeaderParse {
    enum class Status { need_more, ok, error } status = Status::need_more;
    FrameHeader header;
    std::size_t needed = 2;  // need_more: the header is at least this long; ok: header_length
    FrameError error = FrameError::none;
};
// Only the format is checked here (the 64-bit length's top bit); the role-dependent rules
// (masking, RSV bits, opcodes, control frame sizes) are the Receiver's.
HeaderParse parse_header(std::span<const std::uint8_t> bytes);

// The payload length of a header that holds at least its first 2 bytes and its extended length
// (2 or 8 more bytes when the 7-bit field says 126 or 127), in network byte order.
std::uint64_t read_payload_length(std::span<const std::uint8_t> header);

// Writes a header for this payload length into `out` (at least 14 bytes); returns its length.
// The shortest length form is used.
std::size_t write_header(std::uint8_t* out, bool fin, std::uint8_t opcode, std::uint64_t length,
                         const std::array<std::uint8_t, 4>* mask);
inline constexpr std::size_t kMaxHeader = 14;

// The header of a frame that is known to be whole (one this program just built).
FrameHeader header_of(std::string_view frame);

struct FrameSpec {
    std::uint8_t opcode = static_cast<std::uint8_t>(Opcode::text);
    bool fin = true;
    bool rsv1 = false, rsv2 = false, rsv3 = false;
    bool masked = false;
    std::array<std::uint8_t, 4> mask{};
};
// A whole frame: header then payload (masked when spec.masked).
std::string build_frame(const FrameSpec& spec, std::string_view payload);
// Appends a frame to `out`: unmasked as a server sends it, or masked with `mask` as a client
// must (RFC 6455 §5.3). The fast path of every sender.
void append_frame(std::string& out, Opcode opcode, std::string_view payload, bool fin = true,
                  const std::array<std::uint8_t, 4>* mask = nullptr);
// The payload of a close frame: the code in network order, then the UTF-8 reason, cut to
// 123 bytes (at a character boundary) so the frame stays within a control frame's 125.
std::string close_payload(std::uint16_t code, std::string_view reason);
// The code in a close payload of at least 2 bytes.
std::uint16_t close_code_of(std::string_view payload);

// XORs `data` with the key, starting at key byte `phase` (0-3); returns the next phase.
// Used for masking and unmasking alike. Works a machine word at a time.
std::size_t apply_mask(std::uint8_t* data, std::size_t length, const std::array<std::uint8_t, 4>& key,
                       std::size_t phase = 0);

}  // namespace ws
