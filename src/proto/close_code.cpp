// Exercise 5b (exercises/5b-close-code.cpp) is this function: may a close frame carry this
// code (RFC 6455 §7.4)? The receiver fails a connection with 1002 when not.
#include "proto/frame.hpp"

namespace ws {

bool is_valid_close_code(std::uint16_t code) {
    // RFC 6455 §7.4: 1000-1003 and 1007-1011 are defined; 1012-1014 were registered with IANA
    // since (service restart, try again later, bad gateway); 3000-4999 are for libraries and
    // applications. 1004 is reserved; 1005, 1006 and 1015 must never be sent.
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

}  // namespace ws
