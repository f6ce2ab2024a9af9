// Exercise 5a (lesson 5): is this text valid UTF-8?
//
// RFC 6455 §8.1: a text message must be valid UTF-8 (RFC 3629), or the receiver fails the
// connection with 1007. Every chat message the room relays passes through this check.
//
// Write is_valid_utf8(bytes). A character is 1 to 4 bytes:
//   00..7F                      one byte (ASCII)
//   C2..DF  80..BF              two bytes
//   E0..EF  80..BF  80..BF      three bytes, but after E0 the second byte is A0..BF (no
//                               overlong forms) and after ED it is 80..9F (no surrogates)
//   F0..F4  80..BF  80..BF 80..BF  four bytes, after F0 the second is 90..BF, after F4 80..8F
//                               (nothing above U+10FFFF)
// Anything else (C0, C1, F5..FF, a stray 80..BF, a character cut short at the end) is invalid.
//
//   is_valid_utf8("κόσμε") == true      is_valid_utf8("\xc0\xaf") == false (overlong "/")
//
// Check it: make exercises. Run lesson 5 on it: build/bin/student/lesson5-chat --demo
// The library's own answer is in src/proto/utf8_check.cpp and src/proto/utf8.cpp.
#include "proto/utf8.hpp"

namespace ws {

bool is_valid_utf8(std::string_view bytes) {
    (void)bytes;
    return false;  // TODO: walk the bytes, one character at a time
}

}  // namespace ws
