#include "proto/random.hpp"

#include <openssl/rand.h>

#include <stdexcept>

namespace ws {

Random::Random(std::optional<std::uint64_t> seed) : seeded_(seed.has_value()), engine_(seed.value_or(0)) {}

void Random::fill(std::span<std::uint8_t> out) {
    if (!seeded_) {
        if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1)
            throw std::runtime_error("OpenSSL could not produce random bytes");
        return;
    }
    for (std::size_t i = 0; i < out.size(); i += 8) {
        std::uint64_t word = engine_();
        for (std::size_t j = 0; j < 8 && i + j < out.size(); ++j) out[i + j] = static_cast<std::uint8_t>(word >> (8 * j));
    }
}

std::array<std::uint8_t, 4> Random::mask_key() {
    std::array<std::uint8_t, 4> key{};
    fill(key);
    return key;
}

std::array<std::uint8_t, 16> Random::nonce() {
    std::array<std::uint8_t, 16> n{};
    fill(n);
    return n;
}

}  // namespace ws
