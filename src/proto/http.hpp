// Incremental HTTP/1.1 head parsers (RFC 9112): the request a WebSocket server reads first, and
// the response a WebSocket client reads first. No I/O here: the caller keeps the bytes that
// have arrived and asks again when more come.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "i18n/i18n.hpp"

namespace ws::http {

struct Header {
    std::string name;   // as sent; compare with iequals()
    std::string value;  // leading and trailing spaces/tabs removed
};

struct Headers {
    std::vector<Header> headers;

    // The first header with this name (names are case-insensitive), if any.
    const Header* find(std::string_view name) const;
    // How many headers have this name.
    std::size_t count(std::string_view name) const;
};

struct Request : Headers {
    std::string method;
    std::string target;
    std::string version;  // "HTTP/1.1"
};

struct Response : Headers {
    std::string version;  // "HTTP/1.1"
    int status = 0;       // 101
    std::string reason;   // "Switching Protocols" (may be empty)
};

// Limits are settings: a head larger than this is refused before it is buffered further.
struct Limits {
    std::size_t max_head_bytes = 8 * 1024;  // first line + headers + the empty line
    std::size_t max_headers = 64;
};

enum class ParseError {
    none,
    head_too_large,       // no empty line within max_head_bytes
    too_many_headers,
    bare_lf,              // a line ended in LF without CR
    bad_request_line,     // not "METHOD SP target SP HTTP/x.y"
    bad_status_line,      // not "HTTP/x.y SP 3DIGIT SP reason"
    bad_header_line,      // no colon, empty name, space before the colon, a control character
    obsolete_line_folding // a header line starting with a space or tab (RFC 9112 §5.2)
};

// A sentence a student can act on, e.g. "the request line must be METHOD TARGET HTTP/1.1".
std::string_view describe(ParseError);

enum class ParseStatus { need_more, complete, error };

struct ParseResult {
    using Status = ParseStatus;
    Status status = Status::need_more;
    Request request;               // valid when complete
    std::size_t consumed = 0;      // bytes of the head, including the empty line, when complete
    ParseError error = ParseError::none;
    std::string detail;            // which line was wrong, when error (English: a 400's body says it)
    std::string shown;             // the same in the lesson's language, for the screen and the log
};

struct ResponseParseResult {
    using Status = ParseStatus;
    Status status = Status::need_more;
    Response response;             // valid when complete
    std::size_t consumed = 0;      // bytes of the head, including the empty line, when complete
    ParseError error = ParseError::none;
    std::string detail, shown;     // as in ParseResult
};

// What both parsers share: finding the empty line that ends a head, in bytes that arrive in
// pieces, and the limits.
class HeadScanner {
public:
    explicit HeadScanner(Limits limits) : limits_(limits) {}
    const Limits& limits() const { return limits_; }
    // Ready for the next head on a new buffer.
    void reset() { scanned_ = 0; }

protected:
    // Once the whole head is here: its first line, the header lines after it, and its length
    // (through the empty line).
    ParseStatus split(std::string_view received, std::string_view& first_line, std::string_view& lines,
                      std::size_t& consumed, ParseError& error, Why& why);
    // Parses the header lines into `out`, within the limits.
    bool parse_header_lines(std::string_view lines, Headers& out, ParseError& error, Why& why) const;
    // Both heads: split, then the first line by `first_line`, then the headers.
    template <class Result, class Message>
    Result parse_head(std::string_view received, Message Result::*message,
                      bool (*first_line)(std::string_view, Message&), ParseError first_line_error);

private:
    ParseStatus find_end(std::string_view received, std::size_t& head_end, ParseError& error, Why& why);

    Limits limits_;
    std::size_t scanned_ = 0;  // bytes already known to hold no "\r\n\r\n" and no bare LF
};

class RequestParser : public HeadScanner {
public:
    explicit RequestParser(Limits limits = {}) : HeadScanner(limits) {}

    // `received` is everything read so far on this connection (the same prefix every call,
    // plus whatever arrived since). Scanning resumes where the last call stopped, so feeding
    // a request one byte at a time stays linear.
    ParseResult parse(std::string_view received);
};

// A client reads the server's answer the same way: status line, headers, the empty line.
class ResponseParser : public HeadScanner {
public:
    explicit ResponseParser(Limits limits = {}) : HeadScanner(limits) {}
    ResponseParseResult parse(std::string_view received);
};

// The length of the head in `bytes` through the empty line that ends it ("\r\n\r\n"), or 0
// when that line has not arrived yet.
std::size_t head_length(std::string_view bytes);

// Case-insensitive ASCII comparison, as HTTP compares header names and tokens.
bool iequals(std::string_view a, std::string_view b);
// True when a comma-separated token list ("keep-alive, Upgrade") holds `token`, in any case.
bool list_contains(std::string_view list, std::string_view token);
// Decodes %XX escapes (a URL's path or query); nullopt for malformed ones or a decoded NUL.
std::optional<std::string> percent_decode(std::string_view);
// A request target's path, without its query: "/socket.io/?EIO=4" → "/socket.io/".
inline std::string_view path_of(std::string_view target) { return target.substr(0, target.find('?')); }
// Trims spaces and tabs (HTTP's optional white space) from both ends.
std::string_view trim(std::string_view);

}  // namespace ws::http
