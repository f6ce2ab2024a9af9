#include "proto/utf8.hpp"

#include <cstring>

namespace ws {

bool Utf8Validator::feed(std::string_view bytes) {
    if (failed_) return false;
    const auto* p = reinterpret_cast<const std::uint8_t*>(bytes.data());
    const auto* end = p + bytes.size();

    while (p < end) {
        if (remaining_ == 0) {
            // Fast path: ASCII (no byte has its top bit set), 32 bytes at a time, then 8.
            while (end - p >= 32) {
                std::uint64_t w[4];
                std::memcpy(w, p, 32);
                if ((w[0] | w[1] | w[2] | w[3]) & 0x8080808080808080ull) break;
                p += 32;
            }
            while (end - p >= 8) {
                std::uint64_t word;
                std::memcpy(&word, p, 8);
                if (word & 0x8080808080808080ull) break;
                p += 8;
            }
            if (p == end) break;

            std::uint8_t b = *p++;
            if (b < 0x80) continue;
            // The lead byte says how many continuation bytes follow (Unicode table 3-7).
            low_ = 0x80;
            high_ = 0xBF;
            if (b >= 0xC2 && b <= 0xDF) {
                remaining_ = 1;
            } else if (b >= 0xE0 && b <= 0xEF) {
                remaining_ = 2;
                if (b == 0xE0) low_ = 0xA0;   // E0 80..9F would be an overlong form
                if (b == 0xED) high_ = 0x9F;  // ED A0..BF would be a surrogate (U+D800..DFFF)
            } else if (b >= 0xF0 && b <= 0xF4) {
                remaining_ = 3;
                if (b == 0xF0) low_ = 0x90;   // overlong
                if (b == 0xF4) high_ = 0x8F;  // above U+10FFFF
            } else {
                // 80..BF without a lead byte, C0/C1 (always overlong), F5..FF (too large).
                failed_ = true;
                return false;
            }
        } else {
            std::uint8_t b = *p++;
            if (b < low_ || b > high_) {
                failed_ = true;
                return false;
            }
            low_ = 0x80;
            high_ = 0xBF;
            --remaining_;
        }
    }
    return true;
}

std::size_t count_code_points(std::string_view text) {
    std::size_t n = 0;
    for (char c : text) n += !is_continuation_byte(c);
    return n;
}


}  // namespace ws
