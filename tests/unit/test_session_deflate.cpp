// permessage-deflate in the session and the handshake (RFC 7692): the RFC's frames in and out,
// RSV1 where it may not be, bombs and garbage with their close codes, both roles in step over
// long sessions, the memory an idle connection keeps, and the extension in the handshake.
#include <gtest/gtest.h>

#include <random>

#include "proto/handshake.hpp"
#include "proto/session.hpp"

#include "bytes.hpp"
using namespace ws;

namespace {

ext::DeflateParams takeover_both() { return {}; }
ext::DeflateParams reset_both() {
    return {.server_no_context_takeover = true, .client_no_context_takeover = true, .server_max_window_bits = 15,
            .client_max_window_bits = 15};
}

Session compressed_session(Role role, ext::DeflateParams agreed, Random* random = nullptr,
                           SharedStreams* shared = nullptr, ReceiverLimits limits = {}) {
    Session s(role, limits, random);
    s.use_deflate(std::make_unique<MessageDeflate>(role, agreed, ext::DeflateConfig{}, shared));
    return s;
}

// A client's frame as the RFC writes it (unmasked), masked with a fixed key for a server.
std::string masked(std::string frame) {
    FrameHeader h = header_of(frame);
    std::array<std::uint8_t, 4> key{0x37, 0xfa, 0x21, 0x3d};
    std::string out = frame.substr(0, 2);
    out[1] = static_cast<char>(out[1] | 0x80);
    out += frame.substr(2, h.header_length - 2);
    out.append(reinterpret_cast<const char*>(key.data()), 4);
    std::string payload = frame.substr(h.header_length);
    apply_mask(reinterpret_cast<std::uint8_t*>(payload.data()), payload.size(), key);
    return out + payload;
}

struct Seen {
    std::vector<Event::Kind> kinds;
    std::vector<std::string> messages;
    std::vector<bool> compressed;
    FrameError error = FrameError::none;
    std::uint16_t code = 0;
};

Seen feed(Session& s, std::string bytes) {
    Seen seen;
    s.feed(std::span(reinterpret_cast<std::uint8_t*>(bytes.data()), bytes.size()), [&](const Event& e) {
        seen.kinds.push_back(e.kind);
        if (e.kind == Event::Kind::message) {
            seen.messages.emplace_back(e.payload);
            seen.compressed.push_back(e.compressed);
        }
        if (e.kind == Event::Kind::fail) seen.error = e.error, seen.code = e.code;
    });
    return seen;
}

std::string take(Session& s) {
    std::string out(s.output());
    s.wrote(out.size());
    return out;
}

// The close code in the first close frame of a server's output.
std::uint16_t close_code_sent(std::string_view out) {
    while (!out.empty()) {
        FrameHeader h = header_of(out);
        if (h.opcode == 0x8) return close_code_of(out.substr(h.header_length, h.payload_length));
        out.remove_prefix(h.header_length + h.payload_length);
    }
    return 0;
}

}  // namespace

TEST(SessionDeflate, TheRfcFramesInflate) {
    Session s = compressed_session(Role::server, takeover_both());
    // RFC 7692 §7.2.3.1: one frame, then the same message in two fragments (RSV1 on the first).
    Seen one = feed(s, masked(bytes({0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00})));
    ASSERT_EQ(one.messages, std::vector<std::string>{"Hello"});
    EXPECT_TRUE(one.compressed.at(0));
    // §7.2.3.2: the second "Hello" with the window of the first.
    Seen two = feed(s, masked(bytes({0xc1, 0x05, 0xf2, 0x00, 0x11, 0x00, 0x00})));
    EXPECT_EQ(two.messages, std::vector<std::string>{"Hello"});
    Session f = compressed_session(Role::server, takeover_both());
    Seen fragments = feed(f, masked(bytes({0x41, 0x03, 0xf2, 0x48, 0xcd})) + masked(bytes({0x80, 0x04, 0xc9, 0xc9, 0x07, 0x00})));
    EXPECT_EQ(fragments.messages, std::vector<std::string>{"Hello"});
    // §7.2.3.3: an uncompressed (stored) block inside a compressed message; §7.2.3.6 (no
    // compression at all, RSV1 clear) is a plain message.
    Seen stored = feed(f, masked(bytes({0xc1, 0x0b, 0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00})));
    EXPECT_EQ(stored.messages, std::vector<std::string>{"Hello"});
    Seen plain = feed(f, masked(bytes({0x81, 0x05, 'H', 'e', 'l', 'l', 'o'})));
    EXPECT_EQ(plain.messages, std::vector<std::string>{"Hello"});
    EXPECT_FALSE(plain.compressed.at(0));
}

