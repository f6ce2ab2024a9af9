#include "net/tls.hpp"

#include "i18n/i18n.hpp"

#include <arpa/inet.h>
#include <poll.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <stdexcept>

#include <fmt/format.h>

#include "net/transport.hpp"

namespace ws::net {
namespace {

// OpenSSL's objects, freed by unique_ptr.
template <class T, void (*Free)(T*)>
struct Deleter {
    void operator()(T* p) const { Free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using Bio = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;

[[noreturn]] void fail(std::string_view what) {
    throw std::runtime_error(trf("{}: {}", what, last_tls_error()));
}

std::string bio_text(BIO* bio) {
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    return std::string(data, static_cast<std::size_t>(n));
}

std::string subject_of(X509* cert) {
    Bio bio(BIO_new(BIO_s_mem()));
    // One line, "CN=localhost, O=...", UTF-8 left as it is.
    X509_NAME_print_ex(bio.get(), X509_get_subject_name(cert), 0,
                       XN_FLAG_ONELINE & ~XN_FLAG_SPC_EQ & ~ASN1_STRFLGS_ESC_MSB);
    return bio_text(bio.get());
}

std::string san_of(X509* cert) {
    auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
    if (!names) return "";
    std::string out;
    for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
        const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
        std::string item;
        if (name->type == GEN_DNS) {
            const ASN1_STRING* s = name->d.dNSName;
            item = "DNS:" + std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                        static_cast<std::size_t>(ASN1_STRING_length(s)));
        } else if (name->type == GEN_IPADD) {
            const ASN1_STRING* s = name->d.iPAddress;
            char text[INET6_ADDRSTRLEN] = "?";
            int family = ASN1_STRING_length(s) == 4 ? AF_INET : AF_INET6;
            inet_ntop(family, ASN1_STRING_get0_data(s), text, sizeof text);
            item = std::string("IP:") + text;
        } else {
            continue;
        }
        if (!out.empty()) out += ", ";
        out += item;
    }
    GENERAL_NAMES_free(names);
    return out;
}

std::string fingerprint_of(X509* cert) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    X509_digest(cert, EVP_sha256(), digest, &n);
    std::string out;
    for (unsigned int i = 0; i < n; ++i) out += fmt::format("{}{:02X}", i ? ":" : "", digest[i]);
    return out;
}

Certificate describe(X509* cert) {
    Certificate c;
    c.subject = subject_of(cert);
    c.san = san_of(cert);
    c.fingerprint = fingerprint_of(cert);
    return c;
}

// SSLKEYLOGFILE: one file for the process, appended to under a lock.
struct KeyLog {
    std::mutex mutex;
    std::FILE* file = nullptr;
    std::string path;
    KeyLog() {
        const char* env = std::getenv("SSLKEYLOGFILE");
        if (!env || !*env) return;
        path = env;
        file = std::fopen(env, "a");
        if (!file) std::fputs(trf("warning: SSLKEYLOGFILE={} cannot be opened; no key log\n", env).c_str(), stderr);
    }
};
KeyLog& keylog() {
    static KeyLog log;
    return log;
}
void write_keylog(const SSL*, const char* line) {
    KeyLog& log = keylog();
    std::lock_guard lock(log.mutex);
    if (!log.file) return;
    std::fprintf(log.file, "%s\n", line);
    std::fflush(log.file);
}

// The server picks http/1.1 when the client offers it (RFC 7301), and nothing otherwise.
int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in, unsigned int inlen,
                void*) {
    static const unsigned char ours[] = "\x08http/1.1";
    unsigned char* chosen = nullptr;
    if (SSL_select_next_proto(&chosen, outlen, ours, sizeof ours - 1, in, inlen) != OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK;
    *out = chosen;
    return SSL_TLSEXT_ERR_OK;
}

SSL_CTX* new_context(bool server) {
    // OpenSSL writes to sockets with write(2): a peer gone would raise SIGPIPE and end the
    // process. Plain TCP uses MSG_NOSIGNAL; for TLS the signal is ignored process-wide.
    std::signal(SIGPIPE, SIG_IGN);
    SSL_CTX* ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    if (!ctx) fail(tr("cannot make a TLS context"));
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    // No renegotiation (TLS 1.2); a peer gone without close_notify is an end like any other,
    // judged by the WebSocket close that came before it or not (RFC 6455 §7.1.5: 1006).
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF);
    // Partial writes, retried from a buffer that may have moved (it grows as frames queue);
    // idle connections give their read and write buffers back.
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                              SSL_MODE_RELEASE_BUFFERS);
    if (keylog().file) SSL_CTX_set_keylog_callback(ctx, write_keylog);
    // No session resumption: every connection is a whole handshake to show, and no server
    // memory goes to a session cache or to tickets nobody uses.
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    if (server) SSL_CTX_set_num_tickets(ctx, 0);
    return ctx;
}

}  // namespace

std::string last_tls_error() {
    unsigned long e = ERR_get_error();
    unsigned long newest = e;
    while ((e = ERR_get_error()) != 0) newest = e;
    if (newest == 0) return tr("no reason given");
    const char* reason = ERR_reason_error_string(newest);
    return reason ? reason : fmt::format("OpenSSL error {:x}", newest);
}

