// TLS (lesson 7) with OpenSSL 3: the contexts servers and clients make their connections from,
// a self-signed certificate made in process, and what a finished handshake agreed on. The
// connection itself is a Transport (transport.hpp): TLS sits behind the same read and write.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "net/socket.hpp"

struct ssl_ctx_st;
struct ssl_st;

namespace ws::net {

class Transport;

// A certificate and its private key, in PEM, with what a person checks on it.
struct Certificate {
    std::string cert_pem, key_pem;
    std::string subject;      // "CN=localhost"
    std::string san;          // "DNS:localhost, IP:127.0.0.1"
    std::string fingerprint;  // SHA-256 of the DER, "AB:CD:..."
};

// A fresh EC P-256 key and a certificate signed by itself, valid for a year, for
// localhost and 127.0.0.1: enough for a lesson, trusted by nobody until told to.
Certificate make_self_signed();
// A SHA-256 fingerprint (95 columns) as two lines of 16 bytes, the second indented by `indent`.
std::string fingerprint_lines(std::string_view fingerprint, std::size_t indent);
// Reads a PEM certificate file (for its subject and fingerprint); throws saying why not.
Certificate describe_certificate_file(const std::string& cert_file);

// What the handshake agreed on, and whether (and why not) the peer's certificate verified.
struct TlsSummary {
    std::string version;   // "TLSv1.3"
    std::string cipher;    // "TLS_AES_256_GCM_SHA384"
    std::string alpn;      // "http/1.1", or empty when none was agreed
    std::string server_name;  // SNI the client sent (server side) or asked for (client side)
    std::optional<std::string> peer_subject, peer_san, peer_fingerprint;
    bool verified = false;
    std::string verify_result;  // "ok", or OpenSSL's reason ("self-signed certificate")
};

class TlsContext {
public:
    enum class Role { server, client };
    ~TlsContext();
    TlsContext(const TlsContext&) = delete;
    TlsContext& operator=(const TlsContext&) = delete;

    // A server's: TLS 1.2 and 1.3, ALPN http/1.1, no renegotiation, buffers released while idle.
    static std::shared_ptr<TlsContext> server(const Certificate& certificate);
    static std::shared_ptr<TlsContext> server_from_files(const std::string& cert_file, const std::string& key_file);
    // A client's: verifies the server against `ca_file` (or the system's store when empty),
    // unless `verify` is false (--insecure: the result is still reported, not enforced).
    static std::shared_ptr<TlsContext> client(const std::string& ca_file, bool verify);
    // A client's that trusts exactly this certificate (lesson 7's demo trusts its own server).
    static std::shared_ptr<TlsContext> client_trusting(const Certificate& certificate);

    Role role() const { return role_; }
    bool verifies() const { return verify_; }
    ssl_ctx_st* get() const { return ctx_; }

    // A TLS connection over `fd`, to be handshaken by Transport::handshake(). `host` is the name
    // the client checks the certificate against (and sends as SNI when it is not an address).
    Transport wrap(Fd fd, std::string_view host = {}) const;

private:
    TlsContext(ssl_ctx_st* ctx, Role role, bool verify);
    ssl_ctx_st* ctx_;
    Role role_;
    bool verify_;
};

// Lesson 7: the bytes a TLS connection really sends and receives, ciphertext and all, recorded
// as they pass the socket. attach_tap(t, nullptr) stops recording.
struct WireTap {
    std::string sent, received;
};
void attach_tap(Transport& t, WireTap* tap);

// After a completed handshake.
TlsSummary summarize(const Transport& t);

// The handshake, blocking until `deadline`; throws std::runtime_error with the reason
// ("certificate verify failed: self-signed certificate", "the server did not answer in TLS").
void handshake_blocking(Transport& t, Deadline deadline);

// The newest error OpenSSL queued for this thread, in words (and the queue cleared).
std::string last_tls_error();
// OpenSSL's reason for a failed handshake, said for a person ("the first bytes are not TLS
// (OpenSSL: wrong version number)").
std::string explain_tls_failure(std::string_view reason);

// SSLKEYLOGFILE: when set, every context made here appends its sessions' secrets to that file in
// the NSS key log format, so Wireshark or tshark can decrypt a capture. The file in use, if any.
std::optional<std::string> keylog_file();

}  // namespace ws::net
