// The options every lesson shares (design §4), declared once with CLI11, and a main() wrapper
// that turns any exception into one clear line on stderr and a non-zero exit code.
#pragma once

#include <cstdint>
#include <cstdio>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>
#include <fmt/args.h>
#include <fmt/format.h>

#include "i18n/i18n.hpp"
#include "net/tls.hpp"
#include "proto/chat.hpp"
#include "print/print.hpp"
#include "server/ws_server.hpp"

namespace ws::lesson {

struct Common {
    std::string host = "127.0.0.1";
    std::uint16_t port = 8080;
    int verbose = 0;
    std::string color = "auto";
    bool step = false;
    bool demo = false;
    std::optional<std::uint64_t> seed;
    std::optional<std::string> html_dir;
};

// `verbose_help` says what -v (and -vv) change in this lesson; empty: the lesson has no -v.
inline void add_output_options(CLI::App& app, Common& o, std::string_view verbose_help) {
    if (!verbose_help.empty()) app.add_flag("-v,--verbose", o.verbose, std::string(verbose_help));
    app.add_option("--color", o.color, trs("colour output: auto (only on a terminal, not with NO_COLOR), always, never"))
        ->check(CLI::IsMember({"auto", "always", "never"}))
        ->capture_default_str();
    app.add_flag("--step", o.step, trs("pause between the parts of the lesson (press Enter), for a classroom"));
    app.add_option("--seed", o.seed, trs("make every random value (keys, masks) from this seed, so all screens match"));
}

inline void add_server_options(CLI::App& app, Common& o) {
    app.add_option("--host", o.host, trs("address to listen on"))->capture_default_str();
    app.add_option("--port", o.port, trs("port to listen on; 0 picks a free one"))->capture_default_str();
    app.add_flag("--demo", o.demo, trs("run a built-in client against this lesson and print the whole story, then exit"));
}

// --tls (lesson 7): https:// and wss:// on the same port, for every server lesson.
struct TlsFlags {
    bool tls = false;
    std::string cert, key, save_cert;
};

inline void add_tls_options(CLI::App& app, TlsFlags& t) {
    app.add_flag("--tls", t.tls, trs("speak TLS: https:// and wss:// (lesson 7); a self-signed certificate unless --cert"));
    auto* cert = app.add_option("--cert", t.cert, trs("the certificate (chain) as a PEM file; implies --tls"))
                     ->check(CLI::ExistingFile);
    auto* key = app.add_option("--key", t.key, trs("its private key as a PEM file"))->check(CLI::ExistingFile);
    cert->needs(key);
    key->needs(cert);
    app.add_option("--save-cert", t.save_cert, trs("write the certificate made for this run to FILE (PEM), for a client to trust"))
        ->excludes(cert);
}

inline bool uses_tls(const TlsFlags& t) { return t.tls || !t.cert.empty() || !t.save_cert.empty(); }

// The server's TLS context (null without --tls), and what to print about its certificate once
// the first line ("listening on https://...") is out.
struct ServerTls {
    std::shared_ptr<net::TlsContext> context;
    std::string story;
    std::string_view page_scheme() const { return context ? "https" : "http"; }
    std::string_view ws_scheme() const { return context ? "wss" : "ws"; }
};

inline ServerTls server_tls(const TlsFlags& t) {
    if (!uses_tls(t)) return {};
    ServerTls out;
    net::Certificate c;
    std::string origin;
    if (!t.cert.empty()) {
        out.context = net::TlsContext::server_from_files(t.cert, t.key);
        c = net::describe_certificate_file(t.cert);
        origin = trf("the certificate in {}", t.cert);
    } else {
        c = net::make_self_signed();
        out.context = net::TlsContext::server(c);
        origin = tr("a self-signed certificate made for this run (an EC P-256 key)");
        if (!t.save_cert.empty()) {
            std::FILE* f = std::fopen(t.save_cert.c_str(), "w");
            bool written = f && std::fwrite(c.cert_pem.data(), 1, c.cert_pem.size(), f) == c.cert_pem.size();
            if (f && std::fclose(f) != 0) written = false;
            if (!written) throw std::runtime_error(trf("cannot write the certificate to {}", t.save_cert));
            origin += trf(", saved to {}", t.save_cert);
        }
    }
    out.story = trf("TLS with {}\n  subject {} · {}\n  SHA-256 {}\n", origin, c.subject, c.san,
                            net::fingerprint_lines(c.fingerprint, 10));
    if (auto log = net::keylog_file()) out.story += trf("  TLS secrets are appended to {} (SSLKEYLOGFILE)\n", *log);
    return out;
}

// --demo: the server runs on its own thread while `story` (its clients) runs on this one; the
// server is stopped and its thread joined however the story ends. Returns the story's code.
inline int run_beside(server::Server& srv, const std::function<int()>& story) {
    std::thread loop([&] {
        try {
            srv.run();
        } catch (const std::exception& e) {
            print::err(trf("error: the server stopped: {}", e.what()));
        } catch (...) {
            print::err(tr("error: the server stopped: an unknown failure"));
        }
    });
    int rc = 1;
    try {
        rc = story();
    } catch (...) {
        srv.stop();
        loop.join();
        throw;
    }
    srv.stop();  // safe when the story stopped it already
    loop.join();
    return rc;
}

inline void add_html_dir_option(CLI::App& app, Common& o) {
    app.add_option("--html-dir", o.html_dir, trs("serve pages from this folder instead of the built-in copies"))
        ->check(CLI::ExistingDirectory);
}

// The epoll server's limits, as options. Each lesson sets its defaults in `o` first; the
// times are given in seconds and copied into `o` by apply_limits() after parsing.
struct LimitSeconds {
    double ping = 0;
    double handshake = 10;
    double close = 3;
};

inline void add_limit_options(CLI::App& app, server::Options& o, LimitSeconds& s, std::string_view backlog_effect) {
    app.add_option("--max-message", o.limits.max_message, trs("largest WebSocket message, in bytes (close 1009 above it)"))
        ->capture_default_str();
    app.add_option("--max-backlog", o.max_backlog, trf("bytes queued for one client before {}", tr(backlog_effect)))
        ->capture_default_str();
    app.add_option("--max-header-bytes", o.http_limits.max_head_bytes, trs("largest HTTP request head (431 above it)"))
        ->capture_default_str();
    app.add_option("--ping-interval", s.ping,
                   trs("seconds of silence before a keep-alive ping; no pong in as long again: dropped (0: off)"))
        ->check(CLI::Range(0.0, 86400.0))
        ->capture_default_str();
    app.add_option("--handshake-timeout", s.handshake, trs("seconds a client has to send its whole request"))
        ->check(CLI::Range(0.1, 3600.0))
        ->capture_default_str();
    app.add_option("--close-timeout", s.close, trs("seconds a client has to answer a close frame before it is cut off"))
        ->check(CLI::Range(0.1, 3600.0))
        ->capture_default_str();
}

// permessage-deflate (lesson 8), for a server (`for_server`) or a client: `d` holds the defaults.
inline void add_deflate_options(CLI::App& app, ext::DeflateConfig& d, bool for_server) {
    app.add_flag_callback("--no-deflate", [&d] { d.enabled = false; },
                          for_server ? trs("decline permessage-deflate (lesson 8): every message goes uncompressed")
                                     : trs("do not offer permessage-deflate (lesson 8)"));
    app.add_option("--deflate-window", d.max_window_bits, trs("largest window of our compressor, in bits (9-15)"))
        ->check(CLI::Range(9, 15))
        ->capture_default_str();
    app.add_option("--deflate-mem-level", d.mem_level, trs("zlib's memory level for our compressor (1-9: memory or speed; at most 4 when it resets after each message)"))
        ->check(CLI::Range(1, 9))
        ->capture_default_str();
    app.add_option("--deflate-min-size", d.min_size, trs("messages shorter than this many bytes go uncompressed"))
        ->capture_default_str();
    if (for_server)
        app.add_flag_callback("--deflate-takeover", [&d] { d.no_context_takeover = d.ask_peer_no_context_takeover = false; },
                              trs("let both sides keep their compression context from message to message (a better "
                              "ratio; up to ~300 KiB per connection)"));
    else
        app.add_flag_callback("--deflate-no-takeover", [&d] { d.no_context_takeover = d.ask_peer_no_context_takeover = true; },
                              trs("ask that both sides compress every message on its own (less memory)"));
}

inline void apply_limits(server::Options& o, const LimitSeconds& s) {
    auto ms = [](double seconds) { return std::chrono::milliseconds(static_cast<long long>(seconds * 1000)); };
    o.ping_interval = ms(s.ping);
    o.handshake_timeout = ms(s.handshake);
    o.close_timeout = ms(s.close);
}

// Lessons 5 and 10: the chat room's server, its options and their settings.
struct ChatServer {
    server::Options options;
    chat::Limits limits;
    LimitSeconds limit_seconds;
    TlsFlags tls;
    ChatServer() {
        options.index_page = "chatroom.html";
        options.ws_path = "/ws";
        options.limits.max_message = 64 * 1024;
        options.max_backlog = 1024 * 1024;
        limit_seconds.ping = 30;
    }
};

inline void add_chat_server_options(CLI::App& app, Common& common, ChatServer& chat) {
    add_server_options(app, common);
    add_html_dir_option(app, common);
    add_tls_options(app, chat.tls);
    add_limit_options(app, chat.options, chat.limit_seconds, tr("it is closed as too slow (1013)"));
    add_deflate_options(app, chat.options.deflate, true);
    app.add_option("--max-chat-message", chat.limits.max_message_bytes, trs("longest chat message, in bytes (an ERROR above)"))
        ->capture_default_str();
    app.add_option("--max-name", chat.limits.max_name_chars, trs("longest name, in characters"))->capture_default_str();
}

// After parsing: the server's settings from the options; the TLS context made (and its story
// returned). The port is left to the lesson.
inline ServerTls apply_chat_server_options(const Common& common, ChatServer& chat) {
    chat.options.host = common.host;
    chat.options.html_dir = common.html_dir;
    apply_limits(chat.options, chat.limit_seconds);
    chat.options.log_connections = common.verbose >= 1;
    chat.options.log_frames = common.verbose >= 2 ? server::FrameLog::summary : server::FrameLog::none;
    if (common.demo && uses_tls(chat.tls))
        throw std::runtime_error(trs("--demo runs without TLS; lesson 7's --demo tells the TLS story"));
    ServerTls tls = server_tls(chat.tls);
    chat.options.tls = tls.context;
    return tls;
}


inline void apply(const Common& o) {
    print::set_color(o.color == "always" ? print::ColorMode::always
                     : o.color == "never" ? print::ColorMode::never
                                          : print::ColorMode::auto_);
    print::set_step(o.step);
}

class Formatter : public CLI::Formatter {
public:
    Formatter() {
        label("Usage", trs("Usage"));
        label("OPTIONS", trs("OPTIONS"));
        label("REQUIRED", trs("REQUIRED"));
        label("Positionals", trs("Positionals"));
        label("SUBCOMMAND", trs("SUBCOMMAND"));
        label("SUBCOMMANDS", trs("SUBCOMMANDS"));
        label("Subcommands", trs("Subcommands"));
        label("Needs", trs("Needs"));
        label("Excludes", trs("Excludes"));
    }
    // CLI11 pads the names' column by bytes; a Chinese word is 3 bytes but 2 columns wide. The
    // description hangs beside the names, within the lesson's width (design §4).
    std::string make_option(const CLI::Option* option, bool is_positional) const override {
        std::string name = "  " + make_option_name(option, is_positional) + make_option_opts(option);
        std::string desc = make_option_desc(option);
        std::size_t width = get_column_width(), used = print::columns(name);
        if (desc.empty()) return name + "\n";
        return (used >= width ? name + "\n" + std::string(width, ' ') : name + std::string(width - used, ' ')) +
               print::hanging(desc, width, print::kLineWidth - 1) + "\n";
    }
    std::string make_group(std::string group, bool is_positional, std::vector<const CLI::Option*> opts) const override {
        return CLI::Formatter::make_group(group == "Options" ? trs("Options") : group, is_positional, std::move(opts));
    }
    // The whole --help, once made: no space at a line's end (CLI11 leaves one before its
    // "[Exactly 1 …]"); in Chinese, CLI11's own words too, and a full-width colon after each
    // label (": " and "：" are both two columns wide: the columns stay where they were).
    std::string make_help(const CLI::App* app, std::string name, CLI::AppFormatMode mode) const override {
        std::string help = std::regex_replace(CLI::Formatter::make_help(app, std::move(name), mode), std::regex(" +\n"), "\n");
        if (i18n::language() == i18n::Lang::en) return help;
        auto replace_all = [&help](const std::string& from, const std::string& to) {
            for (std::size_t at = 0; (at = help.find(from, at)) != std::string::npos; at += to.size()) help.replace(at, from.size(), to);
        };
        help = std::regex_replace(help, std::regex(R"(\[Option Group: ([^\]]*)\])"), fmt::format("[{}：$1]", tr("option group")));
        replace_all("[Exactly 1 of the following options is required]", fmt::format("[{}]", tr("exactly one of these options is required")));
        for (const char* label : {"Usage", "Options", "Positionals", "Subcommands", "Needs", "Excludes"}) {
            replace_all(fmt::format("{}: ", tr(label)), fmt::format("{}：", tr(label)));
            replace_all(fmt::format("{}:\n", tr(label)), fmt::format("{}：\n", tr(label)));
        }
        return help;
    }
};

// The lesson's formatter and help flag for the app and each of its subcommands (a subcommand's
// own -h and the heading it is listed under are in the lesson's language too).
inline void use_lesson_formatter(CLI::App& app, const std::shared_ptr<Formatter>& formatter) {
    app.formatter(formatter);
    app.set_help_flag("-h,--help", trs("print this help and exit"));
    for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
        if (sub->get_group() == "Subcommands") sub->group(trs("Subcommands"));
        use_lesson_formatter(*sub, formatter);
    }
}

