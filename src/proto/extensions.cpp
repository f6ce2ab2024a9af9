#include "proto/extensions.hpp"

#include "i18n/i18n.hpp"

#include <fmt/format.h>

#include "proto/http.hpp"

namespace ws::ext {
namespace {

bool is_tchar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// A cursor over the header value, for the grammar in parse()'s comment.
struct Scanner {
    std::string_view text;
    std::size_t at = 0;
    std::string error;

    void skip_space() {
        while (at < text.size() && (text[at] == ' ' || text[at] == '\t')) ++at;
    }
    bool done() const { return at >= text.size(); }
    bool take(char c) {
        skip_space();
        if (at < text.size() && text[at] == c) {
            ++at;
            return true;
        }
        return false;
    }
    std::optional<std::string> token(std::string_view what) {
        skip_space();
        std::size_t start = at;
        while (at < text.size() && is_tchar(text[at])) ++at;
        if (at == start) {
            error = trf("{} is missing at byte {}", tr(what), start);
            return std::nullopt;
        }
        return std::string(text.substr(start, at - start));
    }
    std::optional<std::string> value() {
        skip_space();
        if (at >= text.size() || text[at] != '"') return token(N_("a parameter value"));
        std::string out;
        for (++at; at < text.size(); ++at) {
            if (text[at] == '"') {
                ++at;
                return out;
            }
            if (text[at] == '\\' && at + 1 < text.size()) ++at;
            out += text[at];
        }
        error = tr("a quoted value has no closing quote");
        return std::nullopt;
    }
};

// RFC 7692 §7.1.2: a window size is "8" to "15", written without leading zeros.
std::optional<int> window_bits(const std::optional<std::string>& value) {
    if (!value) return std::nullopt;
    static const char* valid[] = {"8", "9", "10", "11", "12", "13", "14", "15"};
    for (int i = 0; i < 8; ++i)
        if (*value == valid[i]) return 8 + i;
    return std::nullopt;
}

// The parameters of a permessage-deflate offer or answer, checked: each known, each at most
// once, values where they belong. `answer`: client_max_window_bits then needs a value.
struct Parsed {
    std::optional<int> server_bits, client_bits;
    bool client_bits_bare = false;  // offered without a value: "I can take any you choose"
    bool server_no_takeover = false, client_no_takeover = false;
};
std::optional<Parsed> read_params(const Offer& o, bool answer, std::string& why) {
    Parsed p;
    std::vector<std::string> seen;
    for (const Param& param : o.params) {
        for (const auto& s : seen)
            if (http::iequals(s, param.name)) {
                why = trf("{} appears twice", param.name);
                return std::nullopt;
            }
        seen.push_back(param.name);
        if (http::iequals(param.name, "server_no_context_takeover") ||
            http::iequals(param.name, "client_no_context_takeover")) {
            if (param.value) {
                why = trf("{} takes no value", param.name);
                return std::nullopt;
            }
            (http::iequals(param.name, "server_no_context_takeover") ? p.server_no_takeover : p.client_no_takeover) = true;
        } else if (http::iequals(param.name, "server_max_window_bits") ||
                   http::iequals(param.name, "client_max_window_bits")) {
            bool client = http::iequals(param.name, "client_max_window_bits");
            if (!param.value && client && !answer) {
                p.client_bits_bare = true;
                continue;
            }
            auto bits = window_bits(param.value);
            if (!bits) {
                why = trf("{}={} is not a window size from 8 to 15", param.name, param.value.value_or(""));
                return std::nullopt;
            }
            (client ? p.client_bits : p.server_bits) = bits;
        } else {
            why = trf("unknown parameter {}", param.name);
            return std::nullopt;
        }
    }
    return p;
}

}  // namespace

ParseResult parse(std::string_view header) {
    ParseResult r;
    Scanner s{header, 0, {}};
    while (!s.done()) {
        if (s.take(',')) continue;  // empty list elements are allowed (RFC 9110 §5.6.1)
        s.skip_space();
        if (s.done()) break;
        auto name = s.token(N_("an extension name"));
        if (!name) break;
        Offer offer{*name, {}};
        while (s.take(';')) {
            auto param = s.token(N_("a parameter name"));
            if (!param) break;
            Param p{*param, std::nullopt};
            if (s.take('=')) {
                p.value = s.value();
                if (!p.value) break;
            }
            offer.params.push_back(std::move(p));
        }
        if (!s.error.empty()) break;
        r.offers.push_back(std::move(offer));
        s.skip_space();
        if (!s.done() && !s.take(',')) {
            s.error = trf("unexpected '{}' at byte {}", header[s.at], s.at);
            break;
        }
    }
    r.error = s.error;
    if (!r.ok()) r.offers.clear();
    return r;
}

std::optional<Agreement> negotiate(const std::vector<Offer>& offers, const DeflateConfig& config, std::string* why) {
    if (!config.enabled) {
        if (why) *why = tr("compression is off (--no-deflate)");
        return std::nullopt;
    }
    std::string reasons;
    for (const Offer& offer : offers) {
        if (!http::iequals(offer.name, "permessage-deflate")) continue;
        std::string reason;
        auto p = read_params(offer, false, reason);
        if (p) {
            Agreement a;
            a.params.server_no_context_takeover = p->server_no_takeover || config.no_context_takeover;
            a.params.client_no_context_takeover = p->client_no_takeover || config.ask_peer_no_context_takeover;
            a.params.server_max_window_bits = std::min(p->server_bits.value_or(15), config.max_window_bits);
            a.params.client_max_window_bits = p->client_bits.value_or(15);
            // zlib cannot make a raw deflate stream with a 256-byte window (it makes 512): an
            // offer that insists on 8 bits for our side is declined, not honoured wrongly.
            if (a.params.server_max_window_bits < 9) {
                reason = tr("server_max_window_bits=8 cannot be honoured (zlib's smallest raw window is 9 bits)");
            } else {
                a.response = "permessage-deflate";
                if (a.params.server_no_context_takeover) a.response += "; server_no_context_takeover";
                if (a.params.client_no_context_takeover) a.response += "; client_no_context_takeover";
                if (p->server_bits || a.params.server_max_window_bits < 15)
                    a.response += fmt::format("; server_max_window_bits={}", a.params.server_max_window_bits);
                if (p->client_bits) a.response += fmt::format("; client_max_window_bits={}", *p->client_bits);
                return a;
            }
        }
        if (!reasons.empty()) reasons += "; ";
        reasons += reason;
    }
    if (why) *why = reasons.empty() ? tr("no permessage-deflate offer") : trf("declined: {}", reasons);
    return std::nullopt;
}

std::string client_offer(const DeflateConfig& config) {
    std::string offer = "permessage-deflate; client_max_window_bits";
    if (config.max_window_bits < 15) offer += fmt::format("={}", config.max_window_bits);
    if (config.no_context_takeover) offer += "; client_no_context_takeover";
    if (config.ask_peer_no_context_takeover) offer += "; server_no_context_takeover";
    return offer;
}

std::optional<DeflateParams> accept_answer(const Offer& answer, const DeflateConfig& config, std::string& error) {
    if (!http::iequals(answer.name, "permessage-deflate")) {
        error = trf("the server chose {}, which was not offered", answer.name);
        return std::nullopt;
    }
    auto p = read_params(answer, true, error);
    if (!p) return std::nullopt;
    DeflateParams d;
    d.server_no_context_takeover = p->server_no_takeover;
    d.client_no_context_takeover = p->client_no_takeover || config.no_context_takeover;
    d.server_max_window_bits = p->server_bits.value_or(15);
    d.client_max_window_bits = p->client_bits.value_or(config.max_window_bits);
    if (d.client_max_window_bits > config.max_window_bits) {
        // §7.1.2.2: the server may only make our window smaller than we offered.
        error = trf("client_max_window_bits={} is more than the {} offered", d.client_max_window_bits,
                            config.max_window_bits);
        return std::nullopt;
    }
    if (d.client_max_window_bits < 9) {
        error = tr("client_max_window_bits=8 cannot be honoured (zlib's smallest raw window is 9 bits)");
        return std::nullopt;
    }
    return d;
}

}  // namespace ws::ext
