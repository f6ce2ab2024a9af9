// An incremental HTTP/1.1 request parser (RFC 9112), the first thing a WebSocket server reads.
// No I/O here: the caller keeps the bytes that have arrived and asks again when more come.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ws::http {

struct Header {
    std::string name;   // as sent; compare with iequals()
    std::string value;  // leading and trailing spaces/tabs removed
};

struct Request {
    std::string method;
    std::string target;
    std::string version;  // "HTTP/1.1"
    std::vector<Header> headers;

    // The first header with this name (names are case-insensitive), if any.
    const Header* find(std::string_view name) const;
    // How many headers have this name.
    std::size_t count(std::string_view name) const;
};

// Limits are settings: a request larger than this is refused before it is buffered further.
struct Limits {
    std::size_t max_head_bytes = 8 * 1024;  // request line + headers + the empty line
    std::size_t max_headers = 64;
};

enum class ParseError {
    none,
    head_too_large,       // no empty line within max_head_bytes
    too_many_headers,
    bare_lf,              // a line ended in LF without CR
    bad_request_line,     // not "METHOD SP target SP HTTP/x.y"
    bad_header_line,      // no colon, empty name, space before the colon, a control character
    obsolete_line_folding // a header line starting with a space or tab (RFC 9112 §5.2)
};

// A sentence a student can act on, e.g. "the request line must be METHOD TARGET HTTP/1.1".
std::string_view describe(ParseError);

struct ParseResult {
    enum class Status { need_more, complete, error } status = Status::need_more;
    Request request;               // valid when complete
    std::size_t consumed = 0;      // bytes of the head, including the empty line, when complete
    ParseError error = ParseError::none;
    std::string detail;            // which line was wrong, when error
};

class RequestParser {
public:
    explicit RequestParser(Limits limits = {}) : limits_(limits) {}

    // `received` is everything read so far on this connection (the same prefix every call,
    // plus whatever arrived since). Scanning resumes where the last call stopped, so feeding
    // a request one byte at a time stays linear.
    ParseResult parse(std::string_view received);

    // Ready for the next request on a new buffer.
    void reset() { scanned_ = 0; }
    const Limits& limits() const { return limits_; }

private:
    Limits limits_;
    std::size_t scanned_ = 0;  // bytes already known to hold no "\r\n\r\n" and no bare LF
};

// Case-insensitive ASCII comparison, as HTTP compares header names and tokens.
bool iequals(std::string_view a, std::string_view b);
// True when a comma-separated token list ("keep-alive, Upgrade") holds `token`, in any case.
bool list_contains(std::string_view list, std::string_view token);
// Trims spaces and tabs (HTTP's optional white space) from both ends.
std::string_view trim(std::string_view);

}  // namespace ws::http
