#include "proto/handshake.hpp"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>

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
        case Check::method_and_version: return "method GET, version HTTP/1.1";
        case Check::host: return "Host present";
        case Check::upgrade: return "Upgrade lists \"websocket\"";
        case Check::connection: return "Connection lists \"Upgrade\"";
        case Check::key: return "Sec-WebSocket-Key is 16 bytes in base64";
        case Check::version: return "Sec-WebSocket-Version is 13";
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

bool wants_websocket(const http::Request& req) { return req.find("Upgrade") != nullptr; }

namespace {

CheckResult check_method(const http::Request& req) {
    CheckResult r{Check::method_and_version, false, {}};
    // "HTTP/1.1 or higher": HTTP/1.0 has no Upgrade mechanism.
    bool version_ok = req.version >= "HTTP/1.1";
    r.ok = req.method == "GET" && version_ok;
    r.detail = r.ok ? req.method + ", " + req.version
                    : "got " + req.method + " " + req.version + ": the handshake must be a GET over HTTP/1.1";
    return r;
}

// A header that must appear once: missing and repeated are both refused.
const http::Header* single(const http::Request& req, std::string_view name, CheckResult& r) {
    std::size_t n = req.count(name);
    if (n == 0) r.detail = std::string(name) + " header is missing";
    if (n > 1) r.detail = std::string(name) + " header is sent " + std::to_string(n) + " times";
    return n == 1 ? req.find(name) : nullptr;
}

CheckResult check_host(const http::Request& req) {
    CheckResult r{Check::host, false, {}};
    if (auto h = single(req, "Host", r)) {
        r.ok = !h->value.empty();
        r.detail = r.ok ? h->value : "Host header is empty";
    }
    return r;
}

CheckResult check_token_list(const http::Request& req, Check check, std::string_view header,
                             std::string_view token) {
    CheckResult r{check, false, {}};
    std::string all;
    for (const auto& h : req.headers) {
        if (!http::iequals(h.name, header)) continue;
        if (http::list_contains(h.value, token)) r.ok = true;
        all += (all.empty() ? "" : ", ") + h.value;
    }
    if (all.empty())
        r.detail = std::string(header) + " header is missing";
    else
        r.detail = r.ok ? all : std::string(header) + " is \"" + all + "\", which does not list \"" +
                                    std::string(token) + "\"";
    return r;
}

CheckResult check_key(const http::Request& req) {
    CheckResult r{Check::key, false, {}};
    if (auto h = single(req, "Sec-WebSocket-Key", r)) {
        auto bytes = base64_decode(h->value);
        r.ok = bytes && bytes->size() == 16;
        r.detail = r.ok  ? h->value
                   : bytes ? "Sec-WebSocket-Key decodes to " + std::to_string(bytes->size()) + " bytes, not 16"
                           : "Sec-WebSocket-Key \"" + h->value.substr(0, 40) + "\" is not base64";
    }
    return r;
}

CheckResult check_version(const http::Request& req) {
    CheckResult r{Check::version, false, {}};
    if (auto h = single(req, "Sec-WebSocket-Version", r)) {
        r.ok = h->value == kVersion;
        r.detail = r.ok ? h->value : "Sec-WebSocket-Version is " + h->value + ", this server speaks 13";
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

std::optional<std::vector<std::uint8_t>> base64_decode(std::string_view text) {
    // Strict: whole groups of four from the base64 alphabet, '=' only as padding at the end.
    if (text.empty() || text.size() % 4 != 0 || text.size() > 4096) return std::nullopt;
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

std::string accept_key(std::string_view client_key) {
    std::string joined(http::trim(client_key));
    joined += kGuid;
    auto digest = sha1(joined);
    return base64_encode(digest);
}

std::string response_101(const Result& result) {
    std::string out =
        "HTTP/1.1 101 Switching Protocols\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        "Sec-WebSocket-Accept: " + result.accept + "\r\n";
    if (result.protocol) out += "Sec-WebSocket-Protocol: " + *result.protocol + "\r\n";
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

std::string client_request(std::string_view host, std::string_view path, std::string_view key,
                           std::string_view protocol) {
    std::string out = "GET " + std::string(path) + " HTTP/1.1\r\n"
                      "Host: " + std::string(host) + "\r\n"
                      "Upgrade: websocket\r\n"
                      "Connection: Upgrade\r\n"
                      "Sec-WebSocket-Key: " + std::string(key) + "\r\n"
                      "Sec-WebSocket-Version: 13\r\n";
    if (!protocol.empty()) out += "Sec-WebSocket-Protocol: " + std::string(protocol) + "\r\n";
    out += "\r\n";
    return out;
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
