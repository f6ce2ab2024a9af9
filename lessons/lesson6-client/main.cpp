// Lesson 6: the client's half. Makes the key, sends the upgrade, checks the server's answer as
// RFC 6455 §4.1 says, then masks every frame it sends. `relay` sits between a browser and any
// server and shows both directions frame by frame.
// The new code for this lesson is in src/client/client.cpp (the handshake from the client's
// side), src/proto/handshake.cpp (check_response: the client's checks), src/client/interactive.cpp
// (the session you type into) and src/client/relay.cpp (the relay).

#include <fmt/format.h>

#include "apps/echo.hpp"
#include "client/client.hpp"
#include "client/interactive.hpp"
#include "client/relay.hpp"
#include "print/frame_diagram.hpp"
#include "print/handshake_print.hpp"
#include "i18n/i18n.hpp"
#include "print/print.hpp"
#include "server/lesson_cli.hpp"
#include "server/threaded_server.hpp"
#include "server/ws_server.hpp"

using namespace ws;
using namespace std::chrono_literals;

namespace {

// The handshake as the client saw it: what it sent, what came back, and its checks.
void show_handshake(const std::string& request, std::string_view response, const handshake::ClientResult* checks,
                    bool crlf) {
    print::out(print::heading(tr("the request")) + print::head_text(request, crlf));
    print::out(print::heading(tr("the response")) + print::head_text(response, crlf));
    if (checks) print::out(print::client_checks(*checks));
}

// A refused upgrade: the whole answer, body included, and which check failed.
int refused(const HandshakeError& e, bool crlf) {
    if (!e.request.empty()) print::out(print::heading(tr("the request")) + print::head_text(e.request, crlf));
    if (!e.received.empty()) print::out(print::heading(tr("the answer")) + print::head_text(e.received, crlf));
    if (!e.result.checks.empty()) print::out(print::client_checks(e.result));
    print::err(trf("error: {}", e.what()));
    return 2;
}

// The story of one connection against the lesson-4 echo server, started here.
int demo(Random& random) {
    server::Options options;
    options.port = 0;
    apps::Echo echo;
    server::Server srv(options, echo);
    return lesson::run_beside(srv, [&] {
        print::out(trf("The lesson-4 echo server runs in this process at ws://{}/; the client talks to it.\n",
                               srv.local().str()));
        Client client("127.0.0.1", srv.local().port, "/", random);
        print::part(tr("the key: 16 random bytes, in base64 (RFC 6455 §4.1)"));
        auto nonce = handshake::base64_decode(client.key());
        print::out(trf("  {}\n  → Sec-WebSocket-Key: {}\n", print::hex(*nonce), client.key()));
        print::pause();
        show_handshake(client.request(), client.response(), &client.checks(), true);
        print::out(trf("  the accept key, recomputed: {}  (SHA-1 of the key + GUID: lesson 3)\n",
                               client.checks().expected_accept));

        print::part(tr("a text message, masked: every frame a client sends (RFC 6455 §5.3)"));
        client.session().send(Opcode::text, "Hello");
        std::string frame(client.session().output());
        HeaderParse parsed = parse_header(std::span(reinterpret_cast<const std::uint8_t*>(frame.data()), frame.size()));
        const FrameHeader& h = parsed.header;
        if (parsed.status != HeaderParse::Status::ok || !h.masked || h.header_length + h.payload_length != frame.size()) {
            print::out(trf("  frame {}\n{} this is not a masked 5-byte text frame: the story stops here\n"
                                   "  (running on your exercises/ code? make exercises says what is not yet right)\n",
                                   print::hex(frame), print::check_mark(false)));
            return 1;
        }
        std::string_view masked = std::string_view(frame).substr(h.header_length);
        print::out(trf("  frame {}\n  masking key {} (fresh for this frame)\n  each byte XOR key[i mod 4]:{}",
                               print::hex(frame), print::hex(std::span<const std::uint8_t>(h.mask)),
                               print::unmask_steps(masked, h.mask)));
        client.flush();
        // Each step needs the one before it: a step that went wrong ends the story, and says so.
        auto went_wrong = [](const Received& r, Event::Kind wanted) {
            if (r.kind == wanted) return false;
            print::out(trf("{} the story stops here: the connection did not go as RFC 6455 says\n"
                                   "  (running on your exercises/ code? make exercises says what is not yet right)\n", print::check_mark(false)));
            return true;
        };
        Received hello = client.receive();
        print::out(trf("  {}   (the server sends it unmasked)\n", client::describe_received(hello)));
        if (went_wrong(hello, Event::Kind::message)) return 1;

        print::part(tr("a ping: the server must answer with a pong carrying the same payload"));
        client.report_pings = true;
        auto sent = std::chrono::steady_clock::now();
        client.session().ping("are you there?");
        client.flush();
        Received pong = client.receive();
        print::out(trf("  → ping \"are you there?\"\n  {}   round trip {:.2f} ms\n", client::describe_received(pong),
                               std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - sent).count()));
        if (went_wrong(pong, Event::Kind::pong)) return 1;

        print::part(tr("one message in three fragments (RFC 6455 §5.4)"));
        std::string_view text = "fragments: κόσμε";
        for (std::size_t i = 0; i < 3; ++i) {
            std::size_t from = text.size() * i / 3, to = text.size() * (i + 1) / 3;
            client.send(i == 0 ? Opcode::text : Opcode::continuation, text.substr(from, to - from), i == 2);
            print::out(fmt::format("  → {} fin={} {}\n", i == 0 ? "text        " : "continuation", i == 2 ? 1 : 0,
                                   print::hex(text.substr(from, to - from))));
        }
        print::out(tr("  (a fragment may end inside a character: only the whole message must be UTF-8)\n"));
        Received whole = client.receive();
        print::out(trf("  {}   (back whole, in one frame)\n", client::describe_received(whole)));
        if (went_wrong(whole, Event::Kind::message)) return 1;

        print::part(tr("the close: ours, the server's answer, then the server ends TCP (RFC 6455 §7.1.1)"));
        Received reply = client.close(1000, "demo done");
        print::out(trf("  → close 1000 (normal closure) \"demo done\"\n  {}\n", client::describe_received(reply)));
        bool clean = reply.kind == Event::Kind::close && reply.code == 1000;
        print::out(trf("{} the closing handshake is complete\n", print::check_mark(clean)));
        return clean ? 0 : 1;
    });
}

}  // namespace

