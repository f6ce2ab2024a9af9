// Exercise 1 (exercises/1-head-length.cpp) is this function: where does an HTTP head end, in
// bytes that may hold only part of it? The request and response parsers use it.
#include "proto/http.hpp"

namespace ws::http {

std::size_t head_length(std::string_view bytes) {
    std::size_t at = bytes.find("\r\n\r\n");
    return at == std::string_view::npos ? 0 : at + 4;
}

}  // namespace ws::http
