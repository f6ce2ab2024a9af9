// Lesson 7: wss://. TLS first, then the very same WebSocket handshake and frames inside it.
// The story shows what crosses the wire (TLS records: the hello messages in the clear, then
// only ciphertext) next to what the two ends see once it is decrypted (lesson 2's request,
// lesson 4's frames). --demo runs it against a TLS echo server started here; with a wss:// URL
// it inspects any server.
#include <chrono>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "apps/echo.hpp"
#include "client/client.hpp"
#include "client/interactive.hpp"
#include "client/url.hpp"
#include "net/tls.hpp"
#include "net/tls_record.hpp"
#include "print/handshake_print.hpp"
#include "i18n/i18n.hpp"
#include "print/print.hpp"
#include "proto/random.hpp"
#include "server/lesson_cli.hpp"
#include "server/ws_server.hpp"

using namespace ws;

namespace {

// The TLS records in `bytes` (RFC 8446 §5.1): a 5-byte header (type, version, length) each.
std::string records(std::string_view bytes) {
    std::string out;
    std::size_t at = 0, shown = 0;
    while (shown < 8 && at < bytes.size()) {
        auto header = net::read_tls_record_header(bytes.substr(at));
        if (!header) break;
        std::uint8_t type = header->type;
        std::size_t length = header->length;
        if (type < 20 || type > 23) {  // a peer that is not TLS: say what its bytes are instead
            out += trf("  {}  not a TLS record: {}\n", print::hex(bytes.substr(at, 5)), print::printable(bytes.substr(at), 40));
            return out;
        }
        std::string what = type == 20   ? tr("change_cipher_spec (a no-op kept for old middleboxes)") : type == 21 ? "alert"
                                : type == 23 ? tr("application_data: encrypted, its content unknowable") : tr("handshake, in the clear");
        if (type == 22 && at + 5 < bytes.size()) {  // its first byte names the handshake message
            auto message = static_cast<std::uint8_t>(bytes[at + 5]);
            what = trf("handshake, in the clear: {}", message == 1   ? std::string("ClientHello")
                                                      : message == 2 ? std::string("ServerHello")
                                                                     : trf("message {}", message));
        }
        out += fmt::format("  {}  {:5} B  {}\n", print::hex(bytes.substr(at, 5)), length, what);
        if (length > bytes.size() - at - 5) {  // a peer that is not TLS: its "length" is any two bytes
            out += trf("  (only {} of its {} bytes came)\n", bytes.size() - at - 5, length);
            return out;
        }
        at += 5 + length;
        ++shown;
    }
    if (at < bytes.size() && shown == 8) out += "  …\n";
    return out;
}

std::string wire(std::string_view bytes, std::size_t max = 24) {
    return trf("  {}{}  ({} bytes)\n", print::hex(bytes.substr(0, max)), bytes.size() > max ? " …" : "",
                       bytes.size());
}

bool has_text(std::string_view bytes, std::string_view text) { return bytes.find(text) != std::string_view::npos; }

// The whole story against `url`, with `tls` as the client's context.
int story(const Url& url, const std::shared_ptr<net::TlsContext>& tls, bool enforced, Random& random, bool crlf) {
    print::part(trf("TCP: connect to {}:{}", url.host, url.port));
    ClientOptions options;
    options.tls = tls;
    net::Transport t = tls->wrap(net::connect_to(url.host, url.port, options.connect_timeout), url.host);
    print::out(tr("  connected: a plain TCP connection, as in lesson 1. Nothing is encrypted yet.\n"));

    print::part(tr("TLS: the handshake, before one byte of HTTP (RFC 8446)"));
    net::WireTap tap;
    net::attach_tap(t, &tap);
    try {
        net::handshake_blocking(t, net::after(options.connect_timeout));
    } catch (const std::exception& e) {
        print::out(trf("  we sent:\n{}  the server sent:\n{}", records(tap.sent), records(tap.received)));
        throw;
    }
    print::out(trf("  we sent {} bytes in all, as these records:\n{}", tap.sent.size(), records(tap.sent)));
    print::out(trf("  its first bytes: {}", wire(tap.sent, 16)));
    print::out(tr("  16 = a handshake record · 03 01 = the record's version (TLS 1.0, for old middleboxes)\n"
               "  · then its length · 01 = ClientHello: our versions, ciphers, key share, ALPN \"http/1.1\"\n"));
    print::out(trf("  the server sent {} bytes (ServerHello, then its certificate and Finished, encrypted):\n{}",
                           tap.received.size(), records(tap.received)));
    print::out(tr("  After the ServerHello everything is encrypted, the certificate too: only the record\n"
               "  headers (type, version, length) stay readable.\n"));
    net::TlsSummary summary = net::summarize(t);
    print::out(describe_tls(summary, enforced));

    print::part(tr("the upgrade request, as it crossed the wire"));
    tap.sent.clear();
    tap.received.clear();
    std::optional<Client> client;
    try {
        client.emplace(std::move(t), url.host, url.port, url.path, random, options);
    } catch (const HandshakeError& e) {
        print::out(print::head_text(e.received, crlf));
        throw;
    }
    print::out(wire(tap.sent));
    print::out(records(tap.sent));
    if (has_text(tap.sent, "GET") || has_text(tap.sent, "Upgrade"))
        print::out(trf("  ✗ \"GET\" or \"Upgrade\" can be read in these {} bytes: they are not encrypted.\n", tap.sent.size()));
    else
        print::out(trf("  ✓ no \"GET\" or \"Upgrade\" in these bytes: an observer sees a record of {} bytes, no more.\n",
                       tap.sent.size()));

    print::part(tr("inside, decrypted: lesson 2's handshake, unchanged"));
    print::out(print::head_text(client->request(), crlf));
    print::out(print::head_text(client->response(), crlf));
    print::out(print::client_checks(client->checks()));

    print::part(tr("a frame inside a record"));
    tap.sent.clear();
    tap.received.clear();
    client->report_pings = true;
    client->session().ping("lesson 7");
    std::string frame(client->session().output());
    client->flush();
    print::out(trf("  → ping \"lesson 7\": the frame, masked as lesson 4 showed\n{}", wire(frame)));
    print::out(trf("    went out as\n{}", records(tap.sent)));
    Received pong = client->receive();
    print::out(trf("  {}  (came in as {} bytes of records)\n", client::describe_received(pong), tap.received.size()));
    print::out(trf("  TLS adds {} bytes to this frame: a 5-byte header, the content type, a 16-byte tag.\n",
                           tap.sent.size() - frame.size()));
    net::attach_tap(client->transport(), nullptr);

    print::part(tr("the close: a WebSocket close, then TLS's close_notify, then TCP"));
    Received reply = client->close(1000, "lesson 7 done");
    print::out(trf("  → close 1000 (normal closure)\n  {}\n", client::describe_received(reply)));
    bool clean = reply.kind == Event::Kind::close && reply.code == 1000;
    print::out(trf("{} the closing handshake is complete\n", print::check_mark(clean)));
    if (auto log = net::keylog_file())
        print::out(trf("The TLS secrets of this run are in {} (SSLKEYLOGFILE). With a capture of the same run:\n"
                               "  tshark -r capture.pcap -o tls.keylog_file:{} -Y websocket\n"
                               "shows every frame decrypted, as the two ends saw them.\n", *log, *log));
    else
        print::out(tr("Run with SSLKEYLOGFILE=keys.log to keep this run's TLS secrets: Wireshark or tshark can then\n"
                   "decrypt a capture of it (tshark -r capture.pcap -o tls.keylog_file:keys.log -Y websocket).\n"));
    return clean ? 0 : 1;
}

int demo(Random& random, bool crlf) {
    net::Certificate certificate = net::make_self_signed();
    server::Options options;
    options.port = 0;
    options.tls = net::TlsContext::server(certificate);
    apps::Echo echo;
    server::Server srv(options, echo);
    print::out(trf("The lesson-4 echo server runs in this process with TLS at wss://{}/.\n"
                           "Its certificate was made for this run (subject {}, SHA-256 {}…):\n"
                           "the client trusts exactly that one.\n",
                           srv.local().str(), certificate.subject, certificate.fingerprint.substr(0, 23)));
    return lesson::run_beside(srv, [&] {
        return story(parse_url(fmt::format("wss://127.0.0.1:{}/", srv.local().port)),
                     net::TlsContext::client_trusting(certificate), true, random, crlf);
    });
}

}  // namespace

