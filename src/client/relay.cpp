#include "i18n/i18n.hpp"
#include "client/relay.hpp"

#include "client/client.hpp"

#include <poll.h>

#include <fmt/format.h>

#include "print/frame_diagram.hpp"
#include "print/handshake_print.hpp"
#include "print/print.hpp"
#include "proto/handshake.hpp"
#include "proto/receiver.hpp"
#include "server/html.hpp"

namespace ws::client {
namespace {

using namespace std::chrono_literals;

// The request with its Host line pointed at the upstream server; every other byte as it came.
std::string rewrite_host(std::string_view head, const std::string& host) {
    std::string out;
    bool first = true;
    while (!head.empty()) {
        std::size_t eol = head.find("\r\n");
        std::string_view line = head.substr(0, eol == std::string_view::npos ? head.size() : eol + 2);
        head.remove_prefix(line.size());
        auto colon = line.find(':');
        if (!first && colon != std::string_view::npos && http::iequals(line.substr(0, colon), "Host"))
            out += "Host: " + host + "\r\n";
        else
            out += line;
        first = false;
    }
    return out;
}

// Every value of a header, split at commas.
std::vector<std::string> list_of(const http::Headers& h, std::string_view name) {
    std::vector<std::string> items;
    for (const auto& header : h.headers) {
        if (!http::iequals(header.name, name)) continue;
        std::string_view rest = header.value;
        while (!rest.empty()) {
            auto comma = rest.find(',');
            std::string_view item = http::trim(rest.substr(0, comma));
            if (!item.empty()) items.emplace_back(item);
            if (comma == std::string_view::npos) break;
            rest.remove_prefix(comma + 1);
        }
    }
    return items;
}

// One direction of the traffic: bytes are forwarded as they come, and a copy is taken apart
// for the screen by a receiver that judges them as the endpoint they go to must.
// A relayed message is reassembled only to be shown: past this size it is forwarded unseen, so
// a thousand connections cannot make the relay hold gigabytes.
constexpr std::size_t kShowLimit = 16u << 20;

class Direction final : public FrameObserver {
public:
    // `deflate`: what permessage-deflate agreed, if it was: this direction's messages are then
    // inflated for the screen (a copy; the bytes forwarded are the compressed ones).
    Direction(int number, bool to_server, int verbose, const std::optional<ext::DeflateParams>& deflate)
        : number_(number), to_server_(to_server), verbose_(verbose),
          receiver_(to_server ? Role::server : Role::client, ReceiverLimits{kShowLimit}) {
        if (verbose_ > 0) receiver_.observer = this;
        receiver_.rsv1_allowed = deflate.has_value();
        if (deflate)
            inflater_ = std::make_unique<Inflater>(
                to_server ? deflate->client_no_context_takeover : deflate->server_no_context_takeover,
                std::max(9, to_server ? deflate->client_max_window_bits : deflate->server_max_window_bits));
    }

    void show(std::string_view bytes) {
        if (broken_) return;
        pending_.append(bytes);
        std::size_t done = 0;  // bytes taken apart; erased once at the end, not frame by frame
        for (;;) {
            std::size_t consumed = 0;
            auto rest = std::span(reinterpret_cast<std::uint8_t*>(pending_.data()) + done, pending_.size() - done);
            Event e = receiver_.next(rest, consumed);
            done += consumed;
            if (e.kind == Event::Kind::message && e.compressed) e = inflate(e);
            if (std::string line = describe(e); !line.empty()) print::out(line);
            if (e.kind == Event::Kind::need_more) break;
            if (e.kind == Event::Kind::fail) {
                broken_ = true;
                pending_.clear();
                return;
            }
        }
        pending_.erase(0, done);
    }

    // The peer of this direction ended its side: was it in the middle of something?
    bool mid_frame() const { return !broken_ && (!pending_.empty() || receiver_.frame_in_progress()); }
    bool saw_close() const { return saw_close_; }
    std::string_view arrow() const { return to_server_ ? "→" : "←"; }

