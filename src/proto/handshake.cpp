#include "proto/handshake.hpp"

#include "i18n/i18n.hpp"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>

#include <fmt/format.h>

namespace ws::handshake {

std::string_view name(Check c) {
    switch (c) {
        case Check::method_and_version: return "bad_method_or_version";
        case Check::host: return "no_host";
        case Check::upgrade: return "no_upgrade_websocket";
        case Check::connection: return "no_connection_upgrade";
        case Check::key: return "bad_sec_key";
        case Check::version: return "bad_sec_version";
    }
    return "unknown";
}

std::string_view describe(Check c) {
    switch (c) {
        case Check::method_and_version: return N_("method GET, version HTTP/1.1");
        case Check::host: return N_("Host present");
        case Check::upgrade: return N_("Upgrade lists \"websocket\"");
        case Check::connection: return N_("Connection lists \"Upgrade\"");
        case Check::key: return N_("Sec-WebSocket-Key is 16 bytes in base64");
        case Check::version: return N_("Sec-WebSocket-Version is 13");
    }
    return "unknown";
}

bool Result::ok() const {
    return !checks.empty() && std::all_of(checks.begin(), checks.end(), [](auto& c) { return c.ok; });
}

const CheckResult* Result::first_failure() const {
    for (const auto& c : checks)
        if (!c.ok) return &c;
    return nullptr;
}

int Result::status() const {
    if (ok()) return 101;
    // RFC 6455 §4.4: a version we do not speak gets 426 and the versions we do.
    bool only_version = std::all_of(checks.begin(), checks.end(),
                                    [](auto& c) { return c.ok || c.check == Check::version; });
    return only_version ? 426 : 400;
}

namespace {
std::string fmt_status(int status, const std::string& reason) {
    return trf("the server answered {}{}: it did not switch protocols", status, reason.empty() ? "" : " " + reason);
}
}  // namespace

bool wants_websocket(const http::Request& req) { return req.find("Upgrade") != nullptr; }

namespace {

// A check's finding: in English for the wire (the refusal's body), in the lesson's language for
// the screen.
template <class... Args>
void set_detail(CheckResult& r, std::string_view format, const Args&... args) {
    r.detail = fmt::format(fmt::runtime(format), args...);
    r.shown = fmt::format(fmt::runtime(tr(format)), args...);
}

CheckResult check_method(const http::Request& req) {
    CheckResult r{Check::method_and_version, false, {}, {}};
    // "HTTP/1.1 or higher": HTTP/1.0 has no Upgrade mechanism.
    bool version_ok = req.version >= "HTTP/1.1";
    r.ok = req.method == "GET" && version_ok;
    if (r.ok) r.detail = req.method + ", " + req.version;
    else set_detail(r, "got {} {}: the handshake must be a GET over HTTP/1.1", req.method, req.version);
    return r;
}

// A header that must appear once: missing and repeated are both refused.
const http::Header* single(const http::Request& req, std::string_view name, CheckResult& r) {
    std::size_t n = req.count(name);
    if (n == 0) set_detail(r, "{} header is missing", name);
    if (n > 1) set_detail(r, "{} header is sent {} times", name, n);
    return n == 1 ? req.find(name) : nullptr;
}

CheckResult check_host(const http::Request& req) {
    CheckResult r{Check::host, false, {}, {}};
    if (auto h = single(req, "Host", r)) {
        r.ok = !h->value.empty();
        if (r.ok) r.detail = h->value;
        else set_detail(r, "Host header is empty");
    }
    return r;
}

CheckResult check_token_list(const http::Request& req, Check check, std::string_view header,
                             std::string_view token) {
    CheckResult r{check, false, {}, {}};
    std::string all;
    for (const auto& h : req.headers) {
        if (!http::iequals(h.name, header)) continue;
        if (http::list_contains(h.value, token)) r.ok = true;
        all += (all.empty() ? "" : ", ") + h.value;
    }
    if (all.empty()) set_detail(r, "{} header is missing", header);
    else if (r.ok) r.detail = all;
    else set_detail(r, "{} is \"{}\", which does not list \"{}\"", header, all, token);
    return r;
}

CheckResult check_key(const http::Request& req) {
    CheckResult r{Check::key, false, {}, {}};
    if (auto h = single(req, "Sec-WebSocket-Key", r)) {
        auto bytes = base64_decode(h->value);
        r.ok = bytes && bytes->size() == 16;
        if (r.ok) r.detail = h->value;
        else if (bytes) set_detail(r, "Sec-WebSocket-Key decodes to {} bytes, not 16", bytes->size());
        else set_detail(r, "Sec-WebSocket-Key \"{}\" is not base64", h->value.substr(0, 40));
    }
    return r;
}

CheckResult check_version(const http::Request& req) {
    CheckResult r{Check::version, false, {}, {}};
    if (auto h = single(req, "Sec-WebSocket-Version", r)) {
        r.ok = h->value == kVersion;
        if (r.ok) r.detail = h->value;
        else set_detail(r, "Sec-WebSocket-Version is {}, this server speaks 13", h->value);
    }
    return r;
}

}  // namespace

Result check_request(const http::Request& req, std::span<const std::string> protocols) {
    Result result;
    result.checks = {check_method(req),
                     check_host(req),
                     check_token_list(req, Check::upgrade, "Upgrade", "websocket"),
                     check_token_list(req, Check::connection, "Connection", "Upgrade"),
                     check_key(req),
                     check_version(req)};
    if (!result.ok()) return result;
    result.accept = accept_key(req.find("Sec-WebSocket-Key")->value);

    // RFC 6455 §4.2.2: pick at most one of the client's offered subprotocols, ours first.
    for (const auto& ours : protocols) {
        for (const auto& h : req.headers)
            if (http::iequals(h.name, "Sec-WebSocket-Protocol") && http::list_contains(h.value, ours)) {
                result.protocol = ours;
                return result;
            }
    }
    return result;
}

std::array<std::uint8_t, 20> sha1(std::string_view data) {
    std::array<std::uint8_t, 20> digest{};
    SHA1(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest.data());
    return digest;
}

std::string base64_encode(std::span<const std::uint8_t> bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3), '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(), static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

std::optional<std::vector<std::uint8_t>> base64_decode(std::string_view text, std::size_t max_chars) {
    // Strict: whole groups of four from the base64 alphabet, '=' only as padding at the end.
    if (text.empty() || text.size() % 4 != 0 || text.size() > max_chars) return std::nullopt;
    std::size_t padding = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
        if (c == '=' && i >= text.size() - 2) {
            ++padding;
        } else if (!alpha || padding > 0) {
            return std::nullopt;
        }
    }
    std::vector<std::uint8_t> out(text.size() / 4 * 3);
    int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
    if (n < 0) return std::nullopt;
    out.resize(static_cast<std::size_t>(n) - padding);  // EVP_DecodeBlock counts padding as zero bytes
    return out;
}


