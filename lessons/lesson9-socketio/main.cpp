// Lesson 9: socket.io, unwrapped. The original blog's chat page, written for socket.io, against
// this C++ server: Engine.IO's long-polling, its upgrade to a WebSocket, its heartbeat, and the
// Socket.IO packets inside (42["message",{…}] is an EVENT "message"), every one on screen;
// socket.io clients and lesson 5's plain WebSocket pages chat in one room.
// The new code for this lesson is in src/proto/engineio.cpp and src/proto/socketio.cpp (the
// packets), src/server/engineio.cpp (polling, the upgrade, the heartbeat) and
// src/apps/socketio_chat.cpp (the room's socket.io door).
#include <fstream>
#include <sstream>
#include <thread>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "apps/socketio_chat.hpp"
#include "client/client.hpp"
#include "client/socketio_client.hpp"
#include "i18n/i18n.hpp"
#include "print/print.hpp"
#include "proto/chat.hpp"
#include "server/html.hpp"
#include "server/lesson_cli.hpp"
#include "server/ws_server.hpp"

using namespace ws;
using namespace std::chrono_literals;

namespace {

enum class PageKind { fixed, typo_fixed, as_published };

// Where npm puts socket.io's browser build (scripts/install-deps.sh --browser).
std::string default_socket_io_js() { return std::string(WS_SOURCE_DIR) + "/tests/browser/node_modules/socket.io-client/dist/socket.io.js"; }

std::optional<std::string> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// The socket.io chat room, and the pages that go with it: the blog's page (fixed, or as
// published) at /, socket.io's client script at /socket.io.js. Lesson 5's page is /chatroom.html.
class Lesson9 final : public apps::SocketIoChat {
public:
    Lesson9(server::EngineIoOptions eio, std::chrono::milliseconds connect_timeout, Random& random, PageKind page,
            std::optional<std::string> script, std::optional<std::string> html_dir)
        : SocketIoChat(std::move(eio), chat::Limits{}, random, connect_timeout), page_(page), script_(std::move(script)),
          html_dir_(std::move(html_dir)) {}

    bool serves(std::string_view path) const override { return is_page(path) || SocketIoChat::serves(path); }

    void on_request(server::Server& s, server::Connection& c, const http::Request& req, std::string_view body) override {
        std::string_view path = http::path_of(req.target);
        if (!is_page(path)) return SocketIoChat::on_request(s, c, req, body);
        html::Page page;
        if (path == "/socket.io.js" || path == "/socket.io/socket.io.js") {
            page = script_ ? html::Page{200, "application/javascript; charset=utf-8", *script_}
                           : html::Page{404, "text/plain; charset=utf-8",
                                        "socket.io.js is not installed: run scripts/install-deps.sh --browser "
                                        "(npm's socket.io-client 4.8.1)\n"};
        } else {
            page = the_page(req);
        }
        s.log(c, "HTTP {} {} → {}", req.method, print::bare(req.target, 40), page.status);
        s.respond(c, html::response(page, req.method == "HEAD"), false);
    }

    std::string refuse_upgrade(server::Server& s, server::Connection& c, const http::Request& req) override {
        std::string_view path = http::path_of(req.target);
        if (!is_page(path)) return SocketIoChat::refuse_upgrade(s, c, req);
        s.log(c, "upgrade refused: {} is a page; the WebSockets are /ws and /socket.io/", print::bare(req.target, 40));
        return html::response(404, "the WebSocket endpoints are /ws (lesson 5's room) and /socket.io/\n");
    }

private:
    static bool is_page(std::string_view path) {
        return path == "/" || path == "/index.html" || path == "/socket.io.js" || path == "/socket.io/socket.io.js";
    }
    html::Page the_page(const http::Request& req) const {
        const bool published = page_ != PageKind::fixed;
        html::Page page = html::find(published ? "/chatroom-as-published.html" : "/socketio-chatroom.html", "", html_dir_);
        if (!published || page.status != 200) return page;
        // The one change to the published page: its io(...) goes to the server that served it.
        const http::Header* host = req.find("Host");
        // In the script, not in the comment at the top that names them: the last time each appears.
        auto replace = [&](std::string_view from, std::string_view to) {
            if (auto at = page.body.rfind(from); at != std::string::npos) page.body.replace(at, from.size(), to);
        };
        replace("io('ws://127.0.0.1:8080')", fmt::format("io('ws://{}')", host ? host->value : "127.0.0.1:8080"));
        if (page_ == PageKind::typo_fixed) replace("document.getElementByI('content')", "document.getElementById('content')");
        return page;
    }

