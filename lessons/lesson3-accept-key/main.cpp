// Lesson 3: the Sec-WebSocket-Accept key, computed offline step by step (RFC 6455 §1.3, §4.2.2).
// The new code for this lesson is in src/proto/handshake.cpp (accept_key, sha1, base64).
#include <fmt/format.h>

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
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) return "(not printable text)";
    return fmt::format("\"{}\"", text);
}

// Prints the four steps for one key; returns the accept key.
std::string explain(std::string_view key) {
    using print::paint;
    using print::Style;
    std::string out;
    auto nonce = handshake::base64_decode(http::trim(key));
    out += fmt::format("{}  the client's key                {}\n", paint("Step 1", Style::bold), key);
    if (nonce && nonce->size() == 16) {
        out += fmt::format("        base64-decoded (16 bytes)       {}\n", print::hex(*nonce));
        out += fmt::format("                                        {}\n", quoted_if_text(*nonce));
    } else {
        out += fmt::format("        {} this is not base64 of 16 bytes: a server must refuse it (400)\n",
                           print::check_mark(false));
        out += "        (the steps below still show what the formula gives)\n";
    }
    std::string joined = std::string(http::trim(key)) + std::string(handshake::kGuid);
    out += fmt::format("{}  append the GUID (RFC 6455 §1.3, the same for every server)\n", paint("Step 2", Style::bold));
    out += fmt::format("        {}{}\n", http::trim(key), paint(handshake::kGuid, Style::yellow));
    auto digest = handshake::sha1(joined);
    out += fmt::format("{}  SHA-1 of those {} bytes (20 bytes)\n", paint("Step 3", Style::bold), joined.size());
    out += fmt::format("        {}\n", print::hex(digest));
    std::string accept = handshake::base64_encode(digest);
    out += fmt::format("{}  base64 of the digest (28 characters)\n", paint("Step 4", Style::bold));
    out += fmt::format("        {}\n", paint(accept, Style::green));
    print::out(out);
    return accept;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Lesson 3: how a server turns Sec-WebSocket-Key into Sec-WebSocket-Accept.\n"
                 "Offline, step by step, with the RFC's own example unless you give a key."};
    lesson::Common common;
    std::string key(kRfcKey);
    bool random_key = false;
    std::vector<std::string> verify;
    app.add_option("--key", key, "the Sec-WebSocket-Key to work through")->capture_default_str();
    app.add_flag("--random", random_key, "make a fresh client key (16 random bytes, base64) and work through it");
    app.add_option("--verify", verify, "check that ACCEPT is the right answer to KEY")->expected(2)->type_name("KEY ACCEPT");
    app.add_flag("--demo", common.demo, "the RFC's example, then a fresh random key");
    lesson::add_output_options(app, common);

    return lesson::run(app, argc, argv, [&] {
        lesson::apply(common);
        Random random(common.seed);

        if (!verify.empty()) {
            std::string expected = handshake::accept_key(verify[0]);
            bool ok = expected == verify[1];
            print::out(fmt::format("key      {}\naccept   {}\nexpected {}\n{} {}\n", verify[0], verify[1], expected,
                                   print::check_mark(ok),
                                   ok ? "the accept key matches: a client would accept this handshake"
                                      : "the accept key does not match: a client must fail the connection"));
            return ok ? 0 : 2;
        }

        if (random_key || common.demo) {
            if (common.demo) {
                std::string accept = explain(kRfcKey);
                print::out(fmt::format("        {} the value RFC 6455 §1.3 gives\n\n", print::check_mark(accept == kRfcAccept)));
                print::pause();
                print::out("A fresh key, as a client makes one: 16 random bytes, base64-encoded (RFC 6455 §4.1)\n");
            }
            key = handshake::client_key(random.nonce());
        }
        std::string accept = explain(key);
        if (key == kRfcKey)
            print::out(fmt::format("        {} the value RFC 6455 §1.3 gives\n", print::check_mark(accept == kRfcAccept)));
        print::out(
            "Why: only a server that read the key and knows the protocol can produce this; a cache or a\n"
            "plain HTTP server that echoes headers cannot. The client checks it before firing onopen.\n");
        return 0;
    });
}
