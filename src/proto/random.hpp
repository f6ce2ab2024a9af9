// Every random value a lesson makes (client keys, masking keys) comes from here: from OpenSSL's
// RAND_bytes, as RFC 6455 §10.3 requires, or from --seed N so a class sees the same bytes.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <random>
#include <span>

namespace ws {

class Random {
public:
    explicit Random(std::optional<std::uint64_t> seed = std::nullopt);
    void fill(std::span<std::uint8_t> out);
    std::array<std::uint8_t, 4> mask_key();
    std::array<std::uint8_t, 16> nonce();
    bool seeded() const { return seeded_; }

private:
    bool seeded_;
    std::mt19937_64 engine_;  // its output sequence is fixed by the C++ standard: same seed, same bytes
};

}  // namespace ws
