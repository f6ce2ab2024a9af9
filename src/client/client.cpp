#include "client/client.hpp"

#include "i18n/i18n.hpp"

#include <charconv>

#include <fmt/format.h>

#include "print/print.hpp"

namespace ws {
namespace {

constexpr std::size_t kMaxRefusalBody = 64 * 1024;

std::string seconds(std::chrono::milliseconds ms) { return fmt::format("{:g} s", static_cast<double>(ms.count()) / 1000); }

// After a refusal, the body usually says why (a 426 names the versions, a 400 the check):
// read it, within limits, for the error.
void read_body(net::Transport& t, const http::Response& res, std::string& received, std::size_t head_size) {
    std::size_t want = kMaxRefusalBody;
    if (const http::Header* length = res.find("Content-Length")) {
        std::size_t n = 0;
        auto [p, ec] = std::from_chars(length->value.data(), length->value.data() + length->value.size(), n);
        if (ec == std::errc()) want = std::min(n, kMaxRefusalBody);
    }
    auto deadline = net::after(std::chrono::seconds(1));
    char chunk[4096];
    while (received.size() - head_size < want) {
        std::size_t n = 0;
        if (net::read_some(t, chunk, sizeof chunk, n, deadline) != net::IoStatus::ok) break;
        received.append(chunk, n);
    }
}

}  // namespace

Client::Client(const std::string& host, std::uint16_t port, std::string_view path, Random& random,
               std::chrono::milliseconds timeout)
    : Client(host, port, path, random,
             ClientOptions{.connect_timeout = timeout, .handshake_timeout = timeout, .limits = {}, .response_limits = {},
                           .protocols = {}, .extensions = {}, .origin = {}, .headers = {}, .tls = {}}) {}

net::Transport dial(const std::string& host, std::uint16_t port, bool secure, const ClientOptions& o) {
    auto deadline = net::after(o.connect_timeout);
    net::Fd fd = net::connect_to(host, port, o.connect_timeout);
    if (!secure) return net::Transport(std::move(fd));
    std::shared_ptr<net::TlsContext> tls = o.tls ? o.tls : net::TlsContext::client("", true);
    net::Transport t = tls->wrap(std::move(fd), host);
    net::handshake_blocking(t, deadline);
    return t;
}

std::string describe_tls(const net::TlsSummary& tls, bool enforced) {
    std::string out = fmt::format("TLS {} · {} · ALPN {}\n", tls.version, tls.cipher, tls.alpn.empty() ? tr("none") : tls.alpn);
    if (tls.peer_subject) {
        out += trf("  the server's certificate: {} · {}\n  SHA-256 {}\n", *tls.peer_subject,
                           tls.peer_san->empty() ? tr("no SAN") : *tls.peer_san, net::fingerprint_lines(*tls.peer_fingerprint, 10));
    }
    if (tls.verified) out += trf("  {} the certificate verified for this host\n", print::check_mark(true));
    else
        out += trf("  {} the certificate did not verify: {}{}\n", print::check_mark(false), tls.verify_result,
                           enforced ? "" : tr(" (--insecure: connected anyway)"));
    return out;
}

Client::Client(const Url& url, Random& random, const ClientOptions& options)
    : Client(dial(url.host, url.port, url.secure(), options), url.host, url.port, url.path, random, options) {}

Client::Client(const std::string& host, std::uint16_t port, std::string_view path, Random& random,
               const ClientOptions& o)
    : Client(dial(host, port, false, o), host, port, path, random, o) {}

Client::Client(net::Transport connected, const std::string& host, std::uint16_t port, std::string_view path,
               Random& random, const ClientOptions& o)
    : BlockingSession(std::move(connected), Role::client, o.limits, &random) {
    handshake::ClientOffer offer{.host = Url{"ws", host, port, "/"}.host_header(),
                                 .path = std::string(path),
                                 .key = handshake::client_key(random.nonce()),
                                 .protocols = o.protocols,
                                 .extensions = o.extensions,
                                 .deflate = o.deflate.enabled ? std::optional(o.deflate) : std::nullopt,
                                 .origin = o.origin,
                                 .headers = o.headers};
    request_ = handshake::client_request(offer);
    key_ = offer.key;
    auto deadline = net::after(o.handshake_timeout);
    auto fail = [&](HandshakeError::Stage stage, const std::string& what, const std::string& received) {
        HandshakeError e(stage, what);
        e.request = request_;
        e.received = received;
        return e;
    };
    if (net::write_all(transport(), request_, deadline) != net::IoStatus::ok)
        throw fail(HandshakeError::Stage::send, tr("could not send the handshake request"), "");

    // Read up to the empty line that ends the response head; anything after it is frames.
    http::ResponseParser parser(o.response_limits);
    std::string received;
    http::ResponseParseResult r;
    char chunk[4096];
    while ((r = parser.parse(received)).status == http::ParseStatus::need_more) {
        std::size_t n = 0;
        auto status = net::read_some(transport(), chunk, sizeof chunk, n, deadline);
        if (status == net::IoStatus::ok) {
            received.append(chunk, n);
            continue;
        }
        throw fail(HandshakeError::Stage::no_response,
                   status == net::IoStatus::timeout ? trf("no complete response head within {}", seconds(o.handshake_timeout))
                                                    : tr("the server closed the connection before it answered the handshake"),
                   received);
    }
    if (r.status == http::ParseStatus::error) {
        throw fail(HandshakeError::Stage::not_http,
                   trf("the answer is not an HTTP response head: {} ({})", tr(http::describe(r.error)), r.shown),
                   received);
    }
    response_ = received.substr(0, r.consumed);
    // RFC 6455 §4.1: the client checks the response before it uses the connection.
    result_ = handshake::check_response(r.response, offer);
    if (!result_.ok()) {
        const auto* failed = result_.first_failure();
        if (r.response.status != 101) read_body(transport(), r.response, received, r.consumed);
        HandshakeError e = fail(HandshakeError::Stage::checks,
                                trf("handshake failed: check {} ({}): {}", static_cast<int>(failed->check),
                                    handshake::name(failed->check), failed->detail),
                                received);
        e.response = r.response;
        e.result = result_;
        throw e;
    }
    if (result_.deflate)
        session().use_deflate(std::make_unique<MessageDeflate>(Role::client, *result_.deflate, o.deflate));
    // The first frames may have come with the head: they are the session's first input.
    add_input(std::string_view(received).substr(r.consumed));
}

void Client::send(Opcode opcode, std::string_view payload, bool fin) {
    if (!session().send_frame(opcode, payload, fin)) throw std::runtime_error(tr("the connection is closing; nothing more can be sent"));
    if (!flush()) throw std::runtime_error(tr("the connection closed while sending"));
}

void Client::send_message(Opcode type, std::string_view payload, std::size_t fragments) {
    if (!session().send_in(type, payload, fragments)) throw std::runtime_error(tr("the connection is closing; nothing more can be sent"));
    if (!flush()) throw std::runtime_error(tr("the connection closed while sending"));
}

void Client::send_close(std::uint16_t code, std::string_view reason) {
    session().close(code, reason);
    flush();
}

void Client::send_raw(std::string_view bytes) {
    if (!session().send_raw(bytes)) throw std::runtime_error(tr("the connection is closing; nothing more can be sent"));
    if (!flush()) throw std::runtime_error(tr("the connection closed while sending"));
}

}  // namespace ws
