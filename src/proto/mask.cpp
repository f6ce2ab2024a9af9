// Exercise 4b (exercises/4b-unmask.cpp) is this function: masking and unmasking a payload
// (RFC 6455 §5.3), the same XOR both ways.
#include <cstring>

#include "proto/frame.hpp"

namespace ws {

std::size_t apply_mask(std::uint8_t* data, std::size_t length, const std::array<std::uint8_t, 4>& key,
                       std::size_t phase) {
    phase &= 3;
    // Byte i of the payload is XORed with key[(phase + i) % 4]. Eight key bytes, rotated to
    // start at `phase`, cover eight payload bytes at once; memcpy keeps unaligned loads legal
    // and compiles to plain moves (and, with -O2, to vector instructions).
    std::uint8_t rotated[8];
    for (std::size_t i = 0; i < 8; ++i) rotated[i] = key[(phase + i) & 3];
    std::uint64_t key64;
    std::memcpy(&key64, rotated, 8);

    std::size_t i = 0;
    for (; i + 32 <= length; i += 32) {
        std::uint64_t w[4];
        std::memcpy(w, data + i, 32);
        w[0] ^= key64; w[1] ^= key64; w[2] ^= key64; w[3] ^= key64;
        std::memcpy(data + i, w, 32);
    }
    for (; i + 8 <= length; i += 8) {
        std::uint64_t w;
        std::memcpy(&w, data + i, 8);
        w ^= key64;
        std::memcpy(data + i, &w, 8);
    }
    for (; i < length; ++i) data[i] ^= rotated[i & 7];
    return (phase + length) & 3;
}

}  // namespace ws