    void on_frame(const FrameHeader& h, std::string_view header_bytes, std::string_view payload, bool) override {
        print::out(print::frame_log(fmt::format("#{}", number_), h, header_bytes, payload, !to_server_, verbose_ >= 2));
    }

private:
    // The message as the endpoint it goes to sees it: inflated, its UTF-8 checked (RFC 7692).
    Event inflate(Event e) {
        inflated_.clear();
        Inflater::Status status = inflater_->inflate(e.payload, inflated_, kShowLimit);
        FrameError error = status == Inflater::Status::too_big ? FrameError::inflated_too_big
                           : status == Inflater::Status::corrupt ? FrameError::not_deflate
                           : e.type == Opcode::text && !is_valid_utf8(inflated_) ? FrameError::text_not_utf8
                                                                                   : FrameError::none;
        if (error != FrameError::none) {
            Event failed;
            failed.kind = Event::Kind::fail;
            failed.error = error == FrameError::inflated_too_big ? FrameError::message_too_big : error;
            failed.code = close_code_for(error);
            failed.reason = ws::describe(error);
            return failed;
        }
        if (verbose_ > 0) print::out(print::inflated_log(fmt::format("#{}", number_), e.payload, inflated_, !to_server_, verbose_ >= 2));
        e.payload = inflated_;
        return e;
    }

    std::string describe(const Event& e) {
        std::string who = to_server_ ? tr("the client") : tr("the server");
        switch (e.kind) {
            case Event::Kind::need_more: return "";
            case Event::Kind::message:
                if (verbose_ > 0) return "";  // each frame was shown already
                return fmt::format("#{} {} {}{} {}\n", number_, arrow(), e.type == Opcode::text ? "text" : "binary",
                                   e.compressed ? tr(" (came compressed)") : "",
                                   e.type == Opcode::text ? print::printable(e.payload, 60)
                                                          : fmt::format("{} B: {}", e.payload.size(),
                                                                        print::hex(e.payload.substr(0, 16))));
            case Event::Kind::ping:
            case Event::Kind::pong:
                if (verbose_ > 0) return "";
                return fmt::format("#{} {} {} {}\n", number_, arrow(), e.kind == Event::Kind::ping ? "ping" : "pong",
                                   print::printable(e.payload, 40));
            case Event::Kind::close:
                saw_close_ = true;
                if (verbose_ > 0) return "";  // its frame line says it all
                return fmt::format("#{} {} close {} ({}){}{}\n", number_, arrow(), e.code, close_code_name(e.code),
                                   e.reason.empty() ? "" : " ", e.reason.empty() ? "" : print::printable(e.reason, 40));
            case Event::Kind::fail:
                if (e.error == FrameError::message_too_big)  // the relay's own limit, not a broken rule
                    return print::paint(trf("#{} {} a message over {} MiB: forwarded, but from here on not "
                                                    "taken apart (the relay keeps at most that much to show)\n",
                                                    number_, arrow(), kShowLimit >> 20),
                                        print::Style::dim);
                return print::paint(trf("#{} {} {} broke a rule: {} ({}): {} must fail the connection "
                                                "with {}.\n   Forwarded anyway; from here on not taken apart.\n",
                                                number_, arrow(), who, tr(ws::describe(e.error)), name(e.error),
                                                to_server_ ? tr("a server") : tr("a client"), e.code),
                                    print::Style::red);
        }
        return "";
    }

