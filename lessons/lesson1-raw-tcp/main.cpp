// Lesson 1: a WebSocket starts life as a plain TCP connection carrying a plain HTTP request.
// This server accepts connections and prints every byte it receives; it never answers.
// The new code for this lesson is in src/net/socket.cpp (listen, accept, read with a deadline).
#include <chrono>
#include <thread>

#include <fmt/format.h>

#include "net/transport.hpp"
#include "i18n/i18n.hpp"
#include "print/print.hpp"
#include "proto/handshake.hpp"
#include "proto/http.hpp"
#include "server/lesson_cli.hpp"
#include "proto/random.hpp"
#include "server/threaded_server.hpp"

using namespace ws;
using namespace std::chrono_literals;

namespace {

std::string explanation(std::string_view received) {
    bool upgrade = received.find("Upgrade: websocket") != std::string_view::npos ||
                   received.find("upgrade: websocket") != std::string_view::npos;
    if (!upgrade)
        return std::string(tr("What you are looking at: an ordinary HTTP request, a browser asking for a page. This\n"
               "lesson never answers, so the page will not load; lesson 2 serves html/handshake.html.\n"));
    return std::string(tr("What you are looking at: an ordinary HTTP request. \"Upgrade: websocket\" asks to switch\n"
           "protocols; the Sec-WebSocket-* headers say how. The empty line (␍␊␍␊) ends the request.\n"
           "This lesson never answers: the page stays in CONNECTING (readyState 0) until the lesson\n"
           "hangs up, then fires error and close (code 1006, \"abnormal closure\": no close frame).\n"));
}

// Reads whatever arrives and prints it, read by read: one read() is not one message.
void session(server::ThreadedServer& server, net::Transport fd, const net::Endpoint& peer, int number,
             std::chrono::milliseconds hang_up_after, std::size_t max_bytes, int verbose) {
    print::out(print::heading(trf("connection #{} from {}", number, peer.str())));
    std::string received;
    int reads = 0;
    bool explained = false;
    auto started = net::Clock::now();
    auto idle_since = started;
    char buffer[16 * 1024];
    for (;;) {
        std::size_t n = 0;
        auto status = net::read_some(fd, buffer, sizeof buffer, n, net::after(100ms));
        if (status == net::IoStatus::ok) {
            ++reads;
            received.append(buffer, n);
            idle_since = net::Clock::now();
            // -v: every byte of every read, and when it came; without it a long read is cut.
            std::string when = verbose > 0 ? trf(" at +{} ms", std::chrono::duration_cast<std::chrono::milliseconds>(
                                                                           net::Clock::now() - started).count())
                                           : "";
            print::out(trf("#{} read {}: {} bytes{}\n{}", number, reads, n, when,
                                   print::hexdump({buffer, n}, verbose > 0 ? SIZE_MAX : 1024)));
            // The empty line ends the head, however many reads it took (exercise 1 writes this).
            if (!explained && http::head_length(received) > 0) {
                print::pause();
                print::out(explanation(received));
                explained = true;
            }
            if (received.size() > max_bytes) {
                print::out(trf("#{} hanging up: more than {} bytes (--max-bytes)\n", number, max_bytes));
                return;
            }
            continue;
        }
        if (status == net::IoStatus::eof || status == net::IoStatus::error) {
            print::out(trf("#{} the client closed the connection ({} bytes in {} reads)\n", number,
                                   received.size(), reads));
            return;
        }
        // A timeout: nothing new. Hang up after a while, or when asked to stop.
        if (server.stopping() || net::Clock::now() - idle_since >= hang_up_after) {
            print::out(trf("#{} hanging up after {} ms of silence, without a reply ({} bytes in {} reads)\n",
                                   number, hang_up_after.count(), received.size(), reads));
            return;  // the Fd's destructor closes the socket: the client sees the connection end
        }
    }
}

// The built-in "browser": sends Chrome's upgrade request in two writes, then waits for a reply
// that never comes.
void demo_client(std::uint16_t port, Random& random) {
    net::Transport fd(net::connect_to("127.0.0.1", port));
    std::string request = handshake::browser_request(fmt::format("127.0.0.1:{}", port), "/",
                                                     handshake::client_key(random.nonce()));
    // Two writes with a pause: the server sees two reads. TCP delivers a stream of bytes, not
    // messages; a server must keep reading until the empty line.
    std::size_t half = request.size() / 2;
    net::write_all(fd, std::string_view(request).substr(0, half), net::after(2s));
    std::this_thread::sleep_for(100ms);
    print::pause();
    net::write_all(fd, std::string_view(request).substr(half), net::after(2s));

    char buffer[256];
    std::size_t n = 0;
    auto status = net::read_some(fd, buffer, sizeof buffer, n, net::after(5s));
    print::pause();
    print::out(trf(
        "\nclient: {}\n",
        status == net::IoStatus::eof ? tr("the connection ended and not one byte came back. A browser would now fire\n"
                                       "        onerror, then onclose with code 1006. Lesson 2 sends the answer.") : tr("unexpected: the server answered or did not hang up")));
}

}  // namespace

int main(int argc, char** argv) {
    i18n::choose(argc, argv);  // before any sentence is made, --help's too
    CLI::App app{trs("Lesson 1: a WebSocket connection is a TCP connection first.\n"
                 "Accepts connections and prints every byte received, as hex and text; never answers.")};
    lesson::Common common;
    int hang_up_seconds = 10;
    std::size_t max_bytes = 64 * 1024;
    lesson::add_server_options(app, common);
    app.add_option("--hang-up-after", hang_up_seconds, trs("seconds of silence before the lesson hangs up"))
        ->check(CLI::Range(1, 3600))
        ->capture_default_str();
    app.add_option("--max-bytes", max_bytes, trs("bytes to print from one connection before hanging up"))->capture_default_str();
    lesson::TlsFlags tls_flags;
    lesson::add_tls_options(app, tls_flags);
    lesson::add_output_options(app, common, trs("-v: every byte of long reads too, and when each read came"));

    return lesson::run(app, argc, argv, [&] {
        lesson::apply(common);
        // The demo picks a free port unless one is given, so it runs beside a lesson in use.
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
        auto hang_up = std::chrono::milliseconds(common.demo ? 1000 : hang_up_seconds * 1000);

        auto serve = [&](net::Transport fd, net::Endpoint peer, int number) {
            session(server, std::move(fd), peer, number, hang_up, max_bytes, common.verbose);
        };
        if (!common.demo) {
            if (tls.context)
                print::out(trf("Point a wss:// client at wss://{}/ (e.g. lesson6-client with --ca): what\n"
                                       "arrives is shown decrypted, as the server's code sees it.\n\n", local.str()));
            else
                print::out(trf("Open html/handshake.html in a browser (it connects to ws://127.0.0.1:8080),\n"
                                       "or run: lesson1-raw-tcp --demo\n\n"));
            server.run(serve);
            return 0;
        }
        print::out(tr("The built-in client sends the request a browser sends for new WebSocket(\"ws://…/\").\n\n"));
        Random random(common.seed);
        return server.run_demo(serve, 1, [&] { demo_client(local.port, random); });
    });
}
