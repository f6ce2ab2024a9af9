// Exercise 5b (lesson 5): may a close frame carry this code?
//
// RFC 6455 §7.4: 1000-1003 and 1007-1011 are defined, and 1012-1014 were registered with IANA
// since. 1004 is reserved; 1005, 1006 and 1015 only name what happened and must never be sent;
// 0-999 are not used; 3000-3999 are for libraries and frameworks, 4000-4999 for applications.
// A receiver that gets any other code fails the connection with 1002.
//
// Write is_valid_close_code(code): true for the codes that may appear in a close frame.
//
//   is_valid_close_code(1000) == true    is_valid_close_code(1005) == false
//   is_valid_close_code(4321) == true    is_valid_close_code(5000) == false
//
// Check it: make exercises. Run lesson 5 on it: build/bin/student/lesson5-chat --demo
// The library's own answer is in src/proto/close_code.cpp: look only when you are done.
#include "proto/frame.hpp"

namespace ws {

bool is_valid_close_code(std::uint16_t code) {
    (void)code;
    return false;  // TODO
}

}  // namespace ws