// CLI11 prints a range's ends with six decimals ("0.050000 to 100.000000"): 0.05 and 100.
inline std::string without_trailing_zeros(const std::string& text) {
    static const std::regex decimal(R"(\d+\.\d+)");
    std::string out;
    auto last = text.cbegin();
    for (std::sregex_iterator it(text.begin(), text.end(), decimal), end; it != end; ++it) {
        std::string number = it->str();
        number.erase(number.find_last_not_of('0') + 1);
        if (number.back() == '.') number.pop_back();
        out.append(last, (*it)[0].first).append(number);
        last = (*it)[0].second;
    }
    return out.append(last, text.cend());
}

// CLI11's own message for a bad command line, in the lesson's language: its common forms are
// in the catalogue; any other stays as CLI11 wrote it.
inline std::string command_line_error(const std::string& message) {
    std::string what = message.find(" not in range ") == std::string::npos ? message : without_trailing_zeros(message);
    if (i18n::language() == i18n::Lang::en) return what;
    static const std::pair<const char*, const char*> kForms[] = {
        {R"(The following arguments? (?:was|were) not expected: (.*))", N_("The following arguments were not expected: {}")},
        {R"(Could not convert: (\S+) = (.*))", N_("Could not convert: {} = {}")},
        {R"((\S+): (.*) not in (\{.*\}))", N_("{}: {} not in {}")},
        {R"((\S+): Value (.*) not in range (.*) to (.*))", N_("{}: Value {} not in range {} to {}")},
        {R"((\S+): (\d+) required (.+) missing)", N_("{}: {} required {} missing")},
        {R"((\S+): File does not exist: (.*))", N_("{}: File does not exist: {}")},
        {R"(A subcommand is required)", N_("A subcommand is required")},
        {R"(Exactly 1 option from \[(.*?),?\] is required and (\d+) were given)", N_("Exactly one of {} is required, and {} were given")},
        {R"(Exactly 1 option from \[(.*?),?\] is required)", N_("Exactly one of {} is required")},
        {R"((\S+): At least (\d+) required but received (\d+))", N_("{}: at least {} required, but {} given")},
        {R"((\S+): At Most (\d+) required but received (\d+))", N_("{}: at most {} allowed, but {} given")},
        {R"((\S+): File is actually a directory: (.*))", N_("{}: this is a directory, not a file: {}")},
        {R"((\S+): Directory is actually a file: (.*))", N_("{}: this is a file, not a directory: {}")},
        {R"((\S+): Directory does not exist: (.*))", N_("{}: directory does not exist: {}")},
        {R"((\S+) is required)", N_("{} is required")},
        {R"((\S+) requires (\S+))", N_("{} requires {}")},
        {R"((\S+) excludes (\S+))", N_("{} excludes {}")},
    };
    for (auto [pattern, form] : kForms) {
        std::smatch m;
        if (!std::regex_match(what, m, std::regex(pattern))) continue;
        fmt::dynamic_format_arg_store<fmt::format_context> args;
        for (std::size_t i = 1; i < m.size(); ++i) args.push_back(m[i].str());
        return fmt::vformat(tr(form), args);
    }
    return what;
}

