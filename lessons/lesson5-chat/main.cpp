// Lesson 5: the chat room. One port serves the page over HTTP and upgrades /ws to a WebSocket;
// one thread and an epoll loop serve every client; LOGIN, CHAT and LOGOUT reach everyone.
// The new code for this lesson is in src/apps/chat_room.cpp (the room), src/proto/chat.cpp
// (the JSON messages), src/server/ws_server.cpp (queues, keep-alive) and src/net/loop.cpp (the
// event loop).
#include <thread>

#include <fmt/format.h>

#include "net/socket.hpp"
#include "i18n/i18n.hpp"
#include "print/print.hpp"
#include "client/client.hpp"
#include "proto/chat.hpp"
#include "apps/chat_room.hpp"
#include "server/lesson_cli.hpp"
#include "proto/random.hpp"
#include "server/ws_server.hpp"

using namespace ws;
using namespace std::chrono_literals;

namespace {

// A bot is a real WebSocket client (src/client/client.cpp) with a name.
struct Bot {
    std::string name;
    Client client;
};

// What a bot's page would show for one message from the server.
std::string as_screen_line(const ClientMessage& m) {
    if (m.kind == Event::Kind::close)
        return trf("connection closed: {} ({}) {}", m.code, close_code_name(m.code), print::printable(m.reason));
    if (m.kind != Event::Kind::message) return std::string(tr("(nothing arrived)"));
    std::string line = chat::screen_line(m.payload);
    return line.rfind("error: ", 0) == 0 ? print::paint(line, print::Style::red) : line;
}

void expect(Bot& bot, int count) {
    for (int i = 0; i < count; ++i)
        print::out(trf("  {:<6} sees  {}\n", bot.name, as_screen_line(bot.client.receive(5s))));
}

void say(const std::string& what) {
    print::pause();
    print::out(print::paint(what, print::Style::bold) + "\n");
}

int demo(server::Server& srv, Random& random) {
    std::uint16_t port = srv.local().port;
    auto join = [&](const std::string& name) { return Bot{name, Client("127.0.0.1", port, "/ws", random)}; };

    say(tr("alice connects and logs in"));
    Bot alice = join("alice");
    alice.client.send_text(chat::client_login_json("alice"));
    expect(alice, 2);  // USERS, then her own LOGIN

    say(tr("bob connects and logs in"));
    Bot bob = join("bob");
    bob.client.send_text(chat::client_login_json("bob"));
    expect(bob, 2);
    expect(alice, 1);

    say(tr("a third bot tries the name \"alice\", which is taken, then logs in as carol"));
    Bot carol = join("carol");
    carol.client.send_text(chat::client_login_json("alice"));
    expect(carol, 1);
    carol.client.send_text(chat::client_login_json("carol"));
    expect(carol, 2);
    expect(alice, 1);
    expect(bob, 1);

    say(tr("alice says hello; everyone, alice too, gets the message"));
    alice.client.send_text(chat::client_chat_json("hello, room!"));
    for (Bot* b : {&alice, &bob, &carol}) expect(*b, 1);
    say(tr("bob answers"));
    bob.client.send_text(chat::client_chat_json("hi alice 👋"));
    for (Bot* b : {&alice, &bob, &carol}) expect(*b, 1);

    say(tr("carol leaves (close 1000); the others see her go"));
    auto reply = carol.client.close(1000, "bye");
    print::out(trf("  carol  sees  the server's close reply: {} ({})\n", reply.code, close_code_name(reply.code)));
    expect(alice, 1);
    expect(bob, 1);

    say(tr("the server shuts down (as on Ctrl-C): every client gets close 1001"));
    srv.stop();
    expect(alice, 1);
    expect(bob, 1);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    i18n::choose(argc, argv);  // before any sentence is made, --help's too
    CLI::App app{trs("Lesson 5: a chat room. Serves html/chatroom.html and upgrades /ws on one port;\n"
                 "one thread, an epoll loop, every message to everyone in order. Open it in two tabs.")};
    lesson::Common common;
    lesson::ChatServer chat;
    lesson::add_chat_server_options(app, common, chat);
    lesson::add_output_options(app, common, trs("-v: one line per connection event (connect, LOGIN, CHAT, close); -vv: every frame"));

    return lesson::run(app, argc, argv, [&]() -> int {
        lesson::apply(common);
        lesson::ServerTls tls = lesson::apply_chat_server_options(common, chat);
        server::Options& options = chat.options;
        options.port = common.demo && app.count("--port") == 0 ? 0 : common.port;
        std::uint64_t files = net::raise_open_file_limit();

        apps::ChatRoom room(chat.limits);
        server::Server srv(options, room);
        server::stop_on_signals(srv);
        const std::string_view scheme = tls.page_scheme();
        print::out(fmt::format("listening on {}://{}/\n", scheme, srv.local().str()));
        print::out(tls.story);
        if (!common.demo) {
            print::out(trf("Open {}://{}/?name=alice and {}://{}/?name=bob in two browser tabs.\n"
                                   "(up to about {} clients at once: the open-file limit; Ctrl-C closes every client with 1001)\n",
                                   scheme, srv.local().str(), scheme, srv.local().str(), files > 16 ? files - 16 : files));
            if (options.tls && chat.tls.cert.empty())
                print::out(tr("(a browser warns about a certificate it does not know: accept it for this page, or\n"
                           " start Chromium with --ignore-certificate-errors; lesson 7 says why)\n"));
            srv.run();
            print::out(tr("stopped: every client was sent close 1001 (going away)\n"));
            return 0;
        }
        print::out(tr("Three built-in bots chat through the real server; each line is what a bot's page would show.\n\n"));
        // The server on its own thread; the bots below are its clients.
        Random random(common.seed);
        return lesson::run_beside(srv, [&] { return demo(srv, random); });
    });
}