std::string response_101(const Result& result) {
    std::string out =
        "HTTP/1.1 101 Switching Protocols\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        "Sec-WebSocket-Accept: " + result.accept + "\r\n";
    if (result.protocol) out += "Sec-WebSocket-Protocol: " + *result.protocol + "\r\n";
    if (result.extensions) out += "Sec-WebSocket-Extensions: " + *result.extensions + "\r\n";
    out += "\r\n";
    return out;
}

std::string response_refusal(const Result& result) {
    const CheckResult* failed = result.first_failure();
    std::string body = "WebSocket handshake refused (RFC 6455 section 4.2.1)\n";
    for (const auto& c : result.checks)
        if (!c.ok)
            body += "check " + std::to_string(static_cast<int>(c.check)) + " failed (" + std::string(name(c.check)) +
                    "): " + c.detail + "\n";
    if (!failed) body += "no check failed\n";
    int status = result.status();
    std::string out = status == 426 ? "HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\n"
                                    : "HTTP/1.1 400 Bad Request\r\n";
    out += "Content-Type: text/plain; charset=utf-8\r\n"
           "Content-Length: " + std::to_string(body.size()) + "\r\n"
           "Connection: close\r\n\r\n" + body;
    return out;
}

std::string client_key(std::span<const std::uint8_t, 16> nonce) { return base64_encode(nonce); }

namespace {
std::string joined(const std::vector<std::string>& items) {
    std::string s;
    for (const auto& item : items) s += (s.empty() ? "" : ", ") + item;
    return s;
}
}  // namespace