    PageKind page_;
    std::optional<std::string> script_;
    std::optional<std::string> html_dir_;
};

void say(const std::string& what) { print::part(what); }

// What a client's page would show for one §5 message.
std::string shown(const std::optional<std::string>& json) { return json ? chat::screen_line(*json) : tr("(nothing arrived)"); }

int demo(server::Server& srv, Random& random) {
    std::uint16_t port = srv.local().port;
    bool show_heartbeat = false;
    int pings_shown = 0;
    auto wire = [&](std::string who) {
        return [who, &show_heartbeat, &pings_shown, heartbeat_post = false](std::string_view line) mutable {
            bool heartbeat = line == "  ← frame 2" || line == "frame 3" || line == "  ← 200 2" ||
                             (line.rfind("POST", 0) == 0 && line.ends_with(" 3")) || (heartbeat_post && line == "  ← 200 ok");
            heartbeat_post = line.rfind("POST", 0) == 0 && line.ends_with(" 3");
            if (heartbeat && (!show_heartbeat || pings_shown > 1)) return;
            if (heartbeat) ++pings_shown;  // the ping, then the pong: one of each
            print::out(print::fit(fmt::format("  {:<6} {}", who, line), 100) + "\n");
        };
    };

    say(tr("alice's page calls io(): Engine.IO opens a session with an HTTP GET (long-polling)"));
    print::out(tr("  Each line is what alice's socket.io client (one written here) sends, and ← what comes back.\n"));
    SocketIoClient alice("127.0.0.1", port, random, SocketIoClient::Start::polling_then_upgrade, wire("alice"));
    print::out(trf("  alice's session: sid {}, on a WebSocket now: {}\n", alice.sid().substr(0, 6) + "…",
                           alice.on_websocket() ? tr("yes") : tr("no")));

    say(tr("socket.send({type:'LOGIN', name:'alice'}) is an EVENT \"message\": 42[\"message\",{…}]"));
    alice.send(chat::client_login_json("alice"));
    print::out(trf("  alice  sees  {}\n", shown(alice.next_message(5s))));
    print::out(trf("  alice  sees  {}\n", shown(alice.next_message(5s))));

    say(tr("bob is lesson 5's page: a plain WebSocket on /ws, plain JSON, the same room"));
    Client bob("127.0.0.1", port, "/ws", random);
    bob.send_text(chat::client_login_json("bob"));
    for (int i = 0; i < 2; ++i) {
        auto m = bob.receive(5s);
        print::out(trf("  bob    frame {}\n", print::bare(m.payload, 80)));
    }
    print::out(trf("  alice  sees  {}\n", shown(alice.next_message(5s))));

    say(tr("alice says hello: bob gets it as plain JSON, alice inside 42[\"message\",…]"));
    alice.send(chat::client_chat_json("hello from socket.io"));
    print::out(trf("  alice  sees  {}\n", shown(alice.next_message(5s))));
    print::out(trf("  bob    frame {}\n", print::bare(bob.receive(5s).payload, 80)));
    bob.send_text(chat::client_chat_json("hi alice, from a plain WebSocket"));
    print::out(trf("  bob    frame {}\n", print::bare(bob.receive(5s).payload, 80)));
    print::out(trf("  alice  sees  {}\n", shown(alice.next_message(5s))));

    say(tr("why a plain WebSocket page cannot talk to socket.io (nor a socket.io page to lesson 5)"));
    Client plain("127.0.0.1", port, "/socket.io/?EIO=4&transport=websocket", random);
    auto first = plain.receive(5s);
    print::out(trf("  plain  frame {}  ← Engine.IO's open packet\n", print::bare(first.payload, 50)));
    print::out(trf("  plain  sends {}\n", chat::client_login_json("carol")));
    plain.send_text(chat::client_login_json("carol"));
    for (int i = 0; i < 3; ++i) {
        auto m = plain.receive(3s);
        if (m.kind == Event::Kind::message) print::out(trf("  plain  frame {}\n", print::bare(m.payload, 80)));
        if (m.kind == Event::Kind::close) {
            print::out(trf("  plain  close {} ({}) {}: '{{' is not a packet type (0-6)\n", m.code,
                                   close_code_name(m.code), print::printable(m.reason, 30)));
            break;
        }
    }
    print::out(tr("  And the other way round: a socket.io client asks lesson 5's server for /socket.io/ and gets 404.\n"));

    say(tr("the heartbeat: the server sends 2 (ping) every pingInterval, the client answers 3 (pong)"));
    show_heartbeat = true;
    for (int i = 0; i < 8 && pings_shown < 2; ++i) {
        auto quiet = alice.next_message(500ms);  // nothing comes but the ping, answered inside
        if (quiet) print::out(trf("  alice  sees  {}\n", shown(quiet)));
    }
    show_heartbeat = false;

    say(tr("alice leaves: 41 (DISCONNECT), then 1 (close); bob sees her go"));
    alice.disconnect();
    print::out(trf("  bob    frame {}\n", print::bare(bob.receive(5s).payload, 80)));

    say(tr("the server shuts down: bob's WebSocket gets close 1001"));
    srv.stop();
    auto last = bob.receive(5s);
    print::out(trf("  bob    close {} ({})\n", last.code, close_code_name(last.code)));
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    i18n::choose(argc, argv);  // before any sentence is made, --help's too
    CLI::App app{trs("Lesson 9: socket.io, unwrapped. The original blog's socket.io chat page on this server:\n"
                 "Engine.IO long-polling, the upgrade to a WebSocket, the heartbeat and every Socket.IO\n"
                 "packet on screen; lesson 5's plain WebSocket pages in the same room.")};
    lesson::Common common;
    lesson::add_server_options(app, common);
    lesson::add_html_dir_option(app, common);
    server::EngineIoOptions eio;
    double ping_interval = 25, ping_timeout = 20, connect_timeout = 45;
    std::string page_name = "fixed";
    bool as_published = false, quiet = false;
    std::string script_path;
    app.add_option("--page", page_name,
                   trs("the page at /: fixed (the blog's, both bugs fixed), typo-fixed (only the typo: its innerHTML "
                   "runs a message's script), as-published"))
        ->check(CLI::IsMember({"fixed", "typo-fixed", "as-published"}))
        ->capture_default_str();
    app.add_flag("--as-published", as_published, trs("the same as --page as-published"));
    app.add_option("--socket-io-js", script_path, trs("socket.io's browser script to serve (default: npm's, from install-deps)"));
    app.add_option("--ping-interval", ping_interval, trs("Engine.IO pingInterval, in seconds: the server pings this often"))
        ->check(CLI::Range(0.05, 100.0))  // a held poll is answered by then (the server holds one 2 minutes at most)
        ->capture_default_str();
    app.add_option("--ping-timeout", ping_timeout, trs("Engine.IO pingTimeout, in seconds: no pong in this long and the session ends"))
        ->check(CLI::Range(0.05, 3600.0))
        ->capture_default_str();
    app.add_option("--connect-timeout", connect_timeout,
                   trs("socket.io's connectTimeout, in seconds: a session that has not CONNECTed by then is ended"))
        ->check(CLI::Range(0.05, 3600.0))
        ->capture_default_str();
    app.add_option("--max-payload", eio.max_payload, trs("Engine.IO maxPayload: the largest POST body or WebSocket message, in bytes"))
        ->check(CLI::Range(std::size_t{64}, std::size_t{64} << 20))
        ->capture_default_str();
    app.add_option("--cors", eio.cors_origin, trs("a page from this origin (http://host:port, or *) may use /socket.io/"));
    app.add_flag("-q,--quiet", quiet, trs("no line per request and packet (for load tests)"));
    lesson::add_output_options(app, common,
                               trs("the packets are always shown (without -q); -v adds every WebSocket frame, -vv as diagrams"));

    return lesson::run(app, argc, argv, [&]() -> int {
        lesson::apply(common);
        if (as_published) page_name = "as-published";
        PageKind page = page_name == "as-published" ? PageKind::as_published
                        : page_name == "typo-fixed" ? PageKind::typo_fixed
                                                    : PageKind::fixed;
        eio.ping_interval = std::chrono::milliseconds(static_cast<long>(ping_interval * 1000));
        eio.ping_timeout = std::chrono::milliseconds(static_cast<long>(ping_timeout * 1000));
        if (common.demo) {
            // The demo's heartbeat comes quickly, and a paused --step never loses the session.
            if (app.count("--ping-interval") == 0) eio.ping_interval = 1500ms;
            if (app.count("--ping-timeout") == 0) eio.ping_timeout = 600s;
        }
        server::Options options;
        options.host = common.host;
        options.port = common.demo && app.count("--port") == 0 ? 0 : common.port;
        options.html_dir = common.html_dir;
        options.index_page = "chatroom.html";
        options.ws_path = "/ws";
        options.max_body = eio.max_payload;
        options.limits.max_message = eio.max_payload;
        options.max_backlog = 1024 * 1024;
        options.log_connections = common.demo ? common.verbose >= 1 : !quiet;
        options.log_frames = common.verbose >= 2 ? server::FrameLog::diagram
                             : common.verbose >= 1 ? server::FrameLog::summary
                                                   : server::FrameLog::none;
        std::optional<std::string> script = read_file(script_path.empty() ? default_socket_io_js() : script_path);
        if (!script && !script_path.empty()) throw std::runtime_error(trf("cannot read --socket-io-js {}", script_path));

        Random random(common.seed);
        Lesson9 chat(eio, std::chrono::milliseconds(static_cast<long>(connect_timeout * 1000)), random, page, script,
                     common.html_dir);
        server::Server srv(options, chat);
        server::stop_on_signals(srv);
        print::out(fmt::format("listening on http://{}/\n", srv.local().str()));
        print::out(trf("Engine.IO (socket.io) at {} · lesson 5's plain WebSocket at /ws\n", eio.path));
        if (!common.demo) {
            print::out(trf("Open http://{0}/?name=alice and http://{0}/?name=bob: the blog's page,\n"
                                   "{1}; and http://{0}/chatroom.html?name=carol, lesson 5's plain\n"
                                   "WebSocket page. One room.\n",
                                   srv.local().str(),
                                   page == PageKind::fixed        ? tr("its bugs fixed") : page == PageKind::typo_fixed ? tr("only its typo fixed: innerHTML runs what is sent") : tr("as published: watch the console")));
            if (!script)
                print::out(tr("socket.io.js is not installed, so the blog's page cannot load it: run\n"
                           "  scripts/install-deps.sh --browser   (npm's socket.io-client 4.8.1)\n"
                           "Lesson 5's page, /socket.io/ and --demo work without it.\n"));
            srv.run();
            print::out(tr("stopped: every WebSocket was sent close 1001 (going away)\n"));
            return 0;
        }
        print::out(tr("A socket.io client written here and a lesson-5 bot chat through the real server.\n\n"));
        // The clients run on another thread than the server: a Random of their own (seeded
        // from --seed too, so a class still sees the same bytes).
        Random clients_random(common.seed ? std::optional<std::uint64_t>(*common.seed + 1) : std::nullopt);
        return lesson::run_beside(srv, [&] { return demo(srv, clients_random); });
    });
}
