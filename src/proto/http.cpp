#include "proto/http.hpp"

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
    // HTTP-version = "HTTP/" DIGIT "." DIGIT
    if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || !std::isdigit((unsigned char)version[5]) ||
        version[6] != '.' || !std::isdigit((unsigned char)version[7]))
        return false;
    req.method = method;
    req.target = target;
    req.version = version;
    return true;
}

}  // namespace

std::string_view describe(ParseError e) {
    switch (e) {
        case ParseError::none: return "no error";
        case ParseError::head_too_large: return "the request head is larger than the limit";
        case ParseError::too_many_headers: return "the request has more headers than the limit";
        case ParseError::bare_lf: return "a line ended with LF alone; HTTP lines end with CR LF";
        case ParseError::bad_request_line:
            return "the request line must be METHOD SP TARGET SP HTTP/x.y";
        case ParseError::bad_header_line: return "a header line must be NAME: VALUE";
        case ParseError::obsolete_line_folding:
            return "a header line starts with white space (obsolete line folding is refused)";
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

bool list_contains(std::string_view list, std::string_view token) {
    while (!list.empty()) {
        auto comma = list.find(',');
        if (iequals(trim(list.substr(0, comma)), token)) return true;
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
    return false;
}

const Header* Request::find(std::string_view name) const {
    for (const auto& h : headers)
        if (iequals(h.name, name)) return &h;
    return nullptr;
}

std::size_t Request::count(std::string_view name) const {
    return static_cast<std::size_t>(
        std::count_if(headers.begin(), headers.end(), [&](const Header& h) { return iequals(h.name, name); }));
}

ParseResult RequestParser::parse(std::string_view received) {
    ParseResult result;
    auto fail = [&](ParseError e, std::string detail) {
        result.status = ParseResult::Status::error;
        result.error = e;
        result.detail = std::move(detail);
        return result;
    };

    // Step 1: find the empty line that ends the head. Every LF must follow a CR.
    std::size_t head_end = std::string_view::npos;
    std::size_t limit = std::min(received.size(), limits_.max_head_bytes);
    std::size_t i = scanned_;
    for (; i < limit; ++i) {
        if (received[i] != '\n') continue;
        if (i == 0 || received[i - 1] != '\r') return fail(ParseError::bare_lf, "at byte " + std::to_string(i));
        if (i >= 3 && received[i - 2] == '\n' && received[i - 3] == '\r') {
            head_end = i + 1;
            break;
        }
    }
    if (head_end == std::string_view::npos) {
        scanned_ = i;
        if (received.size() >= limits_.max_head_bytes)
            return fail(ParseError::head_too_large,
                        "no empty line within the first " + std::to_string(limits_.max_head_bytes) + " bytes");
        return result;  // need_more
    }

    // Step 2: split the head into lines and parse each.
    std::string_view head = received.substr(0, head_end - 4);  // without the final "\r\n\r\n"
    auto next_line = [&head]() {
        auto eol = head.find("\r\n");
        std::string_view line = head.substr(0, eol);
        head = eol == std::string_view::npos ? std::string_view{} : head.substr(eol + 2);
        return line;
    };

    std::string_view request_line = next_line();
    if (!parse_request_line(request_line, result.request))
        return fail(ParseError::bad_request_line, "request line: \"" + std::string(request_line.substr(0, 80)) + "\"");

    std::size_t line_number = 1;
    while (!head.empty()) {
        std::string_view line = next_line();
        ++line_number;
        std::string where = "line " + std::to_string(line_number) + ": \"" + std::string(line.substr(0, 80)) + "\"";
        if (!line.empty() && (line.front() == ' ' || line.front() == '\t'))
            return fail(ParseError::obsolete_line_folding, where);
        auto colon = line.find(':');
        if (colon == std::string_view::npos) return fail(ParseError::bad_header_line, where + " has no colon");
        std::string_view name = line.substr(0, colon);
        if (!is_token(name))  // also refuses "Name :" (RFC 9112 §5.1: no space before the colon)
            return fail(ParseError::bad_header_line, where + ": the name is not a valid token");
        std::string_view value = trim(line.substr(colon + 1));
        if (!std::all_of(value.begin(), value.end(), is_value_char))
            return fail(ParseError::bad_header_line, where + ": the value holds a control character");
        if (result.request.headers.size() == limits_.max_headers)
            return fail(ParseError::too_many_headers,
                        "more than " + std::to_string(limits_.max_headers) + " header lines");
        result.request.headers.push_back({std::string(name), std::string(value)});
    }

    result.status = ParseResult::Status::complete;
    result.consumed = head_end;
    return result;
}

}  // namespace ws::http
