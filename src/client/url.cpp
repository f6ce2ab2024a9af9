#include "client/url.hpp"

#include "i18n/i18n.hpp"

#include <charconv>
#include <stdexcept>

#include <fmt/format.h>

namespace ws {
namespace {

[[noreturn]] void bad(std::string_view text, std::string_view why) {
    std::string shown;  // control characters are not sent to the terminal as they are
    for (char c : text) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) shown += "\\x" + fmt::format("{:02x}", static_cast<unsigned char>(c));
        else shown += c;
    }
    throw std::runtime_error(trf("\"{}\" is not a WebSocket URL: {} (expected ws://HOST[:PORT]/PATH, e.g. ws://127.0.0.1:8080/ws)",
                                 shown, tr(why)));
}

}  // namespace

std::string Url::host_header() const {
    std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    return h + ":" + std::to_string(port);
}

std::string Url::str() const { return scheme + "://" + host_header() + path; }

Url parse_url(std::string_view text) {
    Url url;
    // Every byte of the URL ends up in the request line or the Host header: a space or a CR LF
    // there would change the request itself.
    for (char c : text)
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
            bad(text, N_("it has a space or a control character (write them percent-encoded, e.g. %20)"));
    auto scheme_end = text.find("://");
    if (scheme_end == std::string_view::npos) bad(text, N_("no scheme"));
    url.scheme = text.substr(0, scheme_end);
    for (char& c : url.scheme) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    if (url.scheme == "http" || url.scheme == "https") bad(text, N_("that is a page's URL; a WebSocket's starts with ws://"));
    if (url.scheme != "ws" && url.scheme != "wss") bad(text, N_("the scheme must be ws or wss"));
    url.port = url.secure() ? 443 : 80;
    std::string_view rest = text.substr(scheme_end + 3);
    if (rest.find('#') != std::string_view::npos) bad(text, N_("a fragment (#...) is not allowed (RFC 6455 §3)"));
    std::size_t path_at = rest.find('/');
    std::size_t query_at = rest.find('?');
    std::size_t authority_end = std::min(path_at, query_at);
    std::string_view authority = rest.substr(0, authority_end);
    std::string_view path = authority_end == std::string_view::npos ? std::string_view{} : rest.substr(authority_end);
    url.path = std::string(path);
    if (url.path.empty() || url.path.front() == '?') url.path.insert(url.path.begin(), '/');

    std::string_view port_text;
    if (!authority.empty() && authority.front() == '[') {
        auto close = authority.find(']');
        if (close == std::string_view::npos) bad(text, N_("an IPv6 address needs its closing ]"));
        url.host = authority.substr(1, close - 1);
        std::string_view after = authority.substr(close + 1);
        if (!after.empty() && after.front() != ':') bad(text, N_("only :PORT may follow the address"));
        if (!after.empty()) port_text = after.substr(1);
    } else {
        auto colon = authority.rfind(':');
        url.host = authority.substr(0, colon);
        if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
    }
    if (url.host.empty()) bad(text, N_("no host"));
    if (authority.find('@') != std::string_view::npos) bad(text, N_("user names in the URL are not supported"));
    if (!port_text.empty() || authority.find(':') != std::string_view::npos) {
        unsigned port = 0;
        auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
        if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 || port > 65535)
            bad(text, N_("the port must be a number from 1 to 65535"));
        url.port = static_cast<std::uint16_t>(port);
    }
    return url;
}

}  // namespace ws
