#include "i18n/i18n.hpp"
#include "client/interactive.hpp"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <map>

#include <fmt/format.h>

#include "print/frame_diagram.hpp"
#include "print/print.hpp"
#include "proto/utf8.hpp"

namespace ws::client {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// -v: every frame in and out, a client's with its masking key and the bytes as they go on the
// wire; -vv: each drawn as RFC 6455 §5.2 draws it.
class FramePrinter final : public FrameObserver {
public:
    explicit FramePrinter(int verbose) : verbose_(verbose) {}
    void on_frame(const FrameHeader& h, std::string_view header_bytes, std::string_view payload, bool incoming) override {
        std::string s = print::frame_log("", h, header_bytes, payload, incoming, verbose_ >= 2);
        if (!incoming && h.masked) {
            std::string masked(payload.substr(0, 16));
            apply_mask(reinterpret_cast<std::uint8_t*>(masked.data()), masked.size(), h.mask);
            s += trf("   masking key {} (fresh for this frame); on the wire: {}{}\n",
                             print::hex(std::span<const std::uint8_t>(h.mask)), masked.empty() ? "(empty)" : print::hex(masked),
                             payload.size() > 16 ? " …" : "");
        }
        print::out(s);
    }
    void on_inflated(std::string_view compressed, std::string_view message, bool incoming) override {
        print::out(print::inflated_log("", compressed, message, incoming, verbose_ >= 2));
    }

private:
    int verbose_;
};

std::string seconds(std::chrono::milliseconds ms) { return fmt::format("{:g}", static_cast<double>(ms.count()) / 1000); }

const char* kHelp = N_(
    "  TEXT                 a text message (each line is one masked text frame)\n"
    "  /ping [TEXT]         a ping; the pong's round trip is shown\n"
    "  /close [CODE [WHY]]  start the closing handshake (default 1000)\n"
    "  /binary HEX          a binary message, e.g. /binary 00 01 ff\n"
    "  /frag N TEXT         one text message in N fragments\n"
    "  /raw HEX             bytes sent as they are: a hand-made frame, masked or not as written\n"
    "  /help                this list; end of input (Ctrl-D) closes with 1000\n");

// The session after the handshake, driven by lines of input.
class Interactive {
public:
    Interactive(Client& client, const InteractiveOptions& options) : client_(client), options_(options) {}