TEST(SessionDeflate, SendingMakesTheRfcBytes) {
    Session s = compressed_session(Role::server, takeover_both());
    ASSERT_TRUE(s.send(Opcode::text, "Hello"));
    EXPECT_EQ(take(s), bytes({0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}));
    ASSERT_TRUE(s.send(Opcode::text, "Hello"));
    EXPECT_EQ(take(s), bytes({0xc1, 0x05, 0xf2, 0x00, 0x11, 0x00, 0x00}));
    // Without context takeover the second is the first again; in fragments, RSV1 on the first only.
    Session r = compressed_session(Role::server, reset_both());
    r.send(Opcode::text, "Hello");
    EXPECT_EQ(take(r), bytes({0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}));
    r.send_in(Opcode::text, "Hello", 2);
    EXPECT_EQ(take(r), bytes({0x41, 0x03, 0xf2, 0x48, 0xcd, 0x80, 0x04, 0xc9, 0xc9, 0x07, 0x00}));
    // Control frames are never compressed.
    r.ping("Hello");
    EXPECT_EQ(take(r), bytes({0x89, 0x05, 'H', 'e', 'l', 'l', 'o'}));
}

TEST(SessionDeflate, Rsv1WhereItMayNotBeIs1002) {
    struct Case {
        const char* what;
        std::string frames;
        FrameError error;
    };
    std::vector<Case> cases = {
        {"on a continuation", masked(bytes({0x41, 0x03, 0xf2, 0x48, 0xcd})) + masked(bytes({0xc0, 0x04, 0xc9, 0xc9, 0x07, 0x00})),
         FrameError::compressed_bit_misplaced},
        {"on a ping", masked(bytes({0xc9, 0x01, 'x'})), FrameError::compressed_bit_misplaced},
        {"on a close", masked(bytes({0xc8, 0x02, 0x03, 0xe8})), FrameError::compressed_bit_misplaced},
        {"RSV2", masked(bytes({0xa1, 0x01, 'x'})), FrameError::reserved_bits},
    };
    for (const Case& c : cases) {
        Session s = compressed_session(Role::server, takeover_both());
        Seen seen = feed(s, c.frames);
        EXPECT_EQ(seen.error, c.error) << c.what;
        EXPECT_EQ(close_code_sent(take(s)), 1002) << c.what;
    }
    // RSV1 when nothing was agreed.
    Session plain(Role::server);
    EXPECT_EQ(feed(plain, masked(bytes({0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}))).error, FrameError::reserved_bits);
}

TEST(SessionDeflate, BombsGarbageAndBadTextGetTheirCodes) {
    // 64 MiB of zeros is 64 KiB compressed: refused with 1009 while inflating, at the limit.
    Deflater d(15, 8, false);
    std::string bomb;
    d.compress(std::string(64 << 20, '\0'), bomb);
    std::string frame;
    append_frame(frame, Opcode::binary, bomb);
    frame[0] = static_cast<char>(frame[0] | 0x40);
    Session s = compressed_session(Role::server, takeover_both(), nullptr, nullptr, ReceiverLimits{1 << 20});
    Seen seen = feed(s, masked(frame));
    EXPECT_EQ(seen.error, FrameError::inflated_too_big);
    EXPECT_EQ(close_code_sent(take(s)), 1009);
    EXPECT_LT(s.memory(), 4u << 20);  // never the 64 MiB

    Session g = compressed_session(Role::server, takeover_both());
    EXPECT_EQ(feed(g, masked(bytes({0xc1, 0x05, 0xff, 0xff, 0xff, 0xff, 0x13}))).error, FrameError::not_deflate);
    EXPECT_EQ(close_code_sent(take(g)), 1007);

    // Text that is not UTF-8 once inflated.
    std::string bad;
    Deflater t(15, 8, true);
    t.compress("caf\xc3(", bad);
    std::string text_frame;
    append_frame(text_frame, Opcode::text, bad);
    text_frame[0] = static_cast<char>(text_frame[0] | 0x40);
    Session u = compressed_session(Role::server, takeover_both());
    EXPECT_EQ(feed(u, masked(text_frame)).error, FrameError::text_not_utf8);
    EXPECT_EQ(close_code_sent(take(u)), 1007);
}

TEST(SessionDeflate, BothRolesStayInStepOverLongSessions) {
    for (bool takeover : {true, false}) {
        for (bool shared_streams : {false, true}) {
            Random random(7);
            SharedStreams shared;
            ext::DeflateParams agreed = takeover ? takeover_both() : reset_both();
            agreed.client_max_window_bits = 10;
            Session client = compressed_session(Role::client, agreed, &random);
            Session server = compressed_session(Role::server, agreed, nullptr, shared_streams ? &shared : nullptr);
            std::mt19937 rng(takeover * 2 + shared_streams);
            std::string previous = "seed";
            for (int n = 0; n < 400; ++n) {
                std::string message;
                std::size_t size = rng() % 5000;
                for (std::size_t k = 0; k < size; ++k)
                    message += rng() % 3 == 0 ? previous[k % previous.size()] : static_cast<char>('a' + rng() % 5);
                std::size_t fragments = 1 + rng() % 3;
                ASSERT_TRUE(client.send_in(Opcode::text, message, fragments));
                Seen at_server = feed(server, take(client));
                ASSERT_EQ(at_server.messages, std::vector<std::string>{message}) << n;
                ASSERT_TRUE(server.send(Opcode::binary, message));
                Seen at_client = feed(client, take(server));
                ASSERT_EQ(at_client.messages, std::vector<std::string>{message}) << n;
                if (!message.empty()) previous = message;
            }
        }
    }
}

