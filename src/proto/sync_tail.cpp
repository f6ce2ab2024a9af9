// permessage-deflate's tail (RFC 7692 §7.2.1), alone in its file: exercise 8 replaces it.
#include "proto/deflate.hpp"

namespace ws {

std::size_t without_sync_tail(std::string_view deflated) {
    constexpr std::string_view kTail("\x00\x00\xff\xff", 4);
    if (deflated.size() >= kTail.size() && deflated.substr(deflated.size() - kTail.size()) == kTail)
        return deflated.size() - kTail.size();
    return deflated.size();
}

}  // namespace ws
