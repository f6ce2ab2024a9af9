// Lesson 2: read the upgrade request, check it, answer "101 Switching Protocols".
// The new code for this lesson is in src/proto/http.cpp (the request parser) and
// src/proto/handshake.cpp (the checks of RFC 6455 §4.2.1 and the responses).
#include <chrono>
#include <thread>

#include <fmt/format.h>

#include "net/socket.hpp"
#include "print/print.hpp"
#include "proto/handshake.hpp"
#include "proto/http.hpp"
#include "client/client.hpp"
#include "proto/receiver.hpp"
#include "server/html.hpp"
#include "server/lesson_cli.hpp"
#include "proto/random.hpp"
#include "server/threaded_server.hpp"

using namespace ws;
using namespace std::chrono_literals;

namespace {

struct Settings {
    int verbose = 0;
    std::string mistake;  // "", "lf-only", "no-blank-line", "bad-accept"
    std::optional<std::string> html_dir;
    http::Limits limits;
    std::chrono::milliseconds request_timeout{10'000};
};

// The original blog post's server answered with a template string: bare LF line endings.
// These are its mistakes and two more, made on purpose so the class sees what a browser does.
std::string with_mistake(std::string response, const std::string& mistake, std::string_view key) {
    if (mistake == "lf-only") {
        std::string lf;
        for (char c : response)
            if (c != '\r') lf += c;
        return lf;
    }
    if (mistake == "no-blank-line") return response.substr(0, response.size() - 2);
    if (mistake == "bad-accept") {
        // SHA-1 of the key alone, without the GUID: looks right, is wrong.
        std::string wrong = handshake::base64_encode(handshake::sha1(key));
        auto at = response.find("Sec-WebSocket-Accept: ") + 22;
        return response.replace(at, 28, wrong);
    }
    return response;
}

std::string request_text(std::string_view head, int verbose) {
    if (verbose > 0) return print::show_line_endings(head);
    std::string s(head);
    std::erase(s, '\r');
    return s;
}

// What the parser made of those bytes: the request line split in three, each header split at
// its colon and trimmed. The checks below read these, never the raw text.
std::string parsed_table(const http::Request& request) {
    std::vector<std::pair<std::string, std::string>> rows = {
        {"method", request.method}, {"target", request.target}, {"version", request.version}};
    for (const auto& h : request.headers) rows.emplace_back(h.name, h.value.empty() ? "(empty)" : h.value);
    return fmt::format("Parsed: the request line and {} header{}\n", request.headers.size(),
                       request.headers.size() == 1 ? "" : "s") +
           print::table(rows);
}

void print_checks(const handshake::Result& result) {
    std::string s = "Checks (RFC 6455 §4.2.1)\n";
    for (const auto& c : result.checks)
        s += fmt::format("  {} {}  {:<42} {}\n", print::check_mark(c.ok), static_cast<int>(c.check),
                         handshake::describe(c.check), print::paint(c.detail, c.ok ? print::Style::dim : print::Style::red));
    print::out(s);
}

// After a 101 the connection speaks frames. Lesson 4 takes them apart; here we only say what
// arrives; the session answers pings and closes, and we send 1001 when the server stops.
void hold_open(server::ThreadedServer& server, net::Transport transport, int number, std::string leftover) {
    BlockingSession ws(std::move(transport), Role::server, {}, nullptr, std::move(leftover));
    for (;;) {
        // Checked between reads, so a client that never stops sending cannot keep the lesson
        // from stopping.
        if (server.stopping()) {
            ws.close(1001, "server shutting down", 2s);
            print::out(fmt::format("#{} server stopping: sent close 1001 (going away)\n", number));
            return;
        }
        Received m = ws.receive(100ms);
        switch (m.kind) {
            case Event::Kind::message:
                print::out(fmt::format("#{} received a {} message: {} (lesson 4 takes frames apart)\n", number,
                                       opcode_name(static_cast<std::uint8_t>(m.type)), print::printable(m.payload)));
                break;
            case Event::Kind::close:
                if (m.code == 1006) {
                    print::out(fmt::format("#{} the client went away without a close frame\n", number));
                } else {
                    print::out(fmt::format("#{} the client closed with {} ({}); answered with a close frame\n", number,
                                           m.code, close_code_name(m.code)));
                    ws.finish();
                }
                return;
            case Event::Kind::fail:
                print::out(fmt::format("#{} protocol error: {}; closed with {}\n", number, m.reason, m.code));
                ws.finish();
                return;
            default:
                break;
        }
    }
}

void session(server::ThreadedServer& server, const Settings& settings, net::Transport fd, const net::Endpoint& peer, int number) {
    // Read until the parser has a whole request head, however many reads that takes.
    http::RequestParser parser(settings.limits);
    std::string received;
    http::ParseResult r;
    auto deadline = net::after(settings.request_timeout);
    char chunk[4096];
    while ((r = parser.parse(received)).status == http::ParseResult::Status::need_more) {
        std::size_t n = 0;
        auto status = net::read_some(fd, chunk, sizeof chunk, n, std::min(deadline, net::after(100ms)));
        if (status == net::IoStatus::ok) { received.append(chunk, n); continue; }
        if (status == net::IoStatus::timeout && net::Clock::now() < deadline && !server.stopping()) continue;
        if (status == net::IoStatus::timeout && !received.empty())
            net::write_all(fd, html::response(408, "no complete request in time\n"), net::after(1s));
        return;  // the client left, or sent nothing in time (browsers open spare connections)
    }

    print::out(print::heading(fmt::format("connection #{} from {}: request", number, peer.str())));
    if (r.status == http::ParseResult::Status::error) {
        print::out(fmt::format("{} cannot parse the request: {} ({})\n{}", print::check_mark(false), http::describe(r.error),
                               r.detail, print::hexdump(received, 256)));
        net::write_all(fd, html::response(400, fmt::format("{}: {}\n", http::describe(r.error), r.detail)), net::after(2s));
        return;
    }
    std::string_view head = std::string_view(received).substr(0, r.consumed);
    print::out(request_text(head, settings.verbose) + parsed_table(r.request));

    if (!handshake::wants_websocket(r.request)) {
        html::Page page = html::find(r.request.target, "handshake.html", settings.html_dir);
        print::out(fmt::format("A plain HTTP request (no Upgrade header): answering {} {} with {} bytes of {}\n",
                               page.status, html::status_text(page.status), page.body.size(), page.content_type));
        net::write_all(fd, html::response(page, r.request.method == "HEAD"), net::after(5s));
        return;
    }

    handshake::Result result = handshake::check_request(r.request);
    print_checks(result);
    std::string response;
    if (result.ok()) {
        print::out(fmt::format("Accept key: SHA-1(key + {}) → base64 = {}\n", handshake::kGuid,
                               print::paint(result.accept, print::Style::green)));
        response = with_mistake(handshake::response_101(result), settings.mistake,
                                r.request.find("Sec-WebSocket-Key")->value);
    } else {
        response = handshake::response_refusal(result);
    }

    std::string title = settings.mistake.empty() || !result.ok()
                            ? fmt::format("connection #{}: response", number)
                            : fmt::format("connection #{}: response, with the mistake \"{}\"", number, settings.mistake);
    std::string s = print::heading(title) + print::show_line_endings(response);
    if (result.ok() && settings.mistake.empty())
        s += print::paint("↑ the empty line (␍␊) ends the headers: forget it and the browser waits forever\n", print::Style::dim);
    if (settings.verbose > 0) s += print::hexdump(response);
    print::out(s);
    if (net::write_all(fd, response, net::after(5s)) != net::IoStatus::ok) return;

    if (result.ok() && settings.mistake.empty()) {
        print::out(fmt::format("#{} open: the browser fires onopen now. From here on, both sides send frames.\n", number));
        hold_open(server, std::move(fd), number, received.substr(r.consumed));
    } else if (result.ok()) {
        // Leave the wrong answer in place: the client decides what to do with it. Whatever it
        // sends is dropped until it hangs up (or the lesson stops).
        std::size_t n = 0;
        net::IoStatus status = net::IoStatus::ok;
        while (!server.stopping() && (status == net::IoStatus::ok || status == net::IoStatus::timeout))
            status = net::read_some(fd, chunk, sizeof chunk, n, net::after(200ms));
        if (!server.stopping())
            print::out(fmt::format("#{} the client gave up on the wrong answer and closed the connection\n", number));
    }
}

// The built-in client: one good handshake, then two that the server must refuse.
void demo_client(std::uint16_t port, Random& random) {
    std::string host = fmt::format("127.0.0.1:{}", port);
    auto exchange = [&](const std::string& request) {
        net::Transport fd(net::connect_to("127.0.0.1", port));
        net::write_all(fd, request, net::after(2s));
        std::string reply;
        char chunk[4096];
        std::size_t n;
        while (net::read_some(fd, chunk, sizeof chunk, n, net::after(5s)) == net::IoStatus::ok) reply.append(chunk, n);
        return reply.substr(0, reply.find("\r\n"));
    };

    {
        Client client("127.0.0.1", port, "/", random);
        print::out(fmt::format("\nclient: got \"{}\" and the accept key matches {} → onopen\n"
                               "client: closing with 1000 (normal closure)\n",
                               client.response().substr(0, client.response().find("\r\n")), print::check_mark(true)));
        client.close(1000, "demo done");
    }
    std::this_thread::sleep_for(100ms);
    print::pause();
    print::out("\nclient: now a request from an old client that speaks version 8\n");
    std::string old = handshake::browser_request(host, "/", handshake::client_key(random.nonce()));
    old.replace(old.find("Version: 13"), 11, "Version: 8");
    print::out(fmt::format("client: got \"{}\" → onerror, onclose 1006\n", exchange(old)));

    std::this_thread::sleep_for(100ms);
    print::pause();
    print::out("\nclient: now a request with no Sec-WebSocket-Key\n");
    std::string no_key = handshake::browser_request(host, "/", "x");
    no_key.erase(no_key.find("Sec-WebSocket-Key"), std::string_view("Sec-WebSocket-Key: x\r\n").size());
    print::out(fmt::format("client: got \"{}\" → onerror, onclose 1006\n", exchange(no_key)));
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Lesson 2: the opening handshake. Parses the upgrade request, runs the checks of\n"
                 "RFC 6455 §4.2.1, computes the accept key and answers 101 (or 400/426 saying why)."};
    lesson::Common common;
    Settings settings;
    int timeout_seconds = 10;
    lesson::add_server_options(app, common);
    app.add_option("--mistake", settings.mistake,
                   "answer wrongly on purpose: lf-only (bare LF line endings, as the original blog did),\n"
                   "no-blank-line (forget the empty line), bad-accept (SHA-1 of the key without the GUID)")
        ->check(CLI::IsMember({"lf-only", "no-blank-line", "bad-accept"}));
    app.add_option("--max-header-bytes", settings.limits.max_head_bytes, "largest request head accepted")->capture_default_str();
    app.add_option("--max-headers", settings.limits.max_headers, "most header lines accepted")->capture_default_str();
    app.add_option("--request-timeout", timeout_seconds, "seconds a client has to send its whole request")
        ->check(CLI::Range(1, 600))
        ->capture_default_str();
    lesson::add_html_dir_option(app, common);
    lesson::add_output_options(app, common);

    return lesson::run(app, argc, argv, [&] {
        lesson::apply(common);
        settings.verbose = common.verbose;
        settings.html_dir = common.html_dir;
        settings.request_timeout = std::chrono::seconds(timeout_seconds);
        std::uint16_t port = common.demo && app.count("--port") == 0 ? 0 : common.port;
        server::ThreadedServer server(common.host, port);
        server::stop_on_signals(server);
        auto local = server.local();
        print::out(fmt::format("listening on http://{}/\n", local.str()));
        auto serve = [&](net::Transport fd, net::Endpoint peer, int number) {
            session(server, settings, std::move(fd), peer, number);
        };
        if (!common.demo) {
            print::out(fmt::format("Open http://{}/ in a browser: the page opens a WebSocket back to this lesson.\n\n",
                                   local.str()));
            server.run(serve);
            return 0;
        }
        Random random(common.seed);
        return server.run_demo(serve, 3, [&] { demo_client(local.port, random); });
    });
}