TEST(SessionDeflate, AnIdleConnectionWithoutTakeoverHoldsNoZlibMemory) {
    SharedStreams shared;
    MessageDeflate resets(Role::server, reset_both(), {}, &shared);
    MessageDeflate keeps(Role::server, takeover_both(), {}, &shared);
    std::string out, back;
    resets.compress(std::string(10000, 'x'), out);
    EXPECT_EQ(resets.inflate(out, back, 1 << 20), Inflater::Status::ok);
    EXPECT_EQ(resets.memory(), 0u);
    EXPECT_EQ(resets.memory_bound(), 0u);
    EXPECT_GT(shared.memory(), 0u);  // the shared streams, counted once
    out.clear(), back.clear();
    keeps.compress(std::string(10000, 'x'), out);
    EXPECT_EQ(keeps.inflate(out, back, 1 << 20), Inflater::Status::ok);
    EXPECT_GT(keeps.memory(), 256u * 1024);  // 15-bit window, memLevel 8: zlib's 256 KiB and more
    EXPECT_LE(keeps.memory(), keeps.memory_bound());
    // Smaller windows and memory level, smaller compressor.
    MessageDeflate small(Role::server, {.server_max_window_bits = 10, .client_max_window_bits = 10},
                         {.mem_level = 2}, nullptr);
    out.clear();
    small.compress(std::string(10000, 'x'), out);
    EXPECT_LT(small.memory(), 32u * 1024);
    EXPECT_LE(small.memory(), small.memory_bound());
}

TEST(HandshakeDeflate, TheServerAnswersTheOfferItAccepts) {
    auto request = [](std::vector<std::string> extension_lines) {
        std::string head = "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
        for (const auto& line : extension_lines) head += "Sec-WebSocket-Extensions: " + line + "\r\n";
        head += "\r\n";
        http::RequestParser parser;
        auto r = parser.parse(head);
        EXPECT_EQ(r.status, http::ParseStatus::complete);
        return r.request;
    };
    std::string why;
    ext::DeflateConfig server{.enabled = true, .max_window_bits = 15, .no_context_takeover = true,
                              .ask_peer_no_context_takeover = true};
    // Two header lines are one list (RFC 9110 §5.3): the second line's offer is taken.
    auto agreed = handshake::negotiate_deflate(request({"x-unknown", "permessage-deflate; client_max_window_bits"}), server, why);
    ASSERT_TRUE(agreed) << why;
    EXPECT_EQ(agreed->response, "permessage-deflate; server_no_context_takeover; client_no_context_takeover");
    handshake::Result result = handshake::check_request(request({}));
    result.extensions = agreed->response;
    EXPECT_NE(handshake::response_101(result).find("\r\nSec-WebSocket-Extensions: permessage-deflate; "
                                                   "server_no_context_takeover; client_no_context_takeover\r\n"),
              std::string::npos);
    EXPECT_FALSE(handshake::negotiate_deflate(request({}), server, why));
    EXPECT_EQ(why, "no extension offered");
    EXPECT_FALSE(handshake::negotiate_deflate(request({"permessage-deflate; ="}), server, why));
    EXPECT_NE(why.find("malformed"), std::string::npos);
}

TEST(HandshakeDeflate, TheClientOffersAndChecksTheAnswer) {
    handshake::ClientOffer offer;
    offer.host = "x";
    offer.key = "dGhlIHNhbXBsZSBub25jZQ==";
    offer.deflate = ext::DeflateConfig{};
    EXPECT_NE(handshake::client_request(offer).find("\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"),
              std::string::npos);
    auto answer = [&](std::string_view extensions) {
        std::string head = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n";
        if (!extensions.empty()) head += "Sec-WebSocket-Extensions: " + std::string(extensions) + "\r\n";
        head += "\r\n";
        http::ResponseParser parser;
        auto r = parser.parse(head);
        EXPECT_EQ(r.status, http::ParseStatus::complete);
        return handshake::check_response(r.response, offer);
    };
    auto ok = answer("permessage-deflate; server_max_window_bits=10; client_no_context_takeover");
    ASSERT_TRUE(ok.ok()) << ok.first_failure()->detail;
    ASSERT_TRUE(ok.deflate);
    EXPECT_EQ(ok.deflate->server_max_window_bits, 10);
    EXPECT_TRUE(ok.deflate->client_no_context_takeover);
    EXPECT_TRUE(answer("").ok());  // declined: no compression, and that is fine
    EXPECT_FALSE(answer("").deflate);
    for (std::string_view bad : {"permessage-deflate, permessage-deflate", "permessage-deflate; mystery=1",
                                 "permessage-deflate; server_max_window_bits=16", "x-webkit-deflate-frame",
                                 "permessage-deflate; client_max_window_bits=8", "permessage-deflate;"}) {
        auto r = answer(bad);
        ASSERT_FALSE(r.ok()) << bad;
        EXPECT_EQ(r.first_failure()->check, handshake::ClientCheck::extensions) << bad;
    }
}