int main(int argc, char** argv) {
    i18n::choose(argc, argv);  // before any sentence is made, --help's too
    CLI::App app{trs("Lesson 7: wss://. TLS first (the handshake, the certificate, records on the wire),\n"
                 "then the same WebSocket handshake and frames inside. --demo, or a wss:// URL to inspect.")};
    lesson::Common common;
    std::string url_text, ca_file;
    bool insecure = false;
    app.add_option("url", url_text, trs("a wss:// server to inspect, e.g. wss://127.0.0.1:8443/ws"));
    app.add_option("--ca", ca_file, trs("trust the certificates in this PEM file (e.g. a lesson's --save-cert)"))
        ->check(CLI::ExistingFile);
    app.add_flag("--insecure", insecure, trs("go on even when the certificate does not verify (and say so)"));
    app.add_flag("--demo", common.demo, trs("the story against a TLS echo server started here"));
    lesson::add_output_options(app, common, trs("-v: CR LF visible in the decrypted heads"));
    return lesson::run(app, argc, argv, [&]() -> int {
        lesson::apply(common);
        Random random(common.seed);
        if (common.demo) return demo(random, common.verbose > 0);
        if (url_text.empty()) throw std::runtime_error(trs("give a wss:// URL, e.g. lesson7-wss wss://127.0.0.1:8443/ (or --demo)"));
        Url url = parse_url(url_text);
        if (!url.secure()) throw std::runtime_error(trs("lesson 7 is about wss://; for ws:// use lesson6-client"));
        return story(url, net::TlsContext::client(ca_file, !insecure), !insecure, random, common.verbose > 0);
    });
}
