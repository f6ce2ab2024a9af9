// Exercise 4a (lesson 4): the payload length.
//
// RFC 6455 §5.2: the low 7 bits of a frame's second byte are the payload length when they are
// 0 to 125. 126 means "the next 2 bytes are the length", 127 "the next 8 bytes are". Both are
// in network byte order (big-endian: the most significant byte first).
//
// Write read_payload_length(header): `header` holds the frame's first 2 bytes and, when the
// 7-bit field says 126 or 127, the 2 or 8 bytes after them.
//
//   read_payload_length({0x81, 0x05})                   == 5
//   read_payload_length({0x82, 0x7e, 0x01, 0x00})       == 256
//   read_payload_length({0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0}) == 65536
//
// Mind the mask bit: it is the top bit of the same byte (0x85 is "masked, length 5").
// Check it: make exercises. Run lesson 4 on it: build/bin/student/lesson4-framing --demo
// The library's own answer is in src/proto/payload_length.cpp: look only when you are done.
#include "proto/frame.hpp"

namespace ws {

std::uint64_t read_payload_length(std::span<const std::uint8_t> header) {
    (void)header;
    return 0;  // TODO: the 7-bit field, then 2 or 8 more bytes
}

}  // namespace ws
