// Exercise 4a (exercises/4a-payload-length.cpp) is this function: the three length forms of
// RFC 6455 §5.2 (7 bits; 126 and 16 bits; 127 and 64 bits, both in network byte order).
#include "proto/frame.hpp"

namespace ws {

std::uint64_t read_payload_length(std::span<const std::uint8_t> header) {
    std::uint8_t len7 = header[1] & 0x7F;
    if (len7 < 126) return len7;
    std::size_t extended = len7 == 126 ? 2 : 8;
    std::uint64_t length = 0;
    for (std::size_t i = 0; i < extended; ++i) length = (length << 8) | header[2 + i];
    return length;
}

}  // namespace ws