int main(int argc, char** argv) {
    i18n::choose(argc, argv);  // before any sentence is made, --help's too
    CLI::App app{trs("Lesson 6: the client's side. Connects to any ws:// or wss:// URL, checks the server's answer\n"
                 "(RFC 6455 §4.1), then sends each line you type as a masked frame. `relay` shows both ways.")};
    app.require_subcommand(0, 1);
    lesson::Common common;
    std::string url_text;
    std::vector<std::string> headers, protocols;
    ClientOptions options;
    double connect_seconds = 10;
    bool echo_mode = false;
    app.add_option("url", url_text, trs("the server, e.g. ws://127.0.0.1:8080/ws"));
    app.add_option("-H,--header", headers, trs("one more request header, 'Name: value' (repeatable)"));
    app.add_option("--protocol", protocols, trs("offer this subprotocol (repeatable, in order of preference)"));
    app.add_option("--origin", options.origin, trs("send this Origin header (a browser always sends one)"));
    app.add_option("--connect-timeout", connect_seconds, trs("seconds to connect and to get the whole answer"))
        ->check(CLI::Range(0.1, 600.0))
        ->capture_default_str();
    app.add_option("--max-message", options.limits.max_message, trs("largest message accepted, in bytes (1009 above it)"))
        ->capture_default_str();
    std::string ca_file;
    bool insecure = false;
    app.add_option("--ca", ca_file, trs("wss://: trust the certificates in this PEM file (e.g. a lesson's --save-cert)"))
        ->check(CLI::ExistingFile);
    app.add_flag("--insecure", insecure, trs("wss://: connect even when the certificate does not verify (say so)"));
    app.add_flag("--echo", echo_mode, trs("no input: echo every message back with its type until the server closes"));
    options.deflate.enabled = true;  // as a browser does; the demo alone speaks uncompressed (lesson 8 is compression)
    lesson::add_deflate_options(app, options.deflate, false);
    app.add_flag("--demo", common.demo, trs("the client's story against the lesson-4 echo server, started here"));
    lesson::add_output_options(app, common, trs("-v: CR LF visible, every frame with its mask; -vv: each frame drawn"));

    auto* relay_cmd = app.add_subcommand("relay", trs("a relay between a client and URL that shows every frame both ways"));
    std::uint16_t listen_port = 8080;
    std::string relay_host = "127.0.0.1", relay_url;
    relay_cmd->add_option("--listen", listen_port, trs("the port to listen on; 0 picks a free one"))->capture_default_str();
    relay_cmd->add_option("--host", relay_host, trs("the address to listen on"))->capture_default_str();
    relay_cmd->add_option("url", relay_url, trs("the server to relay to, e.g. ws://127.0.0.1:8080/ws"))->required();
    lesson::TlsFlags relay_tls;
    lesson::add_tls_options(*relay_cmd, relay_tls);
    relay_cmd->add_option("--ca", ca_file, trs("a wss:// URL: trust the certificates in this PEM file"))->check(CLI::ExistingFile);
    relay_cmd->add_flag("--insecure", insecure, trs("a wss:// URL: relay even when its certificate does not verify"));
    lesson::add_output_options(*relay_cmd, common, trs("-v: a line per frame (not per message); -vv: each frame drawn"));

    return lesson::run(app, argc, argv, [&]() -> int {
        lesson::apply(common);
        Random random(common.seed);
        if (relay_cmd->parsed()) {
            client::RelayOptions ro;
            ro.upstream = parse_url(relay_url);
            if (ro.upstream.secure()) ro.upstream_tls = net::TlsContext::client(ca_file, !insecure);
            lesson::ServerTls tls = lesson::server_tls(relay_tls);
            ro.verbose = common.verbose;
            server::ThreadedServer server(relay_host, listen_port, 1024);
            server.use_tls(tls.context);
            server::stop_on_signals(server);
            print::out(fmt::format("listening on {}://{}/\n", tls.page_scheme(), server.local().str()));
            print::out(tls.story);
            print::out(trf("Point a client (or a browser page's WebSocket) at {}://{}{} instead of {}\n",
                                   tls.ws_scheme(), server.local().str(), ro.upstream.path, ro.upstream.str()));
            server.run([&](net::Transport t, net::Endpoint peer, int number) {
                client::relay(server, ro, std::move(t), peer, number);
            });
            return 0;
        }
        if (common.demo) return demo(random);
        if (url_text.empty()) throw std::runtime_error(trs("give a URL, e.g. lesson6-client ws://127.0.0.1:8080/ws (or --demo)"));
        Url url = parse_url(url_text);
        options.connect_timeout = options.handshake_timeout =
            std::chrono::milliseconds(static_cast<long long>(connect_seconds * 1000));
        options.protocols = protocols;
        for (const auto& h : headers) {
            auto colon = h.find(':');
            if (colon == std::string::npos || colon == 0)
                throw std::runtime_error(trs("-H takes 'Name: value', e.g. -H 'Authorization: Bearer x'"));
            options.headers.push_back({h.substr(0, colon), std::string(http::trim(std::string_view(h).substr(colon + 1)))});
        }
        if (url.secure()) options.tls = net::TlsContext::client(ca_file, !insecure);
        net::Transport connected = dial(url.host, url.port, url.secure(), options);
        std::string tls_story = url.secure() ? describe_tls(net::summarize(connected), !insecure) : "";
        std::optional<Client> client;
        try {
            client.emplace(std::move(connected), url.host, url.port, url.path, random, options);
        } catch (const HandshakeError& e) {
            print::out(tls_story);
            return refused(e, common.verbose > 0);
        }
        client::InteractiveOptions io;
        io.verbose = common.verbose;
        if (echo_mode) {
            if (common.verbose > 0) {
                print::out(tls_story);
                show_handshake(client->request(), client->response(), &client->checks(), true);
            }
            return client::echo(*client, io);
        }
        print::out(tls_story);
        show_handshake(client->request(), client->response(), &client->checks(), common.verbose > 0);
        if (client->checks().protocol) print::out(trf("subprotocol chosen: {}\n", *client->checks().protocol));
        if (const MessageDeflate* d = client->session().deflate())
            print::out(trf("permessage-deflate agreed: messages go compressed (RSV1); -v shows both forms;\n"
                                   "zlib memory for this connection: at most {}\n", print::bytes_size(d->memory_bound())));
        print::out(tr("connected: each line you type is sent as a text message; /help lists the commands\n"));
        return client::interactive(*client, io);
    });
}