// Parses the command line and runs `body`; errors become "error: ..." and exit code 1.
inline int run(CLI::App& app, int argc, char** argv, const std::function<int()>& body) {
    // --lang was read already (i18n::choose, first thing in main): here it is checked and shown.
    // On the app and on each subcommand (`lesson6-client relay URL --lang zh`): a subcommand does
    // not fall through to the app's options, which it does not take.
    std::string lang;
    auto add_lang = [&lang](CLI::App& to) {
        to.add_option("--lang", lang, trs("the language of everything printed: en or zh (default: from LC_ALL, LC_MESSAGES or LANG)"))
            ->check(CLI::IsMember({"en", "zh"}));
    };
    add_lang(app);
    for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; }))
        if (!sub->get_name().empty()) add_lang(*sub);  // an option group is a nameless subcommand
    use_lesson_formatter(app, std::make_shared<Formatter>());
    app.failure_message([](const CLI::App*, const CLI::Error& e) {
        return command_line_error(e.what()) + "\n" + tr("Run with --help for more information.\n");
    });
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    // From here on, output never blocks the lesson (a server keeps serving when nobody reads).
    print::BackgroundOutput output;
    try {
        return body();
    } catch (const std::exception& e) {
        print::err(trf("error: {}", e.what()));
        return 1;
    } catch (...) {
        print::err(tr("error: an unknown failure (this is a bug: please report it)"));
        return 1;
    }
}

}  // namespace ws::lesson