    int run() {
        client_.report_pings = true;
        std::string pending;
        bool input_open = true;
        auto quiet_deadline = Clock::time_point::max(), latest_close = Clock::time_point::max();
        for (;;) {
            if (auto done = drain()) return *done;
            if (closing_ && Clock::now() >= close_deadline_) {
                print::out(trf("no answer to our close in {} s: closing TCP\n", seconds(options_.close_timeout)));
                return 1;
            }
            if (!input_open && !closing_ && Clock::now() >= quiet_deadline) {
                // End of input and nothing more arrives: the polite end (RFC 6455 §7.1.2).
                start_close(1000, "");
            }
            pollfd fds[2] = {{client_.transport().fd(), POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
            auto next = closing_ ? close_deadline_ : input_open ? Clock::time_point::max() : quiet_deadline;
            int timeout = next == Clock::time_point::max()
                              ? -1
                              : static_cast<int>(std::max<long long>(
                                    0, std::chrono::duration_cast<std::chrono::milliseconds>(next - Clock::now()).count() + 1));
            ::poll(fds, input_open ? 2 : 1, timeout);
            // Something came: keep listening, but not past 10 lingers after the input ended (a
            // server that pings or chats without pause must not keep a pipe open forever).
            if (fds[0].revents) quiet_deadline = std::min(Clock::now() + options_.linger, latest_close);
            if (input_open && fds[1].revents) {
                char chunk[4096];
                ssize_t n = (fds[1].revents & (POLLIN | POLLHUP)) ? ::read(STDIN_FILENO, chunk, sizeof chunk) : -1;
                if (n < 0 && errno == EINTR) continue;
                if (n <= 0) {  // the end of input, or an input that cannot be read (POLLERR, POLLNVAL)
                    input_open = false;
                    quiet_deadline = Clock::now() + options_.linger;
                    latest_close = Clock::now() + 10 * options_.linger;
                    if (!pending.empty()) command(pending);
                    continue;
                }
                pending.append(chunk, static_cast<std::size_t>(n));
                for (std::size_t eol; (eol = pending.find('\n')) != std::string::npos;) {
                    std::string line = pending.substr(0, eol);
                    pending.erase(0, eol + 1);
                    if (!line.empty() && line.back() == '\r') line.pop_back();
                    command(line);
                }
            }
        }
    }

private:
    // Everything that has arrived; an exit code once the connection is over.
    std::optional<int> drain() {
        for (;;) {
            Received m = client_.receive(0ms);
            switch (m.kind) {
                case Event::Kind::need_more:
                    return std::nullopt;
                case Event::Kind::pong: {
                    auto it = pings_.find(m.payload);
                    if (it == pings_.end()) {
                        print::out(trf("← pong {} (unasked)\n", print::printable(m.payload, 40)));
                        break;
                    }
                    auto rtt = std::chrono::duration<double, std::milli>(Clock::now() - it->second).count();
                    print::out(trf("← pong {}: round trip {:.2f} ms\n", print::printable(m.payload, 40), rtt));
                    pings_.erase(it);
                    break;
                }
                case Event::Kind::close:
                    print::out(describe_received(m) + "\n");
                    if (m.code == static_cast<std::uint16_t>(CloseCode::abnormal)) return 1;
                    print::out(closing_ ? tr("the closing handshake is complete; the server closes TCP\n") : tr("answered with a close frame; the server closes TCP\n"));
                    client_.finish();
                    return 0;
                case Event::Kind::fail:
                    print::out(describe_received(m) + "\n");
                    client_.finish();
                    return 1;
                default:
                    print::out(describe_received(m) + "\n");
                    break;
            }
        }
    }

    void start_close(std::uint16_t code, std::string_view reason) {
        if (!client_.session().is_open()) return;
        print::out(reason.empty() ? trf("→ close {} ({})\n", code, close_code_name(code))
                                  : trf("→ close {} ({}) \"{}\"\n", code, close_code_name(code), reason));
        client_.send_close(code, reason);
        closing_ = true;
        close_deadline_ = Clock::now() + options_.close_timeout;
    }

    void send(Opcode opcode, std::string_view payload, std::size_t fragments = 1) {
        if (!client_.session().is_open()) {
            print::out(tr("not sent: the connection is closing\n"));
            return;
        }
        // Compressed first when permessage-deflate was agreed; then in N pieces as even as they
        // can be (a piece may end inside a character: the receiver checks UTF-8 across
        // fragments; or be empty when the text is shorter than N).
        client_.send_message(opcode, payload, fragments);
        if (options_.verbose == 0)
            print::out(fmt::format("→ {} {}{}\n", opcode_name(static_cast<std::uint8_t>(opcode)),
                                   opcode == Opcode::text ? print::printable(payload, 60) : print::hex(payload.substr(0, 20)),
                                   fragments > 1 ? trf(" in {} fragments", fragments) : ""));
    }

    void command(const std::string& line) {
        try {
            if (line.empty() || line[0] != '/') {
                if (!is_valid_utf8(line)) {
                    print::out(trf("{} not sent: this line is not valid UTF-8, and a text frame must be "
                                           "(RFC 6455 §8.1).\n  /binary HEX sends bytes.\n", print::check_mark(false)));
                    return;
                }
                send(Opcode::text, line);
                return;
            }
            std::string_view rest = line;
            std::string_view word = rest.substr(0, rest.find(' '));
            rest = word.size() < rest.size() ? rest.substr(word.size() + 1) : std::string_view{};
            if (word == "/help") {
                print::out(tr(kHelp));
            } else if (word == "/ping") {
                if (rest.size() > 125) throw std::runtime_error(trs("a ping carries at most 125 bytes (RFC 6455 §5.5)"));
                pings_[std::string(rest)] = Clock::now();
                client_.session().ping(rest);
                client_.flush();
                if (options_.verbose == 0) print::out(fmt::format("→ ping {}\n", print::printable(rest, 40)));
            } else if (word == "/close") {
                std::string_view code_text = rest.substr(0, rest.find(' '));
                std::string_view reason = code_text.size() < rest.size() ? rest.substr(code_text.size() + 1) : "";
                unsigned code = 1000;
                if (!code_text.empty()) {
                    auto [end, ec] = std::from_chars(code_text.data(), code_text.data() + code_text.size(), code);
                    if (ec != std::errc() || end != code_text.data() + code_text.size() || code > 65535)
                        throw std::runtime_error(trs("/close takes a code (a number), then a reason: /close 1000 bye"));
                }
                if (!is_valid_close_code(static_cast<std::uint16_t>(code)))
                    throw std::runtime_error(trf("{} is not a code an endpoint may send (RFC 6455 §7.4); "
                                                         "/raw sends one anyway, to probe a server", code));
                if (!is_valid_utf8(reason)) throw std::runtime_error(trs("the reason must be valid UTF-8 (RFC 6455 §5.5.1)"));
                if (reason.size() > 123) throw std::runtime_error(trs("a close reason has at most 123 bytes (RFC 6455 §5.5)"));
                start_close(static_cast<std::uint16_t>(code), reason);
            } else if (word == "/binary") {
                send(Opcode::binary, print::parse_hex(rest));
            } else if (word == "/frag") {
                std::string_view n_text = rest.substr(0, rest.find(' '));
                unsigned n = 0;
                auto [end, ec] = std::from_chars(n_text.data(), n_text.data() + n_text.size(), n);
                if (ec != std::errc() || end != n_text.data() + n_text.size() || n < 1 || n > 1000)
                    throw std::runtime_error(trs("/frag takes a count from 1 to 1000, then the text"));
                std::string_view text = n_text.size() < rest.size() ? rest.substr(n_text.size() + 1) : "";
                if (!is_valid_utf8(text)) throw std::runtime_error(trs("not sent: the text is not valid UTF-8 (RFC 6455 §8.1)"));
                send(Opcode::text, text, n);
            } else if (word == "/raw") {
                std::string bytes = print::parse_hex(rest);
                print::out(trf("→ raw {} bytes, as written: {}\n", bytes.size(), print::hex(bytes.substr(0, 24))));
                client_.send_raw(bytes);
            } else {
                print::out(trf("unknown command {}; /help lists them\n", word));
            }
        } catch (const std::exception& e) {
            print::out(fmt::format("{} {}\n", print::check_mark(false), e.what()));
        }
    }

    Client& client_;
    InteractiveOptions options_;
    std::map<std::string, Clock::time_point> pings_;
    bool closing_ = false;
    Clock::time_point close_deadline_{};
};

}  // namespace

std::string describe_received(const Received& m) {
    switch (m.kind) {
        case Event::Kind::message:
            return m.type == Opcode::text
                       ? fmt::format("← text {}", print::printable(m.payload, 70))
                       : fmt::format("← binary {} B: {}{}", m.payload.size(), print::hex(std::string_view(m.payload).substr(0, 24)),
                                     m.payload.size() > 24 ? " …" : "");
        case Event::Kind::ping: return trf("← ping {} (answered with a pong)", print::printable(m.payload, 40));
        case Event::Kind::pong: return fmt::format("← pong {}", print::printable(m.payload, 40));
        case Event::Kind::close:
            if (m.code == static_cast<std::uint16_t>(CloseCode::abnormal))
                return std::string(tr("← the connection ended without a close frame (1006)"));
            return m.reason.empty() ? trf("← close {} ({})", m.code, close_code_name(m.code))
                                    : trf("← close {} ({}) {}", m.code, close_code_name(m.code), print::printable(m.reason, 40));
        case Event::Kind::fail:
            return trf("{} the server broke a rule: {} ({}); closed with {} ({})", print::check_mark(false), tr(describe(m.error)),
                               name(m.error), m.code, close_code_name(m.code));
        case Event::Kind::need_more: break;
    }
    return "";
}

int interactive(Client& client, const InteractiveOptions& options) {
    FramePrinter printer(options.verbose);
    if (options.verbose > 0) client.session().set_observer(&printer);
    Interactive session(client, options);
    int code = session.run();
    client.session().set_observer(nullptr);
    return code;
}

int echo(Client& client, const InteractiveOptions& options) {
    FramePrinter printer(options.verbose);
    if (options.verbose > 0) client.session().set_observer(&printer);
    int code = 1;
    for (;;) {
        Received m = client.receive(std::chrono::seconds(60));
        if (m.kind == Event::Kind::message) {
            // RFC 6455 §5.6: the same type back (a conformance suite checks it).
            client.session().send(m.type, m.payload);
            if (!client.flush()) break;
            continue;
        }
        if (m.kind == Event::Kind::close) {
            if (options.verbose > 0 || m.code == static_cast<std::uint16_t>(CloseCode::abnormal))
                print::out(describe_received(m) + "\n");
            if (m.code != static_cast<std::uint16_t>(CloseCode::abnormal)) {
                client.finish();
                code = 0;
            }
            break;
        }
        if (m.kind == Event::Kind::fail) {
            print::out(describe_received(m) + "\n");
            client.finish();
            break;
        }
    }
    client.session().set_observer(nullptr);
    return code;
}

}  // namespace ws::client