std::string client_request(const ClientOffer& offer) {
    std::string out = "GET " + offer.path + " HTTP/1.1\r\n"
                      "Host: " + offer.host + "\r\n"
                      "Upgrade: websocket\r\n"
                      "Connection: Upgrade\r\n"
                      "Sec-WebSocket-Key: " + offer.key + "\r\n"
                      "Sec-WebSocket-Version: 13\r\n";
    if (!offer.origin.empty()) out += "Origin: " + offer.origin + "\r\n";
    if (!offer.protocols.empty()) out += "Sec-WebSocket-Protocol: " + joined(offer.protocols) + "\r\n";
    std::vector<std::string> extensions = offer.extensions;
    if (offer.deflate) extensions.insert(extensions.begin(), ext::client_offer(*offer.deflate));
    if (!extensions.empty()) out += "Sec-WebSocket-Extensions: " + joined(extensions) + "\r\n";
    for (const auto& h : offer.headers) out += h.name + ": " + h.value + "\r\n";
    out += "\r\n";
    return out;
}

std::string client_request(std::string_view host, std::string_view path, std::string_view key,
                           std::string_view protocol) {
    ClientOffer offer;
    offer.host = host;
    offer.path = path;
    offer.key = key;
    if (!protocol.empty()) offer.protocols.emplace_back(protocol);
    return client_request(offer);
}

std::string_view name(ClientCheck c) {
    switch (c) {
        case ClientCheck::status: return "not_101";
        case ClientCheck::upgrade: return "no_upgrade_websocket";
        case ClientCheck::connection: return "no_connection_upgrade";
        case ClientCheck::accept: return "bad_accept";
        case ClientCheck::extensions: return "unrequested_extension";
        case ClientCheck::protocol: return "unrequested_protocol";
    }
    return "unknown";
}

std::string_view describe(ClientCheck c) {
    switch (c) {
        case ClientCheck::status: return N_("status 101 Switching Protocols");
        case ClientCheck::upgrade: return N_("Upgrade is \"websocket\"");
        case ClientCheck::connection: return N_("Connection lists \"Upgrade\"");
        case ClientCheck::accept: return N_("Sec-WebSocket-Accept matches the key");
        case ClientCheck::extensions: return N_("no extension that was not offered");
        case ClientCheck::protocol: return N_("no subprotocol that was not offered");
    }
    return "unknown";
}

bool ClientResult::ok() const {
    return !checks.empty() && std::all_of(checks.begin(), checks.end(), [](auto& c) { return c.ok; });
}

const ClientCheckResult* ClientResult::first_failure() const {
    for (const auto& c : checks)
        if (!c.ok) return &c;
    return nullptr;
}

namespace {

// Every value of a header that may be sent several times, joined as one list.
std::optional<std::string> all_values(const http::Headers& h, std::string_view name) {
    std::optional<std::string> all;
    for (const auto& header : h.headers)
        if (http::iequals(header.name, name)) all = all ? *all + ", " + header.value : header.value;
    return all;
}

}  // namespace

std::optional<ext::Agreement> negotiate_deflate(const http::Request& req, const ext::DeflateConfig& config,
                                                std::string& why) {
    std::optional<std::string> offered = all_values(req, "Sec-WebSocket-Extensions");
    if (!offered) {
        why = tr("no extension offered");
        return std::nullopt;
    }
    ext::ParseResult parsed = ext::parse(*offered);
    if (!parsed.ok()) {
        why = trf("Sec-WebSocket-Extensions is malformed ({}): no extension", parsed.error);
        return std::nullopt;
    }
    return ext::negotiate(parsed.offers, config, &why);
}

