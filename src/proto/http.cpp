#include "proto/http.hpp"

#include "i18n/i18n.hpp"

#include <algorithm>
#include <cctype>

namespace ws::http {
namespace {

// RFC 9110 §5.6.2: the characters a token (method, header name) may hold.
bool is_token_char(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), is_token_char);
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// A header value may hold visible characters, spaces, tabs and obs-text (bytes >= 0x80).
bool is_value_char(char c) {
    auto u = static_cast<unsigned char>(c);
    return u == '\t' || (u >= 0x20 && u != 0x7f);
}

bool is_http_version(std::string_view v) {
    // HTTP-version = "HTTP/" DIGIT "." DIGIT
    return v.size() == 8 && v.substr(0, 5) == "HTTP/" && std::isdigit(static_cast<unsigned char>(v[5])) &&
           v[6] == '.' && std::isdigit(static_cast<unsigned char>(v[7]));
}

bool parse_request_line(std::string_view line, Request& req) {
    auto sp1 = line.find(' ');
    if (sp1 == std::string_view::npos) return false;
    auto sp2 = line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos) return false;
    std::string_view method = line.substr(0, sp1);
    std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    std::string_view version = line.substr(sp2 + 1);
    if (!is_token(method) || target.empty()) return false;
    for (char c : target)
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return false;
    if (!is_http_version(version)) return false;
    req.method = method;
    req.target = target;
    req.version = version;
    return true;
}

// RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ]
bool parse_status_line(std::string_view line, Response& res) {
    if (line.size() < 12 || !is_http_version(line.substr(0, 8)) || line[8] != ' ') return false;
    std::string_view code = line.substr(9, 3);
    if (!std::all_of(code.begin(), code.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
        return false;
    // Some servers send "HTTP/1.1 101" with no space after the code: accepted, as curl does.
    if (line.size() > 12 && line[12] != ' ') return false;
    std::string_view reason = line.size() > 13 ? line.substr(13) : std::string_view{};
    if (!std::all_of(reason.begin(), reason.end(), is_value_char)) return false;
    res.version = line.substr(0, 8);
    res.status = (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
    res.reason = reason;
    return true;
}

}  // namespace

std::string_view describe(ParseError e) {
    switch (e) {
        case ParseError::none: return N_("no error");
        case ParseError::head_too_large: return N_("the head (first line and headers) is larger than the limit");
        case ParseError::too_many_headers: return N_("there are more header lines than the limit");
        case ParseError::bare_lf: return N_("a line ended with LF alone; HTTP lines end with CR LF");
        case ParseError::bad_request_line:
            return N_("the request line must be METHOD SP TARGET SP HTTP/x.y");
        case ParseError::bad_status_line: return N_("the status line must be HTTP/x.y SP CODE SP REASON");
        case ParseError::bad_header_line: return N_("a header line must be NAME: VALUE");
        case ParseError::obsolete_line_folding:
            return N_("a header line starts with white space (obsolete line folding is refused)");
    }
    return "unknown error";
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}


const Header* Headers::find(std::string_view name) const {
    for (const auto& h : headers)
        if (iequals(h.name, name)) return &h;
    return nullptr;
}

std::size_t Headers::count(std::string_view name) const {
    return static_cast<std::size_t>(
        std::count_if(headers.begin(), headers.end(), [&](const Header& h) { return iequals(h.name, name); }));
}

ParseStatus HeadScanner::find_end(std::string_view received, std::size_t& head_end, ParseError& error, Why& why) {
    // Look only at what is new since the last call (and the 3 bytes before it, in case the empty
    // line straddles two reads), and never past the limit.
    std::size_t limit = std::min(received.size(), limits_.max_head_bytes);
    std::size_t from = scanned_ >= 3 ? scanned_ - 3 : 0;
    std::size_t found = head_length(received.substr(from, limit - from));
    std::size_t end = found ? from + found : limit;
    // Every LF must follow a CR (RFC 9112 §2.2 lets a server refuse bare LF; we do).
    for (std::size_t i = scanned_; i < end; ++i) {
        if (received[i] == '\n' && (i == 0 || received[i - 1] != '\r')) {
            error = ParseError::bare_lf;
            why = because("at byte {}", i);
            return ParseStatus::error;
        }
    }
    if (found) {
        head_end = end;
        return ParseStatus::complete;
    }
    scanned_ = limit;
    if (received.size() >= limits_.max_head_bytes) {
        error = ParseError::head_too_large;
        why = because("no empty line within the first {} bytes", limits_.max_head_bytes);
        return ParseStatus::error;
    }
    return ParseStatus::need_more;
}

bool HeadScanner::parse_header_lines(std::string_view head, Headers& out, ParseError& error, Why& why) const {
    std::size_t line_number = 1;
    while (!head.empty()) {
        auto eol = head.find("\r\n");
        std::string_view line = head.substr(0, eol);
        head = eol == std::string_view::npos ? std::string_view{} : head.substr(eol + 2);
        ++line_number;
        auto quoted = [&] { return std::string(line.substr(0, 80)); };  // the line, as an error quotes it
        auto fail = [&](ParseError e, Why w) {
            error = e;
            why = std::move(w);
            return false;
        };
        if (!line.empty() && (line.front() == ' ' || line.front() == '\t'))
            return fail(ParseError::obsolete_line_folding, because("line {}: \"{}\"", line_number, quoted()));
        auto colon = line.find(':');
        if (colon == std::string_view::npos)
            return fail(ParseError::bad_header_line, because("line {}: \"{}\" has no colon", line_number, quoted()));
        std::string_view name = line.substr(0, colon);
        if (!is_token(name))  // also refuses "Name :" (RFC 9112 §5.1: no space before the colon)
            return fail(ParseError::bad_header_line,
                        because("line {}: \"{}\": the name is not a valid token", line_number, quoted()));
        std::string_view value = trim(line.substr(colon + 1));
        if (!std::all_of(value.begin(), value.end(), is_value_char))
            return fail(ParseError::bad_header_line,
                        because("line {}: \"{}\": the value holds a control character", line_number, quoted()));
        if (out.headers.size() == limits_.max_headers)
            return fail(ParseError::too_many_headers, because("more than {} header lines", limits_.max_headers));
        out.headers.push_back({std::string(name), std::string(value)});
    }
    return true;
}

ParseStatus HeadScanner::split(std::string_view received, std::string_view& first_line, std::string_view& lines,
                               std::size_t& consumed, ParseError& error, Why& why) {
    std::size_t head_end = 0;
    ParseStatus status = find_end(received, head_end, error, why);
    if (status != ParseStatus::complete) return status;
    std::string_view head = received.substr(0, head_end - 4);  // without the final "\r\n\r\n"
    auto eol = head.find("\r\n");
    first_line = head.substr(0, eol);
    lines = eol == std::string_view::npos ? std::string_view{} : head.substr(eol + 2);
    consumed = head_end;
    return status;
}

template <class Result, class Message>
Result HeadScanner::parse_head(std::string_view received, Message Result::*message,
                               bool (*first_line)(std::string_view, Message&), ParseError first_line_error) {
    Result r;
    std::string_view first, lines;
    Why why;
    r.status = split(received, first, lines, r.consumed, r.error, why);
    if (r.status == ParseStatus::complete) {
        if (!first_line(first, r.*message)) {
            r.error = first_line_error;
            std::string quoted(first.substr(0, 80));
            why = first_line_error == ParseError::bad_request_line ? because("request line: \"{}\"", quoted)
                                                                   : because("status line: \"{}\"", quoted);
        } else if (parse_header_lines(lines, r.*message, r.error, why)) {
            return r;
        }
        r.status = ParseStatus::error;
        r.consumed = 0;
    }
    r.detail = std::move(why.wire);
    r.shown = std::move(why.shown);
    return r;
}

ParseResult RequestParser::parse(std::string_view received) {
    return parse_head(received, &ParseResult::request, parse_request_line, ParseError::bad_request_line);
}

ResponseParseResult ResponseParser::parse(std::string_view received) {
    return parse_head(received, &ResponseParseResult::response, parse_status_line, ParseError::bad_status_line);
}

std::optional<std::string> percent_decode(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') { out += s[i]; continue; }
        if (i + 2 >= s.size()) return std::nullopt;
        auto hexval = [](char c) -> int {
            if (c >= '0' && c <= '9') return c - '0';
            if (c >= 'a' && c <= 'f') return c - 'a' + 10;
            if (c >= 'A' && c <= 'F') return c - 'A' + 10;
            return -1;
        };
        int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) return std::nullopt;
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
    }
    return out;
}

}  // namespace ws::http
