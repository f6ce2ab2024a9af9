// Lesson 3: the Sec-WebSocket-Accept key, computed offline step by step (RFC 6455 §1.3, §4.2.2).
// The new code for this lesson is in src/proto/handshake.cpp (accept_key, sha1, base64).
#include <fmt/format.h>

#include "i18n/i18n.hpp"
#include "print/print.hpp"
#include "proto/handshake.hpp"
#include "server/lesson_cli.hpp"
#include "proto/random.hpp"

using namespace ws;

namespace {

// The RFC's worked example: the key a client sent, and the answer RFC 6455 §1.3 prints.
constexpr std::string_view kRfcKey = "dGhlIHNhbXBsZSBub25jZQ==";
constexpr std::string_view kRfcAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

std::string quoted_if_text(const std::vector<std::uint8_t>& bytes) {
    std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    for (char c : text)
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) return std::string(tr("(not printable text)"));
    return fmt::format("\"{}\"", text);
}

// Prints the four steps for one key; returns the accept key.
std::string explain(std::string_view key) {
    using print::paint;
    using print::Style;
    std::string out;
    std::string_view trimmed = http::trim(key);
    auto nonce = handshake::base64_decode(trimmed);
    out += trf("{}  the client's key                \"{}\"\n", paint(tr("Step 1"), Style::bold), key);
    if (trimmed != key)
        out += trf("        trimmed (RFC 6455 §4.1: spaces and tabs around a value do not count)\n"
                           "                                        \"{}\"\n", trimmed);
    if (nonce && nonce->size() == 16) {
        out += trf("        base64-decoded (16 bytes)       {}\n", print::hex(*nonce));
        out += fmt::format("                                        {}\n", quoted_if_text(*nonce));
    } else {
        out += trf("        {} this is not base64 of 16 bytes: a server must refuse it (400)\n",
                           print::check_mark(false));
        out += tr("        (the steps below still show what the formula gives)\n");
    }
    print::out(out);
    print::pause();
    out.clear();
    std::string joined = std::string(http::trim(key)) + std::string(handshake::kGuid);
    out += trf("{}  append the GUID (RFC 6455 §1.3, the same for every server)\n", paint(tr("Step 2"), Style::bold));
    out += fmt::format("        {}{}\n", http::trim(key), paint(handshake::kGuid, Style::yellow));
    print::out(out);
    print::pause();
    out.clear();
    auto digest = handshake::sha1(joined);
    out += trf("{}  SHA-1 of those {} bytes (20 bytes)\n", paint(tr("Step 3"), Style::bold), joined.size());
    out += fmt::format("        {}\n", print::hex(digest));
    print::out(out);
    print::pause();
    out.clear();
    std::string accept = handshake::base64_encode(digest);
    out += trf("{}  base64 of the digest (28 characters)\n", paint(tr("Step 4"), Style::bold));
    out += fmt::format("        {}\n", paint(accept, Style::green));
    // The steps above, done by hand, must agree with the function the servers call (the one
    // exercise 3 asks you to write: build/bin/student/lesson3-accept-key runs yours).
    if (std::string from_function = handshake::accept_key(key); from_function != accept)
        out += trf("        {} but accept_key() gives \"{}\": not the same\n", print::check_mark(false),
                           from_function);
    print::out(out);
    return accept;
}

}  // namespace

int main(int argc, char** argv) {
    i18n::choose(argc, argv);  // before any sentence is made, --help's too
    CLI::App app{trs("Lesson 3: how a server turns Sec-WebSocket-Key into Sec-WebSocket-Accept.\n"
                 "Offline, step by step, with the RFC's own example unless you give a key.")};
    lesson::Common common;
    std::string key(kRfcKey);
    bool random_key = false;
    std::vector<std::string> verify;
    auto* key_option = app.add_option("--key", key, trs("the Sec-WebSocket-Key to work through"))->capture_default_str();
    auto* random_option =
        app.add_flag("--random", random_key, trs("make a fresh client key (16 random bytes, base64) and work through it"));
    auto* verify_option =
        app.add_option("--verify", verify, trs("check that ACCEPT is the right answer to KEY"))->expected(2)->type_name("KEY ACCEPT");
    auto* demo_option = app.add_flag("--demo", common.demo, trs("the RFC's example, then a fresh random key"));
    // Each says which key to use: two at once would leave one silently ignored.
    key_option->excludes(random_option)->excludes(verify_option)->excludes(demo_option);
    random_option->excludes(verify_option);
    verify_option->excludes(demo_option);
    lesson::add_output_options(app, common, "");

    return lesson::run(app, argc, argv, [&] {
        lesson::apply(common);
        Random random(common.seed);

        if (!verify.empty()) {
            // RFC 6455 §4.1 compares the header value without its leading and trailing white space.
            std::string_view key_value = http::trim(verify[0]), accept_value = http::trim(verify[1]);
            std::string expected = handshake::accept_key(key_value);
            auto nonce = handshake::base64_decode(key_value);
            bool key_ok = nonce && nonce->size() == 16;
            bool ok = expected == accept_value;
            std::string s = trf("key       \"{}\"\naccept    \"{}\"\nexpected   {}\n", verify[0], verify[1], expected);
            if (!key_ok)
                s += trf("{} the key is not base64 of 16 bytes ({}): a server must refuse it with 400\n",
                                 print::check_mark(false),
                                 nonce ? trf("it decodes to {} bytes", nonce->size()) : tr("it is not base64"));
            s += fmt::format("{} {}\n", print::check_mark(ok),
                             ok ? tr("the accept key matches: a client would accept this handshake") : tr("the accept key does not match: a client must fail the connection"));
            print::out(s);
            return ok && key_ok ? 0 : 2;
        }

        if (random_key || common.demo) {
            if (common.demo) {
                std::string accept = explain(kRfcKey);
                print::out(trf("        {} the value RFC 6455 §1.3 gives\n\n", print::check_mark(accept == kRfcAccept)));
                print::pause();
                print::out(tr("A fresh key, as a client makes one: 16 random bytes, base64-encoded (RFC 6455 §4.1)\n"));
            }
            key = handshake::client_key(random.nonce());
        }
        std::string accept = explain(key);
        if (http::trim(key) == kRfcKey)
            print::out(trf("        {} the value RFC 6455 §1.3 gives\n", print::check_mark(accept == kRfcAccept)));
        print::out(
            tr("Why: only a server that read the key and knows the protocol can produce this; a cache or a\n"
               "plain HTTP server that echoes headers cannot. The client checks it before firing onopen.\n"));
        return 0;
    });
}
