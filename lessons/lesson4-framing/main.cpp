// Lesson 4: the frame. Decode and encode frames offline, drawn as RFC 6455 §5.2 draws them,
// then serve an echo server that keeps every rule of §5–§7.
// The new code for this lesson is in src/proto/frame.cpp (header parsing, building, masking),
// src/proto/utf8.cpp and src/proto/receiver.cpp (reassembly and the rules), and
// src/server/ws_server.cpp (the epoll server every client shares).
#include <charconv>

#include <fmt/format.h>

#include "apps/echo.hpp"
#include "net/socket.hpp"
#include "print/frame_diagram.hpp"
#include "i18n/i18n.hpp"
#include "print/print.hpp"
#include "proto/frame.hpp"
#include "server/lesson_cli.hpp"
#include "proto/random.hpp"
#include "server/ws_server.hpp"

using namespace ws;

namespace {

std::string parse_hex(const std::vector<std::string>& words) {
    std::string joined;
    for (const auto& w : words) joined += w + " ";
    return print::parse_hex(joined);
}

struct RfcExample {
    std::string title;
    FrameSpec spec;
    std::string payload;
    std::string rfc_bytes;  // as printed in RFC 6455 §5.7
};

// -v: every byte of a masked payload unmasked, not only the first 12 (up to 4 KiB).
print::ExplainOptions explain_options(const lesson::Common& common) {
    return {.unmask_steps = true, .unmask_max = common.verbose > 0 ? std::size_t{4096} : std::size_t{12}};
}

int demo() {
    const std::array<std::uint8_t, 4> key{0x37, 0xfa, 0x21, 0x3d};
    std::vector<RfcExample> examples = {
        {N_("A single-frame unmasked text message"), {.opcode = 0x1}, "Hello", parse_hex({"81 05 48 65 6c 6c 6f"})},
        {N_("A single-frame masked text message"), {.opcode = 0x1, .masked = true, .mask = key}, "Hello",
         parse_hex({"81 85 37 fa 21 3d 7f 9f 4d 51 58"})},
        {N_("A fragmented unmasked text message: the first fragment"), {.opcode = 0x1, .fin = false}, "Hel",
         parse_hex({"01 03 48 65 6c"})},
        {N_("A fragmented unmasked text message: the last fragment"), {.opcode = 0x0}, "lo", parse_hex({"80 02 6c 6f"})},
        {N_("An unmasked ping request"), {.opcode = 0x9}, "Hello", parse_hex({"89 05 48 65 6c 6c 6f"})},
        {N_("A masked ping response (pong)"), {.opcode = 0xA, .masked = true, .mask = key}, "Hello",
         parse_hex({"8a 85 37 fa 21 3d 7f 9f 4d 51 58"})},
        {N_("256 bytes binary message in a single unmasked frame"), {.opcode = 0x2}, std::string(256, '\x5a'),
         parse_hex({"82 7E 01 00"}) + std::string(256, '\x5a')},
        {N_("64KiB binary message in a single unmasked frame"), {.opcode = 0x2}, std::string(65536, '\x5a'),
         parse_hex({"82 7F 00 00 00 00 00 01 00 00"}) + std::string(65536, '\x5a')},
    };
    print::out(tr("The examples of RFC 6455 §5.7, built by src/proto/frame.cpp and checked against the RFC's bytes.\n"
               "(The RFC leaves the 256-byte and 64 KiB payloads open; here they are 0x5a bytes.)\n\n"));
    bool all_match = true;
    std::string fragments;
    for (std::size_t i = 0; i < examples.size(); ++i) {
        const auto& ex = examples[i];
        std::string built = build_frame(ex.spec, ex.payload);
        bool match = built == ex.rfc_bytes;
        all_match &= match;
        print::out(trf("{} {}\n   bytes: {}\n   {} byte for byte the RFC's\n", print::paint(trf("Example {}:", i + 1), print::Style::bold),
                               tr(ex.title), print::hex(std::string_view(built).substr(0, std::min<std::size_t>(built.size(), 16))) +
                                             (built.size() > 16 ? trf(" … ({} bytes)", built.size()) : ""),
                               print::check_mark(match)));
        if (i == 2) { fragments = built; continue; }  // the two fragments are decoded together
        if (i == 3) built = fragments + built;
        print::out(print::explain_frames(built, {.unmask_steps = i == 1}) + "\n");
        print::pause();
    }
    print::out(trf("{} all eight frames match RFC 6455 §5.7\n", print::check_mark(all_match)));
    return all_match ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    i18n::choose(argc, argv);  // before any sentence is made, --help's too
    CLI::App app{trs("Lesson 4: the WebSocket frame. Decode and encode frames drawn as RFC 6455 §5.2 draws them,\n"
                 "or serve an echo server that dissects every frame a browser sends.")};
    app.require_subcommand(0, 1);
    app.fallthrough();  // -v, --color, --seed may also come after the subcommand
    lesson::Common common;
    lesson::add_output_options(app, common, trs("serve -v: one line per frame, -vv: each frame drawn; decode, encode -v: every byte unmasked"));
    app.add_flag("--demo", common.demo, trs("the RFC 6455 §5.7 examples, byte for byte, each decoded and explained"));

    auto* decode = app.add_subcommand("decode", trs("draw and explain the frames in these bytes (hex)"));
    std::vector<std::string> hex_words;
    decode->add_option("bytes", hex_words, trs("bytes in hex, e.g. 81 05 48 65 6c 6c 6f (0x and spaces optional)"))->required();

    auto* encode = app.add_subcommand("encode", trs("build a frame and explain it"));
    std::string text, binary_hex, ping, pong, mask_hex;
    std::vector<std::string> close_args;
    bool random_mask = false, no_mask = false, no_fin = false;
    int opcode = -1;
    std::size_t repeat = 1;
    auto* payload_group = encode->add_option_group("payload", trs("what the frame carries (pick one)"));
    payload_group->add_option("--text", text, trs("a text frame with this text"));
    payload_group->add_option("--binary", binary_hex, trs("a binary frame with these bytes (hex)"));
    payload_group->add_option("--ping", ping, trs("a ping with this payload"));
    payload_group->add_option("--pong", pong, trs("a pong with this payload"));
    payload_group->add_option("--close", close_args, trs("a close frame: CODE [REASON]"))->expected(1, 2);
    payload_group->require_option(1);
    encode->add_option("--repeat", repeat, trs("repeat the payload N times (try 126 or 65536 with --text a)"))->check(CLI::Range(1, 1 << 24));
    auto* mask_opt = encode->add_option("--mask", mask_hex, trs("mask with this 4-byte key (hex), as a client must"));
    encode->add_flag("--random-mask", random_mask, trs("mask with a random key (see --seed)"))->excludes(mask_opt);
    encode->add_flag("--no-mask", no_mask, trs("do not mask, as a server sends (the default)"))->excludes(mask_opt);
    encode->add_flag("--no-fin", no_fin, trs("clear FIN: the first fragment of a longer message"));
    encode->add_option("--opcode", opcode, trs("force this opcode (0-15), even a wrong one"))->check(CLI::Range(0, 15));

    auto* serve = app.add_subcommand("serve", trs("an echo server that keeps RFC 6455; -v prints each frame, -vv draws it"));
    lesson::add_server_options(*serve, common);
    lesson::add_html_dir_option(*serve, common);
    lesson::TlsFlags tls_flags;
    lesson::add_tls_options(*serve, tls_flags);
    server::Options options;
    options.index_page = "framing.html";
    // No keep-alive pings by default: a conformance suite must see only the frames it asked for.
    lesson::LimitSeconds limit_seconds;
    lesson::add_limit_options(*serve, options, limit_seconds, tr("reading from it pauses"));
    lesson::add_deflate_options(*serve, options.deflate, true);
    serve->remove_option(serve->get_option("--demo"));

    return lesson::run(app, argc, argv, [&]() -> int {
        lesson::apply(common);
        if (decode->parsed()) {
            print::out(print::explain_frames(parse_hex(hex_words), explain_options(common)));
            return 0;
        }
        if (encode->parsed()) {
            Random random(common.seed);
            FrameSpec spec;
            std::string payload;
            if (encode->count("--text")) { spec.opcode = 0x1; payload = text; }
            else if (encode->count("--binary")) { spec.opcode = 0x2; payload = parse_hex({binary_hex}); }
            else if (encode->count("--ping")) { spec.opcode = 0x9; payload = ping; }
            else if (encode->count("--pong")) { spec.opcode = 0xA; payload = pong; }
            else {
                spec.opcode = 0x8;
                unsigned code = 0;
                const std::string& text_code = close_args[0];
                auto [end, ec] = std::from_chars(text_code.data(), text_code.data() + text_code.size(), code);
                if (ec != std::errc() || end != text_code.data() + text_code.size() || code > 65535)
                    throw std::runtime_error(trs("--close takes a code from 0 to 65535, then a reason: --close 1000 bye"));
                payload = close_payload(static_cast<std::uint16_t>(code), close_args.size() > 1 ? close_args[1] : "");
            }
            std::string once = payload;
            for (std::size_t i = 1; i < repeat; ++i) payload += once;
            if (opcode >= 0) spec.opcode = static_cast<std::uint8_t>(opcode);
            spec.fin = !no_fin;
            if (!mask_hex.empty()) {
                std::string key = parse_hex({mask_hex});
                if (key.size() != 4) throw std::runtime_error(trs("--mask takes exactly 4 bytes, e.g. --mask 37fa213d"));
                spec.masked = true;
                std::copy(key.begin(), key.end(), spec.mask.begin());
            } else if (random_mask) {
                spec.masked = true;
                spec.mask = random.mask_key();
            }
            std::string frame = build_frame(spec, payload);
            print::out(trf("{} bytes:\n{}\n", frame.size(), print::hexdump(frame, 64)));
            print::out(print::explain_frames(frame, explain_options(common)));
            return 0;
        }
        if (serve->parsed()) {
            options.host = common.host;
            options.port = common.port;
            options.html_dir = common.html_dir;
            lesson::apply_limits(options, limit_seconds);
            net::raise_open_file_limit();
            options.log_connections = common.verbose >= 1;
            options.log_frames = common.verbose >= 2 ? server::FrameLog::diagram
                                 : common.verbose == 1 ? server::FrameLog::summary
                                                       : server::FrameLog::none;
            // The framing page asks for a report of the frames each message came in.
            options.protocols = {std::string(apps::kFrameReportProtocol)};
            lesson::ServerTls tls = lesson::server_tls(tls_flags);
            options.tls = tls.context;
            apps::Echo echo;
            server::Server srv(options, echo);
            server::stop_on_signals(srv);
            const std::string_view scheme = tls.page_scheme();
            print::out(fmt::format("listening on {}://{}/\n", scheme, srv.local().str()));
            print::out(tls.story);
            print::out(trf("Open {}://{}/ in a browser, or point any WebSocket client at {}://{}/\n", scheme,
                                   srv.local().str(), tls.ws_scheme(), srv.local().str()));
            srv.run();
            print::out(tr("stopped: every client was sent close 1001 (going away)\n"));
            return 0;
        }
        if (common.demo) return demo();
        print::out(app.help());
        return 0;
    });
}