// OpenSSL's reasons when the other side did not speak TLS at all.
bool not_tls(std::string_view reason) {
    for (std::string_view r : {"wrong version number", "packet length too long", "unknown protocol", "record layer failure"})
        if (reason.find(r) != std::string_view::npos) return true;
    return false;
}

std::string explain_tls_failure(std::string_view reason) {
    auto has = [&](std::string_view what) { return reason.find(what) != std::string_view::npos; };
    if (not_tls(reason)) return trf("the bytes are not TLS (OpenSSL: {})", reason);
    if (has("unsupported protocol") || has("no shared cipher") || has("no protocols available"))
        return trf("no TLS version or cipher in common (OpenSSL: {})", reason);
    if (has("alert"))
        return trf("the peer refused the handshake (OpenSSL: {})", reason);
    return tr(reason);  // this project's own reasons are in the catalogue; OpenSSL's stay as it says them
}

std::optional<std::string> keylog_file() {
    KeyLog& log = keylog();
    if (!log.file) return std::nullopt;
    return log.path;
}

std::string fingerprint_lines(std::string_view fingerprint, std::size_t indent) {
    if (fingerprint.size() <= 48) return std::string(fingerprint);
    return fmt::format("{}\n{}{}", fingerprint.substr(0, 47), std::string(indent, ' '), fingerprint.substr(48));
}

Certificate make_self_signed() {
    Pkey key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
    if (!key) fail(tr("cannot make a key"));
    X509Ptr cert(X509_new());
    X509_set_version(cert.get(), 2);  // v3, for the SAN extension
    unsigned char serial[16];
    RAND_bytes(serial, sizeof serial);
    serial[0] &= 0x7F;  // a positive serial number
    BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
    BN_free(bn);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 365L * 24 * 3600);
    X509_set_pubkey(cert.get(), key.get());
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
    X509_set_issuer_name(cert.get(), name);
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, cert.get(), cert.get(), nullptr, nullptr, 0);
    for (auto [nid, value] : {std::pair{NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1"},
                              std::pair{NID_basic_constraints, "critical,CA:FALSE"},
                              std::pair{NID_ext_key_usage, "serverAuth"}}) {
        X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value);
        if (!ext) fail(tr("cannot make the certificate's extensions"));
        X509_add_ext(cert.get(), ext, -1);
        X509_EXTENSION_free(ext);
    }
    if (!X509_sign(cert.get(), key.get(), EVP_sha256())) fail(tr("cannot sign the certificate"));

    Certificate c = describe(cert.get());
    Bio cert_pem(BIO_new(BIO_s_mem())), key_pem(BIO_new(BIO_s_mem()));
    PEM_write_bio_X509(cert_pem.get(), cert.get());
    PEM_write_bio_PrivateKey(key_pem.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
    c.cert_pem = bio_text(cert_pem.get());
    c.key_pem = bio_text(key_pem.get());
    return c;
}

Certificate describe_certificate_file(const std::string& cert_file) {
    Bio bio(BIO_new_file(cert_file.c_str(), "r"));
    if (!bio) fail(trf("cannot read the certificate {}", cert_file));
    X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) fail(trf("{} holds no PEM certificate", cert_file));
    return describe(cert.get());
}

TlsContext::TlsContext(ssl_ctx_st* ctx, Role role, bool verify) : ctx_(ctx), role_(role), verify_(verify) {}
TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

std::shared_ptr<TlsContext> TlsContext::server(const Certificate& certificate) {
    SSL_CTX* ctx = new_context(true);
    std::shared_ptr<TlsContext> out(new TlsContext(ctx, Role::server, false));
    Bio cert_bio(BIO_new_mem_buf(certificate.cert_pem.data(), static_cast<int>(certificate.cert_pem.size())));
    Bio key_bio(BIO_new_mem_buf(certificate.key_pem.data(), static_cast<int>(certificate.key_pem.size())));
    X509Ptr cert(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
    Pkey key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
    if (!cert || !key || SSL_CTX_use_certificate(ctx, cert.get()) != 1 || SSL_CTX_use_PrivateKey(ctx, key.get()) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1)
        fail(tr("cannot use the certificate"));
    SSL_CTX_set_alpn_select_cb(ctx, select_alpn, nullptr);
    return out;
}

std::shared_ptr<TlsContext> TlsContext::server_from_files(const std::string& cert_file, const std::string& key_file) {
    SSL_CTX* ctx = new_context(true);
    std::shared_ptr<TlsContext> out(new TlsContext(ctx, Role::server, false));
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) != 1)
        fail(trf("cannot use the certificate {}", cert_file));
    if (SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM) != 1)
        fail(trf("cannot use the key {}", key_file));
    if (SSL_CTX_check_private_key(ctx) != 1) fail(trf("{} is not the key of {}", key_file, cert_file));
    SSL_CTX_set_alpn_select_cb(ctx, select_alpn, nullptr);
    return out;
}

