// The pages under html/, compiled into the binaries, and plain HTTP responses for them.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ws::html {

// The page for a request target such as "/", "/chatroom.html" or "/favicon.ico".
// `index` is the page "/" means. With `dir` set, pages are read from that folder instead
// (edit a page and reload). Only plain file names are served: nothing outside html/.
struct Page {
    int status = 200;
    std::string content_type;
    std::string body;
};
Page find(std::string_view target, std::string_view index, const std::optional<std::string>& dir = std::nullopt);

// A complete HTTP/1.1 response that closes the connection after it.
std::string response(const Page&, bool head_only = false);
std::string response(int status, std::string_view text_body);

std::string_view content_type_for(std::string_view file_name);
std::string_view status_text(int status);

}  // namespace ws::html
