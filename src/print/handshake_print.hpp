// How a handshake looks on screen: the parsed request as a table, and the checks of either side
// with ✓/✗ (lessons 2 and 6, and the relay).
#pragma once

#include <string>

#include "proto/handshake.hpp"
#include "proto/http.hpp"

namespace ws::print {

// "Parsed: the request line and 5 headers" and a table of method, target, version, headers.
std::string request_table(const http::Request&);
// "Checks (RFC 6455 §4.2.1)" and one ✓/✗ line per check, with what was seen.
std::string server_checks(const handshake::Result&);
// "Checks (RFC 6455 §4.1)": the client's checks of a response.
std::string client_checks(const handshake::ClientResult&);
// A head (request or response) with its line endings made visible (␍␊), or plain; every line
// cut to the lesson's width.
std::string head_text(std::string_view head, bool show_line_endings);

}  // namespace ws::print