std::shared_ptr<TlsContext> TlsContext::client(const std::string& ca_file, bool verify) {
    SSL_CTX* ctx = new_context(false);
    std::shared_ptr<TlsContext> out(new TlsContext(ctx, Role::client, verify));
    if (!ca_file.empty()) {
        if (SSL_CTX_load_verify_locations(ctx, ca_file.c_str(), nullptr) != 1)
            fail(trf("cannot read the CA file {}", ca_file));
    } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
        fail(tr("cannot read the system's certificate store"));
    }
    // Verification runs either way, so its result can be reported; only `verify` enforces it.
    SSL_CTX_set_verify(ctx, verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
    static const unsigned char alpn[] = "\x08http/1.1";
    SSL_CTX_set_alpn_protos(ctx, alpn, sizeof alpn - 1);
    return out;
}

std::shared_ptr<TlsContext> TlsContext::client_trusting(const Certificate& certificate) {
    std::shared_ptr<TlsContext> out = client("", true);
    Bio bio(BIO_new_mem_buf(certificate.cert_pem.data(), static_cast<int>(certificate.cert_pem.size())));
    X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert || X509_STORE_add_cert(SSL_CTX_get_cert_store(out->ctx_), cert.get()) != 1) fail(tr("cannot trust the certificate"));
    return out;
}

namespace {
long tap_callback(BIO* bio, int oper, const char* data, std::size_t, int, long, int ret, std::size_t* processed) {
    auto* tap = reinterpret_cast<WireTap*>(BIO_get_callback_arg(bio));
    if (tap && ret > 0 && processed && data) {
        if (oper == (BIO_CB_WRITE | BIO_CB_RETURN)) tap->sent.append(data, *processed);
        if (oper == (BIO_CB_READ | BIO_CB_RETURN)) tap->received.append(data, *processed);
    }
    return ret;
}
}  // namespace

void attach_tap(Transport& t, WireTap* tap) {
    if (!t.ssl()) return;
    BIO* bio = SSL_get_rbio(t.ssl());  // the socket BIO: reads and writes both pass it
    BIO_set_callback_ex(bio, tap ? tap_callback : nullptr);
    BIO_set_callback_arg(bio, reinterpret_cast<char*>(tap));
}

Transport TlsContext::wrap(Fd fd, std::string_view host) const {
    SSL* ssl = SSL_new(ctx_);
    if (!ssl) fail(tr("cannot start TLS"));
    Transport t(std::move(fd), ssl);
    SSL_set_fd(ssl, t.fd());
    if (role_ == Role::server) {
        SSL_set_accept_state(ssl);
        return t;
    }
    SSL_set_connect_state(ssl);
    std::string name(host);
    unsigned char address[16];
    bool is_address = inet_pton(AF_INET, name.c_str(), address) == 1 || inet_pton(AF_INET6, name.c_str(), address) == 1;
    if (!is_address && !name.empty()) SSL_set_tlsext_host_name(ssl, name.c_str());  // SNI: names only (RFC 6066)
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    if (is_address) X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str());
    else if (!name.empty()) X509_VERIFY_PARAM_set1_host(param, name.c_str(), 0);
    return t;
}

TlsSummary summarize(const Transport& t) {
    TlsSummary s;
    SSL* ssl = t.ssl();
    if (!ssl) return s;
    s.version = SSL_get_version(ssl);
    s.cipher = SSL_get_cipher_name(ssl);
    const unsigned char* alpn = nullptr;
    unsigned int alpn_len = 0;
    SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
    s.alpn.assign(reinterpret_cast<const char*>(alpn), alpn_len);
    if (const char* sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name)) s.server_name = sni;
    if (X509* peer = SSL_get0_peer_certificate(ssl)) {
        Certificate c = describe(peer);
        s.peer_subject = c.subject;
        s.peer_san = c.san;
        s.peer_fingerprint = c.fingerprint;
    }
    long result = SSL_get_verify_result(ssl);
    s.verified = result == X509_V_OK && SSL_get0_peer_certificate(ssl) != nullptr;
    s.verify_result = result == X509_V_OK ? (s.peer_subject ? std::string("ok") : tr("the server sent no certificate"))
                                         : X509_verify_cert_error_string(result);
    return s;
}

void handshake_blocking(Transport& t, Deadline deadline) {
    for (;;) {
        IoResult r = t.handshake();
        if (r.status == Io::done) return;
        if (r.status == Io::error) {
            std::string why = t.error_text();
            if (long v = SSL_get_verify_result(t.ssl()); v != X509_V_OK)
                why = trf("the server's certificate did not verify: {} (to trust it: --ca FILE, e.g. the file "
                          "a lesson's --save-cert wrote)", X509_verify_cert_error_string(v));
            else if (bool plain = not_tls(why); (why = explain_tls_failure(why)), plain && !SSL_is_server(t.ssl()))
                why += tr("; is the server speaking TLS at all? try ws://");
            throw std::runtime_error(trf("TLS handshake failed: {}", why));
        }
        if (!wait_for(t.fd(), r.status == Io::want_write ? POLLOUT : POLLIN, deadline))
            throw std::runtime_error(tr("TLS handshake failed: no answer in time"));
    }
}

}  // namespace ws::net
