// `make exercises`: checks each exercise and says, per exercise, "done" or "not yet" with the
// first failing check and a hint. Built twice: with the student's files from exercises/ (what
// `make exercises` runs) and with the library's own functions (`make exercises SOLUTIONS=1`,
// which must say "done" for all). Each exercise runs in a child process, so one that crashes
// or loops forever is reported as "not yet", and the others are still checked.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "../tests/cases/exercise_cases.hpp"
#include "i18n/i18n.hpp"
#include "net/tls_record.hpp"
#include "proto/chat.hpp"
#include "proto/deflate.hpp"
#include "proto/engineio.hpp"
#include "print/print.hpp"
#include "proto/frame.hpp"
#include "proto/handshake.hpp"
#include "proto/http.hpp"
#include "proto/utf8.hpp"

using namespace ws;

namespace {

// A failing check, as a student should read it; nullopt when every case passes.
using Check = std::function<std::optional<std::string>()>;

struct Exercise {
    std::string id, title, file, lesson, hint;
    Check check;
};

// Bytes as a student typed them: CR and LF as ␍ and ␊, other control bytes as \xNN.
std::string shown(std::string_view bytes) {
    std::string s = "\"";
    for (char c : bytes.substr(0, 40)) {
        auto b = static_cast<unsigned char>(c);
        if (c == '\r') s += "␍";
        else if (c == '\n') s += "␊";
        else if (b < 0x20 || b >= 0x7f) s += fmt::format("\\x{:02x}", b);
        else s += c;
    }
    return s + (bytes.size() > 40 ? "\"…" : "\"");
}

std::optional<std::string> check_head_length() {
    for (const auto& c : cases::kHeadLength) {
        std::size_t got = http::head_length(c.bytes);
        if (got != c.expected)
            return trf("{}: head_length({}) should be {}, got {}", tr(c.what), shown(c.bytes), c.expected, got);
    }
    return std::nullopt;
}

std::optional<std::string> check_token_list() {
    for (const auto& c : cases::kTokenList) {
        bool got = http::list_contains(c.list, c.token);
        if (got != c.expected)
            return trf("{}: list_contains(\"{}\", \"{}\") should be {}, got {}", tr(c.what), c.list, c.token,
                               c.expected, got);
    }
    return std::nullopt;
}

std::optional<std::string> check_accept_key() {
    for (const auto& c : cases::kAcceptKey) {
        std::string got = handshake::accept_key(c.key);
        if (got != c.accept)
            return trf("{}: accept_key(\"{}\") should be \"{}\", got \"{}\"", tr(c.what), c.key, c.accept, got);
    }
    return std::nullopt;
}

std::optional<std::string> check_payload_length() {
    for (const auto& c : cases::kPayloadLength) {
        std::uint64_t got = read_payload_length(c.header);
        if (got != c.expected)
            return trf("{}: the header {} should give {}, got {}", tr(c.what), print::hex(c.header), c.expected, got);
    }
    return std::nullopt;
}

std::optional<std::string> check_unmask() {
    const std::array<std::uint8_t, 4> rfc_key{0x37, 0xfa, 0x21, 0x3d};
    std::array<std::uint8_t, 5> hello{0x7f, 0x9f, 0x4d, 0x51, 0x58};
    std::size_t next = apply_mask(hello.data(), hello.size(), rfc_key, 0);
    if (std::string_view(reinterpret_cast<const char*>(hello.data()), 5) != "Hello")
        return trf("RFC 6455 §5.7's masked \"Hello\": 7f 9f 4d 51 58 with key 37 fa 21 3d gave {}",
                           print::hex(hello));
    if (next != 1) return trf("after 5 bytes from phase 0 the next phase is 1, got {}", next);
    // Every length up to 70 and every starting phase, against a byte at a time.
    for (std::size_t phase = 0; phase < 4; ++phase)
        for (std::size_t length = 0; length <= 70; ++length) {
            std::vector<std::uint8_t> data(length), expected(length);
            for (std::size_t i = 0; i < length; ++i) {
                data[i] = static_cast<std::uint8_t>(i * 31 + 7);
                expected[i] = data[i] ^ rfc_key[(phase + i) % 4];
            }
            std::size_t got_phase = apply_mask(data.data(), length, rfc_key, phase);
            if (data != expected)
                return trf("{} bytes starting at phase {}: byte {} is wrong", length, phase,
                                   std::mismatch(data.begin(), data.end(), expected.begin()).first - data.begin());
            if (got_phase != (phase + length) % 4)
                return trf("{} bytes from phase {}: should return {}, got {}", length, phase,
                                   (phase + length) % 4, got_phase);
        }
    return std::nullopt;
}

std::optional<std::string> check_utf8() {
    for (const auto& c : cases::kUtf8) {
        bool got = is_valid_utf8(c.bytes);
        if (got != c.valid)
            return trf("{}: is_valid_utf8({}) should be {}, got {}", tr(c.what), print::hex(c.bytes), c.valid, got);
    }
    return std::nullopt;
}

std::optional<std::string> check_close_code() {
    for (const auto& c : cases::kCloseCode) {
        bool got = is_valid_close_code(c.code);
        if (got != c.valid)
            return trf("{}: is_valid_close_code({}) should be {}, got {}", tr(c.what), c.code, c.valid, got);
    }
    return std::nullopt;
}

std::optional<std::string> check_frame_header() {
    for (const auto& c : cases::kFrameHeader) {
        std::uint8_t out[kMaxHeader + 2] = {};
        std::size_t n = write_header(out, c.fin, c.opcode, c.length, c.mask ? &*c.mask : nullptr);
        if (n > kMaxHeader) return trf("{}: returned {}, but no header is longer than 14 bytes", tr(c.what), n);
        std::span<const std::uint8_t> got(out, n);
        if (!std::equal(got.begin(), got.end(), c.expected.begin(), c.expected.end()))
            return trf("{}: should be {}, got {}", tr(c.what), print::hex(c.expected),
                               n == 0 ? tr("nothing (returned 0)") : print::hex(got));
    }
    return std::nullopt;
}

std::optional<std::string> check_tls_record() {
    for (const auto& c : cases::kTlsRecord) {
        auto got = net::read_tls_record_header(c.bytes);
        if (!c.complete) {
            if (got) return trf("{} ({}): should be std::nullopt, got a header", tr(c.what), print::hex(c.bytes));
            continue;
        }
        if (!got) return trf("{} ({}): should be a header, got std::nullopt", tr(c.what), print::hex(c.bytes));
        if (got->type != c.type || got->version != c.version || got->length != c.length)
            return trf("{} ({}): should be type {}, version 0x{:04x}, length {}; got {}, 0x{:04x}, {}", tr(c.what),
                               print::hex(c.bytes.substr(0, 5)), c.type, c.version, c.length, got->type, got->version,
                               got->length);
    }
    return std::nullopt;
}

std::optional<std::string> check_sync_tail() {
    for (const auto& c : cases::kSyncTail) {
        std::size_t got = without_sync_tail(c.deflated);
        if (got != c.keep)
            return trf("{} ({}): should keep {} bytes, kept {}", tr(c.what),
                               c.deflated.empty() ? tr("no bytes") : print::hex(c.deflated), c.keep, got);
    }
    return std::nullopt;
}

std::optional<std::string> check_polling_body() {
    auto show = [](const std::vector<std::string_view>& parts) {
        std::string out = "[";
        for (std::size_t i = 0; i < parts.size(); ++i) out += fmt::format("{}{}", i ? ", " : "", print::printable(parts[i], 20));
        return out + "]";
    };
    for (const auto& c : cases::kPollingBody) {
        std::vector<std::string_view> got = eio::split_polling_body(c.body);
        if (got != c.packets)
            return trf("{} ({}): should be {}, got {}", tr(c.what), print::printable(c.body, 30), show(c.packets), show(got));
        for (std::string_view part : got)
            if (part.data() < c.body.data() || part.data() + part.size() > c.body.data() + c.body.size())
                return trf("{}: the packets must be views into the body, not copies", tr(c.what));
    }
    return std::nullopt;
}

std::optional<std::string> check_roster() {
    auto show = [](const std::vector<std::string>& names) {
        std::string out = "[";
        for (std::size_t i = 0; i < names.size(); ++i) out += fmt::format("{}{}", i ? ", " : "", names[i]);
        return out + "]";
    };
    for (const auto& c : cases::kRoster) {
        chat::Roster roster;
        roster.reset(c.start);
        for (std::size_t i = 0; i < c.events.size(); ++i) {
            bool changed = roster.apply(c.events[i]);
            if (changed != c.changed[i])
                return trf("{}: event {} should return {}, returned {}", tr(c.what), i + 1, c.changed[i], changed);
        }
        if (roster.names() != c.names)
            return trf("{}: from {}, the roster should be {}, is {}", tr(c.what), show(c.start), show(c.names), show(roster.names()));
    }
    return std::nullopt;
}

const std::vector<Exercise>& exercises() {
    static const std::vector<Exercise> all = {
        {"1", N_("where an HTTP head ends"), "1-head-length.cpp", "lesson2-handshake",
         N_("look for the four bytes \"\\r\\n\\r\\n\" (std::string_view::find); the length counts them"), check_head_length},
        {"2", N_("a token in a header's list"), "2-token-list.cpp", "lesson2-handshake",
         N_("take the items between commas one by one, trim each, compare with http::iequals"), check_token_list},
        {"3", N_("the accept key"), "3-accept-key.cpp", "lesson3-accept-key",
         N_("the trimmed key as text, then kGuid after it; sha1() of that; base64_encode() of the digest"),
         check_accept_key},
        {"4a", N_("the payload length"), "4a-payload-length.cpp", "lesson4-framing",
         N_("header[1] & 0x7F first; for 126 read 2 bytes, for 127 read 8: length = (length << 8) | byte"), check_payload_length},
        {"4b", N_("unmasking"), "4b-unmask.cpp", "lesson4-framing",
         N_("data[i] ^= key[(phase + i) % 4]; the next piece starts at (phase + length) % 4"), check_unmask},
        {"5a", N_("the UTF-8 check"), "5a-utf8.cpp", "lesson5-chat",
         N_("read a lead byte, decide how many continuation bytes follow and their range, check them"), check_utf8},
        {"5b", N_("the close-code check"), "5b-close-code.cpp", "lesson5-chat",
         N_("write the ranges of RFC 6455 §7.4 as comparisons: 1000-1003, 1007-1014, 3000-4999"), check_close_code},
        {"6", N_("the header a client writes"), "6-frame-header.cpp", "lesson6-client",
         N_("out[0] = fin bit | opcode; out[1] = mask bit | 7-bit length (or 126/127, then the bytes, top first); then "
         "the key"), check_frame_header},
        {"7", N_("a TLS record's header"), "7-tls-record.cpp", "lesson7-wss",
         N_("fewer than 5 bytes: std::nullopt; else bytes[0], then (bytes[1] << 8) | bytes[2], then the same for 3 and 4"),
         check_tls_record},
        {"8", N_("a sync flush's tail"), "8-sync-tail.cpp", "lesson8-compression",
         N_("compare deflated.substr(size - 4) with the 4 bytes \"\\x00\\x00\\xff\\xff\" (a string_view of length 4)"),
         check_sync_tail},
        {"9", N_("a polling body's packets"), "9-polling-body.cpp", "lesson9-socketio",
         N_("find kSeparator from where the last packet ended; substr up to it; after the last one, the rest"),
         check_polling_body},
        {"10", N_("the room's list, from its events"), "10-roster.cpp", "lesson10-scale-out",
         N_("std::find the name in names_; LOGIN: push_back if not found; LOGOUT: erase if found; return whether it did"),
         check_roster},
    };
    return all;
}

// Runs one exercise's checks in a child process, so a crash or an endless loop is a "not yet".
// Returns the failure (empty when done).
std::optional<std::string> run_isolated(const Exercise& e) {
    int fds[2];
    if (::pipe(fds) != 0) return tr("could not start the check (pipe)");
    pid_t pid = ::fork();
    if (pid == 0) {
        ::close(fds[0]);
        ::alarm(10);  // an endless loop ends here
        auto failure = e.check();
        std::string text = failure ? "F" + *failure : "D";
        [[maybe_unused]] auto n = ::write(fds[1], text.data(), text.size());
        ::_exit(0);
    }
    ::close(fds[1]);
    std::string text;
    char buffer[4096];
    for (ssize_t n; (n = ::read(fds[0], buffer, sizeof buffer)) > 0;) text.append(buffer, static_cast<std::size_t>(n));
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (WIFSIGNALED(status))
        return WTERMSIG(status) == SIGALRM ? tr("it did not finish in 10 s (an endless loop?)")
                                           : trf("it crashed ({})", ::strsignal(WTERMSIG(status)));
    if (text.empty()) return tr("it ended without an answer");
    if (text[0] == 'D') return std::nullopt;
    return text.substr(1);
}

}  // namespace