    int number_;
    bool to_server_;
    int verbose_;
    Receiver receiver_;
    std::unique_ptr<Inflater> inflater_;
    std::string inflated_;
    std::string pending_;
    bool broken_ = false;
    bool saw_close_ = false;
};

// What permessage-deflate agreed, read from an answer the client accepted.
std::optional<ext::DeflateParams> agreed_deflate(const handshake::ClientResult& checks) {
    if (!checks.ok() || !checks.extensions) return std::nullopt;
    for (const ext::Offer& answer : ext::parse(*checks.extensions).offers) {
        std::string error;
        if (http::iequals(answer.name, "permessage-deflate")) return ext::accept_answer(answer, {}, error);
    }
    return std::nullopt;
}

// Reads a head (request or response) within the deadline; returns false when none arrived.
template <class Parser, class Result>
bool read_head(net::Transport& t, Parser& parser, std::string& received, Result& r, net::Deadline deadline,
               server::ThreadedServer& server) {
    char chunk[4096];
    while ((r = parser.parse(received)).status == http::ParseStatus::need_more) {
        std::size_t n = 0;
        auto status = net::read_some(t, chunk, sizeof chunk, n, std::min(deadline, net::after(100ms)));
        if (status == net::IoStatus::ok) {
            received.append(chunk, n);
            continue;
        }
        if (status != net::IoStatus::timeout || net::Clock::now() >= deadline || server.stopping()) return false;
    }
    return true;
}

// What the relay forwards after the heads: frames to take apart, or HTTP to pass on.
enum class Traffic { plain_http, refused_upgrade, frames };

// Forwards both ways until both sides are done, showing every frame.
// `head` (the response) goes to the client first, as it is; frames are only taken apart when
// the server switched to WebSocket, and plain HTTP passes without a word.
void pump(server::ThreadedServer& server, const RelayOptions& o, net::Transport& client, net::Transport& upstream,
          int number, Traffic traffic, const std::optional<ext::DeflateParams>& deflate, std::string_view head,
          std::string_view to_server,
          std::string_view to_client) {
    Direction up(number, true, o.verbose, deflate), down(number, false, o.verbose, deflate);
    auto forward = [&](std::string_view bytes, net::Transport& to, Direction& d) {
        if (traffic == Traffic::frames) d.show(bytes);
        return net::write_all(to, bytes, net::after(10s)) == net::IoStatus::ok;
    };
    if (net::write_all(client, head, net::after(10s)) != net::IoStatus::ok) return;
    if (!to_server.empty() && !forward(to_server, upstream, up)) return;
    if (!to_client.empty() && !forward(to_client, client, down)) return;
    bool client_open = true, upstream_open = true;
    constexpr std::chrono::seconds kLinger{10};
    auto linger_until = net::Clock::time_point::max();
    char chunk[64 * 1024];
    while ((client_open || upstream_open) && !server.stopping()) {
        // A side that ended is left out (poll reports POLLHUP even for no events): and once one
        // side has ended, the other gets a while to end too, not forever.
        if ((!client_open || !upstream_open) && net::Clock::now() >= linger_until) {
            print::out(trf("#{} {} did not end its side in {} s after the other did: closing it\n", number,
                                   client_open ? tr("the client") : tr("the server"), kLinger.count()));
            return;
        }
        pollfd fds[2] = {{client_open ? client.fd() : -1, POLLIN, 0}, {upstream_open ? upstream.fd() : -1, POLLIN, 0}};
        // Bytes OpenSSL already decrypted wake no poll: take them first.
        bool held = (client_open && client.has_pending()) || (upstream_open && upstream.has_pending());
        if (held) {
            fds[0].revents = client_open && client.has_pending() ? POLLIN : 0;
            fds[1].revents = upstream_open && upstream.has_pending() ? POLLIN : 0;
        } else if (::poll(fds, 2, 100) <= 0) {
            continue;
        }
        for (int side = 0; side < 2; ++side) {
            if (!fds[side].revents) continue;
            net::Transport& from = side == 0 ? client : upstream;
            net::Transport& to = side == 0 ? upstream : client;
            Direction& d = side == 0 ? up : down;
            std::size_t n = 0;
            auto status = net::read_some(from, chunk, sizeof chunk, n, net::after(0ms));
            if (status == net::IoStatus::timeout) continue;
            if (status == net::IoStatus::ok) {
                if (!forward({chunk, n}, to, d)) {
                    print::out(trf("#{} {} is gone; closing the other side too\n", number,
                                           side == 0 ? tr("the server") : tr("the client")));
                    return;
                }
                continue;
            }
            std::string who = side == 0 ? tr("the client") : tr("the server");
            if (traffic == Traffic::plain_http) {
                to.shutdown_write();
                (side == 0 ? client_open : upstream_open) = false;
                linger_until = net::Clock::now() + kLinger;
                continue;
            }
            if (d.mid_frame()) {
                print::out(print::paint(trf("#{} {} dropped the connection in the middle of a frame; "
                                                    "closing the other side\n", number, who), print::Style::red));
                return;
            }
            print::out(trf("#{} {} closed TCP{}\n", number, who,
                                   d.saw_close() || traffic != Traffic::frames
                                       ? ""
                                       : tr(" without a close frame (the other side will see 1006)")));
            // Pass the end on: the other side sees the same FIN.
            to.shutdown_write();
            (side == 0 ? client_open : upstream_open) = false;
            linger_until = net::Clock::now() + kLinger;
        }
    }
}

}  // namespace

void relay(server::ThreadedServer& server, const RelayOptions& o, net::Transport client, const net::Endpoint& peer,
           int number) {
    http::RequestParser request_parser(o.limits);
    std::string received;
    http::ParseResult request;
    if (!read_head(client, request_parser, received, request, net::after(o.handshake_timeout), server)) return;
    // Many connections print at once: each part of a story goes out in one piece.
    const std::string heading =
        print::heading(trf("#{} from {}: the client's request, for {}", number, peer.str(), o.upstream.str()));
    if (request.status == http::ParseStatus::error) {
        print::out(heading + trf("{} not an HTTP request: {} ({})\n", print::check_mark(false),
                                         tr(http::describe(request.error)), request.shown));
        net::write_all(client, html::response(400, "the relay could not parse this request\n"), net::after(2s));
        return;
    }
    std::string head = rewrite_host(std::string_view(received).substr(0, request.consumed), o.upstream.host_header());
    // A page, a script, a favicon: plain HTTP passes through with one line, judged by nobody.
    const bool upgrade = handshake::wants_websocket(request.request);
    if (upgrade) {
        print::out(heading + print::head_text(head, o.verbose > 0) +
                   print::paint(tr("(Host rewritten for the server; every other byte forwarded as it came)\n"),
                                print::Style::dim) +
                   print::server_checks(handshake::check_request(request.request)));
    }

    net::Transport upstream;
    try {
        ClientOptions dial_options;
        dial_options.connect_timeout = o.connect_timeout;
        dial_options.tls = o.upstream_tls;
        upstream = dial(o.upstream.host, o.upstream.port, o.upstream.secure(), dial_options);
    } catch (const std::exception& e) {
        print::out(fmt::format("#{} {} {}\n", number, print::check_mark(false), e.what()));
        net::write_all(client, html::response(502, fmt::format("the relay could not reach {}\n", o.upstream.str())),
                       net::after(2s));
        return;
    }
    if (net::write_all(upstream, head, net::after(10s)) != net::IoStatus::ok) return;

    http::ResponseParser response_parser(o.limits);
    std::string answer;
    http::ResponseParseResult response;
    if (!read_head(upstream, response_parser, answer, response, net::after(o.handshake_timeout), server)) {
        print::out(trf("#{} {} the server gave no complete answer in time; closing both\n", number,
                               print::check_mark(false)));
        return;
    }
    if (!upgrade) {
        std::string status = response.status == http::ParseStatus::error
                                 ? tr("not an HTTP response") : fmt::format("{} {}", response.response.status, response.response.reason);
        print::out(trf("#{} from {}: {} {} → {}  (plain HTTP, not an upgrade: forwarded as it is)\n", number,
                               peer.str(), request.request.method, print::fit(request.request.target, 40),
                               status));
        pump(server, o, client, upstream, number, Traffic::plain_http, std::nullopt, "", received.substr(request.consumed),
             answer);
        return;
    }
    std::string story = print::heading(trf("#{}: the server's response", number));
    if (response.status == http::ParseStatus::error) {
        story += trf("{} not an HTTP response: {}; forwarded as it is\n", print::check_mark(false),
                             tr(http::describe(response.error)));
        print::out(story);
        pump(server, o, client, upstream, number, Traffic::refused_upgrade, std::nullopt, answer, received.substr(request.consumed), "");
        return;
    }
    story += print::head_text(std::string_view(answer).substr(0, response.consumed), o.verbose > 0);
    // The response judged as the client must judge it: against what the client offered.
    handshake::ClientOffer offer;
    if (const http::Header* key = request.request.find("Sec-WebSocket-Key")) offer.key = key->value;
    offer.protocols = list_of(request.request, "Sec-WebSocket-Protocol");
    for (const auto& h : request.request.headers)
        if (http::iequals(h.name, "Sec-WebSocket-Extensions")) offer.extensions.push_back(h.value);
    handshake::ClientResult checks = handshake::check_response(response.response, offer);
    story += print::client_checks(checks);
    // permessage-deflate (RFC 7692) marks compressed messages with RSV1: then RSV1 is no error,
    // and the relay inflates a copy of each to show it.
    std::optional<ext::DeflateParams> deflate = agreed_deflate(checks);
    if (deflate)
        story += print::paint(tr("permessage-deflate was agreed: compressed messages (RSV1) are forwarded as they are and "
                              "shown inflated\n"), print::Style::dim);
    print::out(story);
    bool switched = response.response.status == 101;
    if (!switched) print::out(trf("#{} the server did not switch protocols: the rest is forwarded as it is\n", number));
    std::string_view rest = std::string_view(answer).substr(response.consumed);
    pump(server, o, client, upstream, number, switched ? Traffic::frames : Traffic::refused_upgrade, deflate, std::string_view(answer).substr(0, response.consumed),
         received.substr(request.consumed), rest);
}

}  // namespace ws::client
