// Exercise 6 (exercises/6-frame-header.cpp) is this function: the header a sender writes
// (RFC 6455 §5.2): FIN and the opcode, the mask bit and the shortest length form, then the
// masking key when there is one (every frame a client sends has one, §5.3).
#include <cstring>

#include "proto/frame.hpp"

namespace ws {

std::size_t write_header(std::uint8_t* out, bool fin, std::uint8_t opcode, std::uint64_t length,
                         const std::array<std::uint8_t, 4>* mask) {
    out[0] = static_cast<std::uint8_t>((fin ? 0x80 : 0) | (opcode & 0x0F));
    std::uint8_t mask_bit = mask ? 0x80 : 0;
    std::size_t n;
    if (length <= 125) {
        out[1] = static_cast<std::uint8_t>(mask_bit | length);
        n = 2;
    } else if (length <= 0xFFFF) {
        out[1] = mask_bit | 126;
        out[2] = static_cast<std::uint8_t>(length >> 8);
        out[3] = static_cast<std::uint8_t>(length);
        n = 4;
    } else {
        out[1] = mask_bit | 127;
        for (int i = 0; i < 8; ++i) out[2 + i] = static_cast<std::uint8_t>(length >> (56 - 8 * i));
        n = 10;
    }
    if (mask) {
        std::memcpy(out + n, mask->data(), 4);
        n += 4;
    }
    return n;
}

}  // namespace ws