int main(int argc, char** argv) {
    i18n::choose(argc, argv);
    bool strict = argc > 1 && std::string_view(argv[1]) == "--expect-all-done";
    bool solutions = argc > 2 && std::string_view(argv[2]) == "--solutions";
    print::set_color(print::ColorMode::auto_);
    std::fflush(stdout);
    fmt::print("{}\n", solutions ? tr("Exercises, checked against the library's own functions (SOLUTIONS=1)")
                                 : tr("Exercises: your files in exercises/, checked with the library's test cases"));
    int done = 0;
    for (const auto& e : exercises()) {
        auto failure = run_isolated(e);
        std::string head = fmt::format("  {:<3} {:<32} exercises/{:<22}", e.id, tr(e.title), e.file);
        if (!failure) {
            ++done;
            fmt::print("{} {}\n", head, print::paint(tr("✓ done"), print::Style::green));
            continue;
        }
        fmt::print("{} {}\n", head, print::paint(tr("✗ not yet"), print::Style::red));
        fmt::print("{}", trf("      first failing check: {}\n", print::hanging(*failure, 27)));
        fmt::print("{}", trf("      hint: {}\n", print::hanging(tr(e.hint), 12)));
    }
    auto total = static_cast<int>(exercises().size());
    fmt::print("{}", trf("{} of {} done.", done, total));
    if (!solutions)
        fmt::print("{}", trf(" Each lesson runs on your code too, e.g. build/bin/student/{} --demo", exercises().front().lesson));
    fmt::print("\n");
    std::fflush(stdout);
    return strict && done != total ? 1 : 0;
}
