#include "i18n/i18n.hpp"
#include "server/handshake_lesson.hpp"

#include <fmt/format.h>

#include "client/blocking_session.hpp"
#include "print/handshake_print.hpp"
#include "print/print.hpp"
#include "proto/handshake.hpp"
#include "server/html.hpp"

namespace ws::server {
namespace {

using namespace std::chrono_literals;

std::string seconds(std::chrono::milliseconds ms) { return fmt::format("{:g}", static_cast<double>(ms.count()) / 1000); }

// After a 101 the connection speaks frames. Lesson 4 takes them apart; here we only say what
// arrives. The session answers pings and closes; we say so first, then send.
void hold_open(ThreadedServer& server, net::Transport transport, int number, std::string leftover) {
    BlockingSession ws(std::move(transport), Role::server, {}, nullptr, std::move(leftover));
    ws.auto_flush = false;
    for (;;) {
        // Checked between reads, so a client that never stops sending cannot keep the lesson
        // from stopping.
        if (server.stopping()) {
            print::out(trf("#{} the server stops: sending close 1001 (going away)\n", number));
            ws.close(1001, "server shutting down", 2s);
            return;
        }
        Received m = ws.receive(100ms);
        switch (m.kind) {
            case Event::Kind::message:
                print::out(trf("#{} received a {} message: {} (lesson 4 takes frames apart)\n", number,
                                       opcode_name(static_cast<std::uint8_t>(m.type)), print::printable(m.payload, 40)));
                break;
            case Event::Kind::ping:
                ws.flush();
                break;
            case Event::Kind::close:
                if (m.code == static_cast<std::uint16_t>(CloseCode::abnormal)) {
                    print::out(trf("#{} the client went away without a close frame\n", number));
                    return;
                }
                print::out(trf("#{} the client closed with {} ({}); answering with a close frame\n", number,
                                       m.code, close_code_name(m.code)));
                ws.finish();
                return;
            case Event::Kind::fail:
                print::out(trf("#{} the client broke a rule: {}; closing with {} ({})\n", number, m.reason,
                                       m.code, close_code_name(m.code)));
                ws.finish();
                return;
            default:
                break;
        }
    }
}

// After a wrong answer: what does the client do with it? Frames mean it accepted it; a closed
// connection means it did not; silence means it is still waiting for the rest.
void watch(ThreadedServer& server, const HandshakeLesson& lesson, net::Transport transport, int number,
           std::string already) {
    auto deadline = net::after(lesson.watch_time);
    char chunk[4096];
    while (!server.stopping()) {
        std::size_t n = 0;
        auto status = already.empty()
                          ? net::read_some(transport, chunk, sizeof chunk, n, std::min(deadline, net::after(100ms)))
                          : net::IoStatus::ok;
        if (status == net::IoStatus::ok) {
            already.append(chunk, n);
            std::string why = lesson.mistake == Mistake::lf_only
                                  ? tr("\n   (Chromium reads lines that end in LF alone; Python websockets refuses them, "
                                    "as RFC 9112 allows)") : "";
            print::out(trf("#{} frames arrive after the wrong answer: this client accepted it.{}\n", number, why));
            hold_open(server, std::move(transport), number, std::move(already));
            return;
        }
        if (status != net::IoStatus::timeout) {
            print::out(trf("#{} the client closed the connection without sending a frame: "
                                   "it did not accept the answer\n", number));
            return;
        }
        if (net::Clock::now() >= deadline) {
            print::out(trf("#{} no frame and no goodbye in {} s: the client still waits for the rest of the\n"
                                   "   answer (a browser stays in CONNECTING). Hanging up.\n",
                                   number, seconds(lesson.watch_time)));
            return;
        }
    }
}

std::string mistake_note(Mistake mistake, std::string_view response, std::string_view key) {
    switch (mistake) {
        case Mistake::none:
            return print::paint(tr("↑ the empty line (␍␊) ends the head: forget it and the client waits for the rest\n"
                                "  (try --mistake no-blank-line)\n"), print::Style::dim);
        case Mistake::lf_only:
            return print::paint(tr("↑ every line ends in ␊ alone, as the original blog's template string did: no ␍\n"),
                                print::Style::yellow);
        case Mistake::no_blank_line:
            return print::paint(tr("↑ no empty line: nothing tells the client that the head has ended\n"), print::Style::yellow);
        case Mistake::bad_accept: {
            auto at = response.find("Sec-WebSocket-Accept: ") + 22;
            std::string sent(response.substr(at, 28));
            return trf("  sent      {}  SHA-1 of the key alone\n  expected  {}  SHA-1 of the key + GUID\n",
                               print::paint(sent, print::Style::red),
                               print::paint(handshake::accept_key(key), print::Style::green));
        }
    }
    return "";
}

}  // namespace

Mistake mistake_from(std::string_view name) {
    if (name == "lf-only") return Mistake::lf_only;
    if (name == "no-blank-line") return Mistake::no_blank_line;
    if (name == "bad-accept") return Mistake::bad_accept;
    return Mistake::none;
}

std::string with_mistake(std::string response, Mistake mistake, std::string_view key) {
    switch (mistake) {
        case Mistake::none: return response;
        case Mistake::lf_only: std::erase(response, '\r'); return response;
        case Mistake::no_blank_line: return response.substr(0, response.size() - 2);
        case Mistake::bad_accept: {
            // SHA-1 of the key alone, without the GUID: looks right, is wrong.
            std::string wrong = handshake::base64_encode(handshake::sha1(key));
            auto at = response.find("Sec-WebSocket-Accept: ") + 22;
            return response.replace(at, 28, wrong);
        }
    }
    return response;
}

void tell_handshake(ThreadedServer& server, const HandshakeLesson& lesson, net::Transport transport,
                    const net::Endpoint& peer, int number) {
    // Read until the parser has a whole request head, however many reads that takes.
    http::RequestParser parser(lesson.limits);
    std::string received;
    http::ParseResult r;
    auto deadline = net::after(lesson.request_timeout);
    char chunk[4096];
    while ((r = parser.parse(received)).status == http::ParseResult::Status::need_more) {
        std::size_t n = 0;
        auto status = net::read_some(transport, chunk, sizeof chunk, n, std::min(deadline, net::after(100ms)));
        if (status == net::IoStatus::ok) {
            received.append(chunk, n);
            continue;
        }
        if (status == net::IoStatus::timeout && net::Clock::now() < deadline && !server.stopping()) continue;
        if (received.empty()) return;  // nothing sent: browsers open spare connections and close them
        if (status == net::IoStatus::timeout && !server.stopping()) {
            print::out(trf("#{} no complete request in {} s ({} bytes so far): answering 408 Request Timeout.\n"
                                   "   Typing a request by hand? Give yourself time: --request-timeout 300\n",
                                   number, seconds(lesson.request_timeout), received.size()));
            net::write_all(transport, html::response(408, "no complete request in time\n"), net::after(1s));
        } else if (status != net::IoStatus::timeout) {
            print::out(trf("#{} the client left in the middle of its request ({} bytes)\n", number, received.size()));
        }
        return;
    }

    std::string story = print::heading(trf("connection #{} from {}: request", number, peer.str()));
    if (r.status == http::ParseResult::Status::error) {
        story += trf("{} cannot parse the request: {} ({})\n{}", print::check_mark(false), tr(http::describe(r.error)),
                             r.shown, print::hexdump(received, 256));
        print::out(story);
        net::write_all(transport, html::response(400, fmt::format("{}: {}\n", http::describe(r.error), r.detail)), net::after(2s));
        return;
    }
    std::string_view head = std::string_view(received).substr(0, r.consumed);
    story += print::head_text(head, lesson.verbose > 0);
    if (lesson.verbose > 1) story += print::hexdump(head);
    print::out(story + print::request_table(r.request));

    if (!handshake::wants_websocket(r.request)) {
        html::Page page = html::find(r.request.target, "handshake.html", lesson.html_dir);
        print::out(trf("A plain HTTP request (no Upgrade header): answering {} {} with {} bytes of {}\n",
                               page.status, html::status_text(page.status), page.body.size(), page.content_type));
        net::write_all(transport, html::response(page, r.request.method == "HEAD"), net::after(5s));
        return;
    }
    print::pause();

    handshake::Result result = handshake::check_request(r.request);
    story = print::server_checks(result);
    std::string response;
    const http::Header* key = r.request.find("Sec-WebSocket-Key");
    if (result.ok()) {
        story += trf("Accept key: SHA-1(key + {}), in base64\n            {}\n", handshake::kGuid,
                             print::paint(result.accept, print::Style::green));
        response = with_mistake(handshake::response_101(result), lesson.mistake, key->value);
    } else {
        response = handshake::response_refusal(result);
    }
    print::out(story);
    print::pause();

    bool mistaken = result.ok() && lesson.mistake != Mistake::none;
    story = print::heading(mistaken ? trf("connection #{}: response, with a mistake made on purpose", number)
                                    : trf("connection #{}: response", number));
    story += print::head_text(response, true);
    if (result.ok()) story += mistake_note(lesson.mistake, response, key->value);
    if (lesson.verbose > 0) story += print::hexdump(response);
    if (result.ok() && !mistaken)
        story += trf("#{} sending it: the browser fires onopen when it arrives. From here on, both sides "
                             "send frames.\n", number);
    print::out(story);
    if (net::write_all(transport, response, net::after(5s)) != net::IoStatus::ok) return;

    std::string after_head = received.substr(r.consumed);
    if (!result.ok()) return;
    if (!mistaken) {
        hold_open(server, std::move(transport), number, std::move(after_head));
        return;
    }
    watch(server, lesson, std::move(transport), number, std::move(after_head));
}

}  // namespace ws::server
