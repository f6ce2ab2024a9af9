// Lesson 8: permessage-deflate (RFC 7692). The extension's offer and answer, the RFC's own
// compressed bytes made here by zlib (and checked against the RFC's), RSV1 on a message's first
// frame only, what context takeover buys and costs, and a live connection that compresses.
// `decode --deflate HEX` takes frames apart and inflates them; `serve` is the chat room with
// compression, whose -vv shows every message compressed and inflated side by side.
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "apps/chat_room.hpp"
#include "apps/echo.hpp"
#include "client/client.hpp"
#include "print/frame_diagram.hpp"
#include "print/handshake_print.hpp"
#include "i18n/i18n.hpp"
#include "print/print.hpp"
#include "proto/chat.hpp"
#include "proto/deflate.hpp"
#include "proto/extensions.hpp"
#include "proto/session.hpp"
#include "server/lesson_cli.hpp"
#include "server/ws_server.hpp"

using namespace ws;

namespace {

std::string hex_of(std::initializer_list<int> list) {
    std::string s;
    for (int b : list) s += static_cast<char>(b);
    return s;
}

// "✓ the RFC's bytes" or "✗ the RFC says ...": zlib's output held to RFC 7692 §7.2.3.
std::string against_rfc(std::string_view made, std::string_view rfc) {
    return made == rfc ? trf("  {} byte for byte what RFC 7692 prints\n", print::check_mark(true))
                       : trf("  {} the RFC prints {}\n", print::check_mark(false), print::hex(rfc));
}

// Frames as a receiver with permessage-deflate takes them: each frame, then each message.
class Shown final : public FrameObserver {
public:
    explicit Shown(bool diagram) : diagram_(diagram) {}
    void on_frame(const FrameHeader& h, std::string_view header_bytes, std::string_view payload, bool incoming) override {
        print::out(print::frame_log(" ", h, header_bytes, payload, incoming, diagram_));
    }
    void on_inflated(std::string_view compressed, std::string_view message, bool incoming) override {
        print::out(print::inflated_log(" ", compressed, message, incoming, true));
    }

private:
    bool diagram_;
};

// Feeds `bytes` to `s` and prints each event; returns the last one's kind.
Event::Kind show_events(Session& s, std::string bytes) {
    Event::Kind last = Event::Kind::need_more;
    std::size_t used = s.feed(std::span(reinterpret_cast<std::uint8_t*>(bytes.data()), bytes.size()), [&](const Event& e) {
        last = e.kind;
        if (e.kind == Event::Kind::message)
            print::out(trf("  message: {} {}{}\n", e.type == Opcode::text ? "text" : "binary",
                                   e.type == Opcode::text ? print::printable(e.payload, 50) : print::hex(e.payload.substr(0, 16)),
                                   e.compressed ? tr("  (it came compressed)") : ""));
        if (e.kind == Event::Kind::fail)
            print::out(trf("  {} {} ({})\n    the connection fails with close {} ({})\n", print::check_mark(false),
                                   tr(describe(e.error)), name(e.error), e.code, close_code_name(e.code)));
    });
    if (used < bytes.size() && s.state() != Session::State::closed)
        print::out(bytes.size() - used == 1 ? tr("  1 byte left over: an incomplete frame\n")
                                            : trf("  {} bytes left over: an incomplete frame\n", bytes.size() - used));
    return last;
}

ext::DeflateConfig server_defaults() { return server::Options{}.deflate; }

void part_offer() {
    print::part(tr("the offer and the answer (RFC 7692 §5, §7.1)"));
    std::string_view chrome = "permessage-deflate; client_max_window_bits";
    print::out(trf("Every browser's upgrade request offers compression (lesson 2 showed the header):\n"
                           "  Sec-WebSocket-Extensions: {}\n", chrome));
    print::out(print::table({
        {"server_no_context_takeover", tr("the server resets its compressor after each message")},
        {"client_no_context_takeover", tr("the client does the same (the server may ask it to)")},
        {"server_max_window_bits=N", tr("the server's window is at most 2^N bytes (N 8-15)")},
        {"client_max_window_bits[=N]", tr("the same for the client; bare: \"I can take a limit\"")},
    }));
    auto answer = [](std::string_view offer, const ext::DeflateConfig& config) {
        std::string why;
        auto agreed = ext::negotiate(ext::parse(offer).offers, config, &why);
        return agreed ? agreed->response : fmt::format("({})", why);
    };
    ext::DeflateConfig takeover = server_defaults();
    takeover.no_context_takeover = takeover.ask_peer_no_context_takeover = false;
    print::out(trf("This project's servers answer, by default:\n  {}\nand with --deflate-takeover:\n  {}\n",
                           answer(chrome, server_defaults()), answer(chrome, takeover)));
    print::out(trf("An answer names only what was offered (a server may add client_no_context_takeover).\n"
                           "zlib cannot compress with a 256-byte window, so an offer that insists on 8 bits is\n"
                           "declined and the next offer taken:\n"
                           "  offer   permessage-deflate; server_max_window_bits=8, permessage-deflate\n"
                           "  answer  {}\n",
                           answer("permessage-deflate; server_max_window_bits=8, permessage-deflate", server_defaults())));
}

void part_hello() {
    print::part(tr("\"Hello\", compressed (RFC 7692 §7.2.3.1)"));
    Deflater deflater(15, 8, false);
    std::string first;
    deflater.compress("Hello", first);
    print::out(trf("zlib, raw DEFLATE, then a sync flush: {} 00 00 ff ff\n"
                           "A sync flush always ends with that empty block: the sender removes it (§7.2.1) and the\n"
                           "receiver puts it back before inflating (§7.2.2). What remains is the payload:\n  {}\n",
                           print::hex(first), print::hex(first)));
    print::out(against_rfc(first, hex_of({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00})));
    Session server(Role::server);
    server.use_deflate(std::make_unique<MessageDeflate>(
        Role::server, ext::DeflateParams{}, ext::DeflateConfig{}, nullptr));
    server.send(Opcode::text, "Hello");
    std::string frame(server.output());
    print::out(trf("The frame a server sends: {}\n", print::hex(frame)));
    print::out(print::frame_diagram(header_of(frame), std::string_view(frame).substr(0, 2)));
    print::out(against_rfc(frame, hex_of({0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00})));
    print::out(tr("c1 = FIN, RSV1 (\"this message is compressed\"), text. The payload length is the compressed\n"
               "length: 7 bytes on the wire for a 5-byte message (a message this short does not shrink).\n"));

    print::part(tr("the second \"Hello\": context takeover (RFC 7692 §7.2.3.2)"));
    std::string second;
    deflater.compress("Hello", second);
    print::out(trf("With the first message still in its window, the compressor says \"5 bytes, from 5 back\":\n"
                           "  {}\n", print::hex(second)));
    print::out(against_rfc(second, hex_of({0xf2, 0x00, 0x11, 0x00, 0x00})));
    Deflater alone(15, 8, true);
    std::string again, again2;
    alone.compress("Hello", again);
    alone.compress("Hello", again2);
    print::out(trf("With no_context_takeover each message starts afresh: the second is the first again\n"
                           "  {}\n", print::hex(again2)));
    std::string chat = chat::client_chat_json("see you at the station at ten");
    Deflater keeps(15, 8, false), resets(15, 8, true);
    std::string line = tr("  the same chat message three times:");
    for (bool takeover : {true, false}) {
        Deflater& d = takeover ? keeps : resets;
        std::string name = takeover ? tr("takeover") : tr("no takeover");
        std::vector<std::size_t> sizes;
        for (int i = 0; i < 3; ++i) {
            std::string out;
            d.compress(chat, out);
            sizes.push_back(out.size());
        }
        line += fmt::format("  {} {}/{}/{} B", name, sizes[0], sizes[1], sizes[2]);
    }
    print::out(trf("{} (of {} B)\n", line, chat.size()));
}

void part_forms() {
    print::part(tr("an uncompressed block, and a compressed message in fragments (§7.2.3.3, §7.2.3.1)"));
    std::string stored = hex_of({0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00});
    Inflater inflater(true);
    std::string out;
    inflater.inflate(stored, out, 1000);
    print::out(trf("DEFLATE may also carry bytes as they are (a stored block):\n  {}\n"
                           "  00 = not final, stored · 05 00 = length 5 · fa ff = its complement · \"Hello\" · 00\n"
                           "  inflates to {}\n",
                           print::hex(stored), print::printable(out)));
    print::out(tr("The compressed payload of one message may be cut into fragments anywhere; RSV1 is set on\n"
               "the first frame only (a client's frames, masked):\n"));
    Random random(8);
    Session client(Role::client, {}, &random);
    client.use_deflate(std::make_unique<MessageDeflate>(Role::client, ext::DeflateParams{}, ext::DeflateConfig{}));
    client.send_in(Opcode::text, "Hello", 2);
    Session server(Role::server);
    server.use_deflate(std::make_unique<MessageDeflate>(Role::server, ext::DeflateParams{}, ext::DeflateConfig{}));
    Shown shown(false);
    server.set_observer(&shown);
    show_events(server, std::string(client.output()));
    print::out(tr("RSV1 on a continuation frame is a broken rule (§6.1): the receiver fails the connection.\n"));
    Session strict(Role::server);
    strict.use_deflate(std::make_unique<MessageDeflate>(Role::server, ext::DeflateParams{}, ext::DeflateConfig{}));
    std::string bad = hex_of({0x41, 0x83, 0, 0, 0, 0, 0xf2, 0x48, 0xcd, 0xc0, 0x84, 0, 0, 0, 0, 0xc9, 0xc9, 0x07, 0x00});
    show_events(strict, bad);
}

void part_bomb() {
    print::part(tr("a decompression bomb (the size limit counts inflated bytes)"));
    Deflater deflater(15, 8, true);
    std::string bomb;
    deflater.compress(std::string(64u << 20, '\0'), bomb);
    print::out(trf("64 MiB of zeros compress to {}: a small frame that would inflate to 64 MiB.\n",
                           print::bytes_size(bomb.size())));
    Session server(Role::server, ReceiverLimits{1u << 20});
    server.use_deflate(std::make_unique<MessageDeflate>(Role::server, ext::DeflateParams{}, ext::DeflateConfig{}));
    std::array<std::uint8_t, 4> key{1, 2, 3, 4};
    std::string frame;
    append_frame(frame, Opcode::binary, bomb, true, &key);
    frame[0] = static_cast<char>(frame[0] | 0x40);
    print::out(tr("A server with --max-message 1048576 inflates it only up to the limit, then:\n"));
    show_events(server, frame);
    print::out(trf("  memory it holds now: {} (never the 64 MiB)\n", print::bytes_size(server.memory())));
}

void part_live(Random& random) {
    print::part(tr("a real connection: lesson 4's echo server, compressing"));
    server::Options options;
    options.port = 0;
    apps::Echo echo;
    server::Server srv(options, echo);
    lesson::run_beside(srv, [&] {
        ClientOptions client_options;
        client_options.deflate.enabled = true;
        Client client("127.0.0.1", srv.local().port, "/", random, client_options);
        print::out(trf("  → Sec-WebSocket-Extensions: {}\n  ← {}\n",
                               ext::client_offer(client_options.deflate), client.checks().extensions.value_or(tr("(none)"))));
        const MessageDeflate* agreed = client.session().deflate();
        if (!agreed) throw std::runtime_error(trs("the echo server did not agree to permessage-deflate"));
        print::out(trf("  agreed: the server resets after each message ({}), the client too ({})\n",
                               agreed->agreed().server_no_context_takeover ? tr("yes") : tr("no"),
                               agreed->agreed().client_no_context_takeover ? tr("yes") : tr("no")));
        Shown shown(false);
        client.session().set_observer(&shown);
        std::string message = chat::client_chat_json("the same words again and again and again, compressed");
        client.send_text(message);
        Received back = client.receive();
        client.session().set_observer(nullptr);
        print::out(trf("  {} the echo came back inflated, the same {} bytes\n",
                               print::check_mark(back.kind == Event::Kind::message && back.payload == message), message.size()));
        Received closed = client.close(1000, "lesson 8 done");
        print::out(trf("  {} closed with {}\n", print::check_mark(closed.code == 1000), closed.code));
        return 0;
    });
}

void part_memory() {
    print::part(tr("what each connection pays"));
    print::out(tr("zlib's memory, measured (a 4 KiB message each way), per connection that keeps its context:\n"));
    std::vector<std::pair<std::string, std::string>> rows;
    std::string message(4096, 'x');
    for (int i = 0; i < 4096; i += 7) message[static_cast<std::size_t>(i)] = static_cast<char>('a' + i % 26);
    for (auto [bits, level] : {std::pair{15, 8}, {12, 5}, {9, 1}}) {
        ext::DeflateParams agreed{.server_max_window_bits = bits, .client_max_window_bits = bits};
        MessageDeflate d(Role::server, agreed, {.max_window_bits = bits, .mem_level = level}, nullptr);
        std::string compressed, back;
        d.compress(message, compressed);
        Deflater peer(bits, level, false);
        std::string from_peer;
        peer.compress(message, from_peer);
        d.inflate(from_peer, back, 1 << 20);
        rows.push_back({trf("window {:2} bits, memLevel {}", bits, level),
                        trf("{} (at most {})", print::bytes_size(d.memory()), print::bytes_size(d.memory_bound()))});
    }
    rows.push_back({tr("no context takeover (the default)"), tr("0 B: the thread's shared streams serve it")});
    print::out(print::table(rows));
    print::out(tr("A thousand connections with context takeover allocate 300 MB; without, nothing while idle; and\n"
               "a broadcast is compressed once for every receiver instead of once per receiver. That is\n"
               "why the servers ask for no_context_takeover by default (make bench measures both).\n"));
}

int demo(Random& random) {
    part_offer();
    part_hello();
    part_forms();
    part_bomb();
    part_live(random);
    part_memory();
    return 0;
}

// decode: frames from hex, judged as their receiver (masked: a server), inflated when --deflate.
int decode(const std::string& bytes, bool deflate, bool no_context_takeover, bool diagram) {
    if (bytes.empty()) throw std::runtime_error(trs("no bytes to decode"));
    bool masked = (static_cast<std::uint8_t>(bytes.size() > 1 ? bytes[1] : 0) & 0x80) != 0;
    Role role = masked ? Role::server : Role::client;
    Random random(0);
    Session s(role, {}, &random);
    if (deflate)
        s.use_deflate(std::make_unique<MessageDeflate>(
            role, ext::DeflateParams{.server_no_context_takeover = no_context_takeover,
                                     .client_no_context_takeover = no_context_takeover},
            ext::DeflateConfig{}));
    std::string agreed = deflate ? tr(", with permessage-deflate agreed") : tr(" (no extension: add --deflate for RSV1)");
    print::out(masked ? trf("masked frames, as a server receives them{}\n", agreed)
                      : trf("unmasked frames, as a client receives them{}\n", agreed));
    Shown shown(diagram);
    s.set_observer(&shown);
    Event::Kind last = show_events(s, bytes);
    if (last != Event::Kind::fail && s.state() != Session::State::closed && s.mid_message())
        print::out(tr("  the bytes end before the message does: a receiver waits for the rest\n"));
    return last == Event::Kind::fail ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
    i18n::choose(argc, argv);  // before any sentence is made, --help's too
    CLI::App app{trs("Lesson 8: permessage-deflate (RFC 7692). The offer, the RFC's compressed bytes, RSV1,\n"
                 "context takeover and its memory; decode --deflate HEX; serve: the chat room, compressed.")};
    app.require_subcommand(0, 1);
    app.fallthrough();
    lesson::Common common;
    lesson::add_output_options(app, common, trs("serve -v: connections and what was agreed; -vv: every frame, compressed and inflated"));
    app.add_flag("--demo", common.demo, trs("the RFC 7692 examples byte for byte, then a live compressed connection"));

    auto* decode_cmd = app.add_subcommand("decode", trs("take frames apart (hex) and inflate compressed messages"));
    std::vector<std::string> hex_words;
    bool deflate = false, no_takeover = false;
    decode_cmd->add_option("bytes", hex_words, trs("frames in hex, e.g. c1 07 f2 48 cd c9 c9 07 00"))->required();
    decode_cmd->add_flag("--deflate", deflate, trs("permessage-deflate was agreed: RSV1 marks a compressed message"));
    decode_cmd->add_flag("--no-context-takeover", no_takeover, trs("each message was compressed on its own"));

    auto* serve = app.add_subcommand("serve", trs("the chat room (lesson 5) with compression; -vv shows both forms"));
    lesson::add_server_options(*serve, common);
    lesson::add_html_dir_option(*serve, common);
    lesson::TlsFlags tls_flags;
    lesson::add_tls_options(*serve, tls_flags);
    server::Options options;
    options.index_page = "chatroom.html";
    options.ws_path = "/ws";
    options.limits.max_message = 64 * 1024;
    lesson::LimitSeconds limit_seconds;
    limit_seconds.ping = 30;
    lesson::add_limit_options(*serve, options, limit_seconds, tr("it is closed as too slow (1013)"));
    lesson::add_deflate_options(*serve, options.deflate, true);
    serve->remove_option(serve->get_option("--demo"));

    return lesson::run(app, argc, argv, [&]() -> int {
        lesson::apply(common);
        Random random(common.seed);
        if (decode_cmd->parsed()) {
            std::string words;
            for (const auto& w : hex_words) words += w + " ";
            return decode(print::parse_hex(words), deflate, no_takeover, common.verbose > 0);
        }
        if (serve->parsed()) {
            options.host = common.host;
            options.port = common.port;
            options.html_dir = common.html_dir;
            lesson::apply_limits(options, limit_seconds);
            options.log_connections = common.verbose >= 1;
            options.log_frames = common.verbose >= 2 ? server::FrameLog::summary : server::FrameLog::none;
            lesson::ServerTls tls = lesson::server_tls(tls_flags);
            options.tls = tls.context;
            apps::ChatRoom room{chat::Limits{}};
            server::Server srv(options, room);
            server::stop_on_signals(srv);
            print::out(fmt::format("listening on {}://{}/\n", tls.page_scheme(), srv.local().str()));
            print::out(tls.story);
            print::out(trf("Open {0}://{1}/?name=alice and {0}://{1}/?name=bob in two tabs; -vv shows each message\n"
                                   "compressed and inflated. {2}\n",
                                   tls.page_scheme(), srv.local().str(),
                                   !options.deflate.enabled ? tr("(--no-deflate: compression is declined)") : options.deflate.no_context_takeover ? tr("(no context takeover: one compressed frame per broadcast)") : tr("(--deflate-takeover: each client compressed on its own)")));
            srv.run();
            print::out(tr("stopped: every client was sent close 1001 (going away)\n"));
            return 0;
        }
        if (!common.demo) {
            print::out(app.help());
            return 0;
        }
        return demo(random);
    });
}