namespace {

// The names in an extension list: "permessage-deflate; x=1, foo" → permessage-deflate, foo.
std::vector<std::string_view> extension_names(std::string_view list) {
    std::vector<std::string_view> names;
    while (!list.empty()) {
        auto comma = list.find(',');
        std::string_view item = list.substr(0, comma);
        names.push_back(http::trim(item.substr(0, item.find(';'))));
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
    return names;
}

}  // namespace

namespace {

// Check 5: every extension in the answer was offered, and a permessage-deflate answer is one
// our offer allows (RFC 7692 §7.1). Empty: all good, and `deflate` holds what was agreed.
std::string check_extensions(std::string_view answer, const ClientOffer& offer,
                             std::optional<ext::DeflateParams>& deflate) {
    ext::ParseResult parsed = ext::parse(answer);
    if (!parsed.ok()) return trf("the header is malformed: {}", parsed.error);
    std::string unasked;
    for (const ext::Offer& accepted : parsed.offers) {
        if (offer.deflate && http::iequals(accepted.name, "permessage-deflate")) {
            if (deflate) return tr("the server accepted permessage-deflate twice");
            std::string error;
            deflate = ext::accept_answer(accepted, *offer.deflate, error);
            if (!deflate) return trf("permessage-deflate: {}", error);
            continue;
        }
        bool offered = false;
        for (const auto& o : offer.extensions)
            for (std::string_view mine : extension_names(o)) offered |= http::iequals(mine, accepted.name);
        if (!offered) unasked += (unasked.empty() ? "" : ", ") + accepted.name;
    }
    if (!unasked.empty()) return trf("the server chose {}, which was not offered", unasked);
    return {};
}

}  // namespace

ClientResult check_response(const http::Response& res, const ClientOffer& offer) {
    ClientResult r;
    r.expected_accept = accept_key(offer.key);
    auto add = [&](ClientCheck check, bool ok, std::string detail) { r.checks.push_back({check, ok, std::move(detail)}); };

    // 1. "If the status code received from the server is not 101, the client handles the
    //    response per HTTP procedures" - for a WebSocket client, that is a refusal.
    add(ClientCheck::status, res.status == 101,
        res.status == 101 ? "101 " + res.reason : fmt_status(res.status, res.reason));

    // 2. Upgrade must be "websocket" (case-insensitive), exactly.
    const http::Header* upgrade = res.find("Upgrade");
    add(ClientCheck::upgrade, upgrade && http::iequals(upgrade->value, "websocket"),
        !upgrade ? tr("Upgrade header is missing") : upgrade->value);

    // 3. Connection must hold the token "Upgrade".
    auto connection = all_values(res, "Connection");
    add(ClientCheck::connection, connection && http::list_contains(*connection, "Upgrade"),
        !connection ? tr("Connection header is missing") : *connection);

    // 4. The accept key: the proof that this server read our key.
    const http::Header* accept = res.find("Sec-WebSocket-Accept");
    bool accept_ok = accept && res.count("Sec-WebSocket-Accept") == 1 && accept->value == r.expected_accept;
    add(ClientCheck::accept, accept_ok,
        !accept ? trf("Sec-WebSocket-Accept is missing (expected {})", r.expected_accept)
        : accept_ok ? accept->value
                    : trf("got {}, expected {}", accept->value, r.expected_accept));

    // 5. "If the response includes a Sec-WebSocket-Extensions header field and this header
    //    field indicates the use of an extension that was not present in the client's
    //    handshake ... the client MUST _Fail_ the WebSocket Connection."
    r.extensions = all_values(res, "Sec-WebSocket-Extensions");
    add(ClientCheck::extensions, true, tr("none"));
    if (r.extensions) {
        std::string problem = check_extensions(*r.extensions, offer, r.deflate);
        r.checks.back() = {ClientCheck::extensions, problem.empty(), problem.empty() ? *r.extensions : problem};
    }

    // 6. The same for a subprotocol: at most one, and one of ours.
    auto protocol = all_values(res, "Sec-WebSocket-Protocol");
    bool protocol_ok = !protocol;
    if (protocol)
        for (const auto& mine : offer.protocols) protocol_ok |= *protocol == mine;
    if (protocol && protocol_ok) r.protocol = *protocol;
    add(ClientCheck::protocol, protocol_ok,
        !protocol ? tr("none") : protocol_ok ? *protocol : trf("the server chose \"{}\", which was not offered", *protocol));
    return r;
}

}  // namespace ws::handshake

namespace ws::handshake {
std::string browser_request(std::string_view host, std::string_view path, std::string_view key) {
    std::string h(host), k(key);
    return "GET " + std::string(path) + " HTTP/1.1\r\n"
           "Host: " + h + "\r\n"
           "Connection: Upgrade\r\n"
           "Pragma: no-cache\r\n"
           "Cache-Control: no-cache\r\n"
           "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/120.0.0.0 Safari/537.36\r\n"
           "Upgrade: websocket\r\n"
           "Origin: http://" + h + "\r\n"
           "Sec-WebSocket-Version: 13\r\n"
           "Accept-Encoding: gzip, deflate, br\r\n"
           "Accept-Language: en-US,en;q=0.9\r\n"
           "Sec-WebSocket-Key: " + k + "\r\n"
           "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
           "\r\n";
}
}  // namespace ws::handshake
