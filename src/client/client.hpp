// A blocking WebSocket client (RFC 6455 §4.1, §5.3): the lessons' demo clients and the chat
// room's bots. It keeps every rule a client must: a fresh random key, every check of the
// server's response before anything is sent, masked frames with a fresh key each, a close
// answered, and the TCP connection left for the server to end first.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "client/blocking_session.hpp"
#include "client/url.hpp"
#include "net/tls.hpp"
#include "proto/handshake.hpp"
#include "proto/http.hpp"
#include "proto/random.hpp"

namespace ws {

struct ClientOptions {
    std::chrono::milliseconds connect_timeout{10'000};
    std::chrono::milliseconds handshake_timeout{10'000};  // for the whole response head
    ReceiverLimits limits;                                // the largest message accepted (1009 above)
    http::Limits response_limits;
    std::vector<std::string> protocols;                   // offered, in preference order
    std::vector<std::string> extensions;                  // offered, as written
    // permessage-deflate (lesson 8): offered when enabled, and used when the server agrees.
    // Off by default: the lessons' demo clients show their frames' bytes as written.
    ext::DeflateConfig deflate{.enabled = false};
    std::string origin;
    std::vector<http::Header> headers;                    // more headers for the request
    // wss:// (lesson 7): the TLS context to connect with; when null, one that verifies the
    // server against the system's certificate store.
    std::shared_ptr<net::TlsContext> tls;
};

// A connected transport: TCP, then for wss:// the TLS handshake, both within connect_timeout.
// Throws std::runtime_error saying which step failed and why.
net::Transport dial(const std::string& host, std::uint16_t port, bool secure, const ClientOptions& options);

// Why the opening handshake failed. `checks` is empty when no response head arrived at all.
class HandshakeError : public std::runtime_error {
public:
    enum class Stage { send, no_response, not_http, checks };
    HandshakeError(Stage stage, const std::string& what) : std::runtime_error(what), stage(stage) {}
    Stage stage;
    std::string request;                     // the bytes sent
    std::string received;                    // every byte the server sent (head, and body if any)
    std::optional<http::Response> response;  // the parsed head, if it was HTTP
    handshake::ClientResult result;          // the client's checks, when a head arrived
};

// What a finished TLS handshake agreed on, and the server's certificate, for a person:
// version, cipher, ALPN, subject, names, fingerprint, and whether it verified (and why not).
std::string describe_tls(const net::TlsSummary& tls, bool enforced);

class Client : public BlockingSession {
public:
    // Connects and performs the opening handshake; throws HandshakeError (or std::runtime_error
    // when the connection cannot be made) saying what failed.
    Client(const std::string& host, std::uint16_t port, std::string_view path, Random& random,
           const ClientOptions& options);
    Client(const std::string& host, std::uint16_t port, std::string_view path, Random& random,
           std::chrono::milliseconds timeout = std::chrono::seconds(5));
    // A ws:// or wss:// URL.
    Client(const Url& url, Random& random, const ClientOptions& options);
    // Over a transport already connected (and TLS-handshaken), e.g. one a lesson watches.
    Client(net::Transport connected, const std::string& host, std::uint16_t port, std::string_view path,
           Random& random, const ClientOptions& options);

    const std::string& request() const { return request_; }    // the bytes sent
    const std::string& response() const { return response_; }  // the response head received
    const handshake::ClientResult& checks() const { return result_; }
    const std::string& key() const { return key_; }

    // One frame as asked (fin=false: a fragment to be continued), masked with a fresh key.
    void send(Opcode opcode, std::string_view payload, bool fin = true);
    // A whole message, compressed if permessage-deflate was agreed, in `fragments` frames.
    void send_message(Opcode type, std::string_view payload, std::size_t fragments = 1);
    void send_text(std::string_view text) { send_message(Opcode::text, text); }
    // Starts the closing handshake without waiting (close() waits).
    void send_close(std::uint16_t code, std::string_view reason);
    // Bytes as given, no rule applied (to test a server's).
    void send_raw(std::string_view bytes);

private:
    std::string request_, response_, key_;
    handshake::ClientResult result_;
};

}  // namespace ws
