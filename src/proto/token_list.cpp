// Exercise 2 (exercises/2-token-list.cpp) is this function: does a comma-separated header value
// ("keep-alive, Upgrade") hold a token, in any case? The handshake checks use it for Upgrade
// and Connection.
#include "proto/http.hpp"

namespace ws::http {

bool list_contains(std::string_view list, std::string_view token) {
    while (!list.empty()) {
        auto comma = list.find(',');
        if (iequals(trim(list.substr(0, comma)), token)) return true;
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
    return false;
}

}  // namespace ws::http
