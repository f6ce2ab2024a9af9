// A polling body's packets, alone in its file: exercise 9 replaces it.
#include "proto/engineio.hpp"

namespace ws::eio {

std::vector<std::string_view> split_polling_body(std::string_view body) {
    std::vector<std::string_view> packets;
    std::size_t at = 0;
    for (;;) {
        std::size_t end = body.find(kSeparator, at);
        if (end == std::string_view::npos) {
            packets.push_back(body.substr(at));
            return packets;
        }
        packets.push_back(body.substr(at, end - at));
        at = end + 1;
    }
}

}  // namespace ws::eio
