// Exercise 5a (exercises/5a-utf8.cpp) is this function: is a whole text valid UTF-8? The
// server calls it for every text message that arrives in one frame.
#include "proto/utf8.hpp"

namespace ws {

bool is_valid_utf8(std::string_view bytes) {
    Utf8Validator v;
    return v.feed(bytes) && v.complete();
}

}  // namespace ws
