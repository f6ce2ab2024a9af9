// Lesson 2: read the upgrade request, check it, answer "101 Switching Protocols".
// The new code for this lesson is in src/proto/http.cpp (the request parser) and
// src/proto/handshake.cpp (the checks of RFC 6455 §4.2.1 and the responses); the story of one
// connection is told by src/server/handshake_lesson.cpp.
#include <fmt/format.h>

#include "client/client.hpp"
#include "i18n/i18n.hpp"
#include "print/print.hpp"
#include "proto/handshake.hpp"
#include "server/handshake_lesson.hpp"
#include "server/lesson_cli.hpp"
#include "server/threaded_server.hpp"

using namespace ws;
using namespace std::chrono_literals;

namespace {

// What a client that sends `request` gets back: the status line.
std::string status_line_for(std::uint16_t port, const std::string& request) {
    net::Transport t(net::connect_to("127.0.0.1", port));
    net::write_all(t, request, net::after(2s));
    std::string reply;
    char chunk[4096];
    std::size_t n;
    while (net::read_some(t, chunk, sizeof chunk, n, net::after(5s)) == net::IoStatus::ok) reply.append(chunk, n);
    return reply.substr(0, reply.find("\r\n"));
}

// The built-in client. Each part waits until the server has told its side of the story, so the
// two sides never print over each other.
void demo_client(server::ThreadedServer& server, std::uint16_t port, Random& random, server::Mistake mistake) {
    if (mistake != server::Mistake::none) {
        // The project's own client is strict, as Python's websockets is: it says why it refuses.
        try {
            Client client("127.0.0.1", port, "/", random, 2s);
            print::out(tr("\nclient: it accepted the answer: this client is not strict\n"));
        } catch (const HandshakeError& e) {
            server.wait_for_sessions(1);
            print::out(trf("\nclient (strict, like Python websockets): {} it refuses the answer:\n        {}\n",
                                   print::check_mark(false), print::fit(e.what(), print::kLineWidth - 8)));
        }
        return;
    }
    {
        Client client("127.0.0.1", port, "/", random);
        print::out(trf("\nclient: got \"{}\" and the accept key matches {} → onopen\n"
                               "client: closing with 1000 (normal closure)\n",
                               client.response().substr(0, client.response().find("\r\n")), print::check_mark(true)));
        client.close(1000, "demo done");
    }
    server.wait_for_sessions(1);
    print::pause();
    print::out(tr("\nclient: now a request from an old client that speaks version 8\n"));
    std::string host = fmt::format("127.0.0.1:{}", port);
    std::string old = handshake::browser_request(host, "/", handshake::client_key(random.nonce()));
    old.replace(old.find("Version: 13"), 11, "Version: 8");
    std::string got = status_line_for(port, old);
    server.wait_for_sessions(2);
    print::out(trf("client: got \"{}\" → onerror, onclose 1006\n", got));

    print::pause();
    print::out(tr("\nclient: now a request with no Sec-WebSocket-Key\n"));
    std::string no_key = handshake::browser_request(host, "/", "x");
    no_key.erase(no_key.find("Sec-WebSocket-Key"), std::string_view("Sec-WebSocket-Key: x\r\n").size());
    got = status_line_for(port, no_key);
    server.wait_for_sessions(3);
    print::out(trf("client: got \"{}\" → onerror, onclose 1006\n", got));
}

}  // namespace

int main(int argc, char** argv) {
    i18n::choose(argc, argv);  // before any sentence is made, --help's too
    CLI::App app{trs("Lesson 2: the opening handshake. Parses the upgrade request, runs the checks of\n"
                 "RFC 6455 §4.2.1, computes the accept key and answers 101 (or 400/426 saying why).")};
    lesson::Common common;
    server::HandshakeLesson lesson;
    std::string mistake;
    double request_seconds = 60, watch_seconds = 5;
    lesson::add_server_options(app, common);
    app.add_option("--mistake", mistake,
                   trs("answer wrongly on purpose: lf-only (bare LF line endings, as the original blog\n"
                   "did), no-blank-line (forget the empty line), bad-accept (SHA-1 without the GUID)"))
        ->check(CLI::IsMember({"lf-only", "no-blank-line", "bad-accept"}));
    app.add_option("--mistake-wait", watch_seconds, trs("seconds to watch what a client does with a wrong answer"))
        ->check(CLI::Range(0.5, 600.0))
        ->capture_default_str();
    app.add_option("--max-header-bytes", lesson.limits.max_head_bytes, trs("largest request head accepted"))->capture_default_str();
    app.add_option("--max-headers", lesson.limits.max_headers, trs("most header lines accepted"))->capture_default_str();
    app.add_option("--request-timeout", request_seconds, trs("seconds a client has to send its whole request"))
        ->check(CLI::Range(1.0, 3600.0))
        ->capture_default_str();
    lesson::TlsFlags tls_flags;
    lesson::add_tls_options(app, tls_flags);
    lesson::add_html_dir_option(app, common);
    lesson::add_output_options(app, common, trs("-v: CR LF made visible, the response in hex; -vv: the request in hex too"));

    return lesson::run(app, argc, argv, [&] {
        lesson::apply(common);
        lesson.verbose = common.verbose;
        lesson.html_dir = common.html_dir;
        lesson.mistake = server::mistake_from(mistake);
        lesson.request_timeout = std::chrono::milliseconds(static_cast<long long>(request_seconds * 1000));
        lesson.watch_time = std::chrono::milliseconds(static_cast<long long>((common.demo ? 3 : watch_seconds) * 1000));
        std::uint16_t port = common.demo && app.count("--port") == 0 ? 0 : common.port;
        if (common.demo && lesson::uses_tls(tls_flags))
            throw std::runtime_error(trs("--demo runs without TLS; lesson 7's --demo tells the TLS story"));
        lesson::ServerTls tls = lesson::server_tls(tls_flags);
        server::ThreadedServer server(common.host, port);
        server.use_tls(tls.context);
        server::stop_on_signals(server);
        auto local = server.local();
        print::out(fmt::format("listening on {}://{}/\n", tls.page_scheme(), local.str()));
        print::out(tls.story);
        auto serve = [&](net::Transport t, net::Endpoint peer, int number) {
            server::tell_handshake(server, lesson, std::move(t), peer, number);
        };
        if (!common.demo) {
            print::out(trf("Open {}://{}/ in a browser: the page opens a WebSocket back to this lesson.\n\n", tls.page_scheme(),
                                   local.str()));
            server.run(serve);
            return 0;
        }
        Random random(common.seed);
        int connections = lesson.mistake == server::Mistake::none ? 3 : 1;
        return server.run_demo(serve, connections, [&] { demo_client(server, local.port, random, lesson.mistake); });
    });
}
