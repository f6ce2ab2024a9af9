// Incremental UTF-8 validation (RFC 3629), as RFC 6455 §8.1 asks of every text message:
// bytes may arrive in any number of pieces, and the first invalid byte is reported at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ws {

class Utf8Validator {
public:
    // Checks the next piece. Returns false at the first byte that can never be valid UTF-8
    // (and keeps returning false). A sequence cut at the end of the piece is fine: it may be
    // completed by the next one.
    bool feed(std::string_view bytes);
    // At the end of a message: true if everything fed was valid and no sequence is cut short.
    bool complete() const { return !failed_ && remaining_ == 0; }
    bool failed() const { return failed_; }
    // Ready for the next message.
    void reset() { *this = Utf8Validator{}; }

private:
    // Continuation bytes still expected for the current character, and the range the next
    // one must fall in (narrower than 80..BF right after E0, ED, F0 and F4: Unicode table 3-7,
    // which rules out overlong forms, surrogates and code points above U+10FFFF).
    std::uint8_t remaining_ = 0;
    std::uint8_t low_ = 0x80, high_ = 0xBF;
    bool failed_ = false;
};

// The whole of `bytes` is valid UTF-8.
bool is_valid_utf8(std::string_view bytes);

// Continuation bytes are 10xxxxxx; every other byte starts a character.
inline bool is_continuation_byte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }
// How many characters (code points) valid UTF-8 text holds.
std::size_t count_code_points(std::string_view text);

}  // namespace ws
