// permessage-deflate (RFC 7692): the negotiation both ways, and compression against the RFC's
// own bytes, decompression bombs, and long sessions against zlib used directly.
#include <gtest/gtest.h>
#include <zlib.h>

#include <random>
#include <string>

#include "proto/deflate.hpp"
#include "proto/extensions.hpp"

#include "bytes.hpp"
using namespace ws;

namespace {

// zlib directly, as the reference: inflates a raw stream with the tail put back.
std::string zlib_inflate(z_stream& z, const std::string& compressed) {
    std::string in = compressed + bytes({0x00, 0x00, 0xff, 0xff}), out(1 << 20, '\0');
    z.next_in = reinterpret_cast<Bytef*>(in.data());
    z.avail_in = static_cast<uInt>(in.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    inflate(&z, Z_SYNC_FLUSH);
    out.resize(out.size() - z.avail_out);
    return out;
}

// zlib directly: a raw stream finished with a final block (BFINAL), as some senders send it.
std::string zlib_finished(const std::string& message) {
    z_stream z{};
    deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
    std::string in = message, out(deflateBound(&z, static_cast<uLong>(message.size())), '\0');
    z.next_in = reinterpret_cast<Bytef*>(in.data());
    z.avail_in = static_cast<uInt>(in.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
    out.resize(out.size() - z.avail_out);
    deflateEnd(&z);
    return out;
}

std::optional<ext::Agreement> server_side(std::string_view header, ext::DeflateConfig config = {}, std::string* why = nullptr) {
    auto parsed = ext::parse(header);
    EXPECT_TRUE(parsed.ok()) << parsed.error;
    return ext::negotiate(parsed.offers, config, why);
}

}  // namespace

TEST(Extensions, ParsesOffersParamsAndQuotedValues) {
    auto r = ext::parse("permessage-deflate; client_max_window_bits, permessage-deflate; server_max_window_bits=\"10\" ,x-other");
    ASSERT_TRUE(r.ok()) << r.error;
    ASSERT_EQ(r.offers.size(), 3u);
    EXPECT_EQ(r.offers[0].params[0].name, "client_max_window_bits");
    EXPECT_FALSE(r.offers[0].params[0].value);
    EXPECT_EQ(r.offers[1].params[0].value, "10");
    EXPECT_EQ(r.offers[2].name, "x-other");
    EXPECT_TRUE(ext::parse("").ok());
    EXPECT_TRUE(ext::parse(" , ,permessage-deflate").ok());
}

TEST(Extensions, RefusesMalformedHeaders) {
    for (std::string_view bad : {"; x", "permessage-deflate;", "permessage-deflate; a=", "permessage-deflate; a=\"open",
                                 "permessage-deflate x", "permessage-deflate; a=b c", "per message"}) {
        auto r = ext::parse(bad);
        EXPECT_FALSE(r.ok()) << bad;
        EXPECT_TRUE(r.offers.empty()) << bad;
    }
}

TEST(Extensions, AcceptsChromeAndFirefoxOffersAsTheyAre) {
    auto chrome = server_side("permessage-deflate; client_max_window_bits");
    ASSERT_TRUE(chrome);
    EXPECT_EQ(chrome->response, "permessage-deflate");
    EXPECT_EQ(chrome->params.server_max_window_bits, 15);
    auto firefox = server_side("permessage-deflate");
    ASSERT_TRUE(firefox);
    EXPECT_EQ(firefox->response, "permessage-deflate");
}

TEST(Extensions, AnswersOnlyWhatWasOfferedAndHonoursIt) {
    auto a = server_side("permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
                         "server_max_window_bits=10; client_max_window_bits=12");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->response, "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
                           "server_max_window_bits=10; client_max_window_bits=12");
    EXPECT_TRUE(a->params.server_no_context_takeover);
    EXPECT_EQ(a->params.server_max_window_bits, 10);
    EXPECT_EQ(a->params.client_max_window_bits, 12);
    // client_max_window_bits is never answered unless offered.
    EXPECT_EQ(server_side("permessage-deflate")->response.find("client_max_window_bits"), std::string::npos);
    // Our own limits are said in the answer.
    ext::DeflateConfig small{.enabled = true, .max_window_bits = 11, .no_context_takeover = true,
                             .ask_peer_no_context_takeover = false};
    EXPECT_EQ(server_side("permessage-deflate", small)->response,
              "permessage-deflate; server_no_context_takeover; server_max_window_bits=11");
}

TEST(Extensions, DeclinesWhatCannotBeHonouredAndTakesTheNextOffer) {
    std::string why;
    for (std::string_view bad : {"permessage-deflate; server_max_window_bits=8", "permessage-deflate; server_max_window_bits",
                                 "permessage-deflate; server_max_window_bits=16", "permessage-deflate; server_max_window_bits=010",
                                 "permessage-deflate; client_max_window_bits=7", "permessage-deflate; unknown=1",
                                 "permessage-deflate; server_no_context_takeover=1",
                                 "permessage-deflate; server_no_context_takeover; server_no_context_takeover"}) {
        EXPECT_FALSE(server_side(bad, {}, &why)) << bad;
        EXPECT_NE(why.find("declined"), std::string::npos) << why;
    }
    auto second = server_side("permessage-deflate; server_max_window_bits=8, permessage-deflate");
    ASSERT_TRUE(second);
    EXPECT_EQ(second->response, "permessage-deflate");
    EXPECT_FALSE(server_side("x-webkit-deflate-frame", {}, &why));
    EXPECT_FALSE(server_side("permessage-deflate", {.enabled = false, .max_window_bits = 15, .no_context_takeover = false,
                                                    .ask_peer_no_context_takeover = false}));
}

TEST(Extensions, TheClientChecksTheAnswer) {
    ext::DeflateConfig config;
    EXPECT_EQ(ext::client_offer(config), "permessage-deflate; client_max_window_bits");
    std::string error;
    auto answer = [&](std::string_view header) {
        auto parsed = ext::parse(header);
        EXPECT_TRUE(parsed.ok());
        return ext::accept_answer(parsed.offers.at(0), config, error);
    };
    auto ok = answer("permessage-deflate; server_no_context_takeover; client_max_window_bits=10");
    ASSERT_TRUE(ok);
    EXPECT_TRUE(ok->server_no_context_takeover);
    EXPECT_EQ(ok->client_max_window_bits, 10);
    // Our window may be made smaller than offered, never larger (§7.1.2.2).
    config.max_window_bits = 10;
    EXPECT_FALSE(answer("permessage-deflate; client_max_window_bits=12"));
    EXPECT_NE(error.find("more than the 10 offered"), std::string::npos) << error;
    auto smaller = answer("permessage-deflate; client_max_window_bits=9");
    ASSERT_TRUE(smaller);
    EXPECT_EQ(smaller->client_max_window_bits, 9);
    auto unsaid = answer("permessage-deflate");
    ASSERT_TRUE(unsaid);
    EXPECT_EQ(unsaid->client_max_window_bits, 10);
    config.max_window_bits = 15;
    for (std::string_view bad : {"x-other", "permessage-deflate; client_max_window_bits",
                                 "permessage-deflate; client_max_window_bits=8", "permessage-deflate; mystery"}) {
        EXPECT_FALSE(answer(bad)) << bad;
        EXPECT_FALSE(error.empty());
    }
}

TEST(Deflate, TheRfcHelloExamplesByteForByte) {
    // RFC 7692 §7.2.3.1 and §7.2.3.2: "Hello", then "Hello" again using the same window.
    Deflater d(15, 8, false);
    std::string first, second;
    d.compress("Hello", first);
    EXPECT_EQ(first, bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}));
    d.compress("Hello", second);
    EXPECT_EQ(second, bytes({0xf2, 0x00, 0x11, 0x00, 0x00}));
    Inflater i(false);
    std::string out;
    EXPECT_EQ(i.inflate(first, out, 1000), Inflater::Status::ok);
    EXPECT_EQ(out, "Hello");
    out.clear();
    EXPECT_EQ(i.inflate(second, out, 1000), Inflater::Status::ok);
    EXPECT_EQ(out, "Hello");
    // Without context takeover the second is compressed on its own: the same bytes as the first.
    Deflater alone(15, 8, true);
    std::string a, b;
    alone.compress("Hello", a);
    alone.compress("Hello", b);
    EXPECT_EQ(a, b);
}

TEST(Deflate, TheRfcUncompressedBlockAndFragmentedForms) {
    Inflater i(false);
    std::string out;
    // §7.2.3.3: "Hello" in a stored (uncompressed) block.
    EXPECT_EQ(i.inflate(bytes({0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00}), out, 100),
              Inflater::Status::ok);
    EXPECT_EQ(out, "Hello");
    // §7.2.3.1's fragmented example: the same compressed bytes split over two frames, joined.
    Inflater j(false);
    out.clear();
    EXPECT_EQ(j.inflate(bytes({0xf2, 0x48, 0xcd}) + bytes({0xc9, 0xc9, 0x07, 0x00}), out, 100), Inflater::Status::ok);
    EXPECT_EQ(out, "Hello");
}

TEST(Deflate, AMessageEndingInAFinalBlockLeavesTheNextOneWhole) {
    // §7.2.3.5: "Hello" with BFINAL set. The message ends there, without the tail; with context
    // takeover the next message begins a new stream, which must still inflate.
    std::string final_hello = zlib_finished("Hello");
    EXPECT_EQ(final_hello, bytes({0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}));
    Inflater i(false);
    std::string out;
    ASSERT_EQ(i.inflate(final_hello, out, 100), Inflater::Status::ok);
    EXPECT_EQ(out, "Hello");
    out.clear();
    ASSERT_EQ(i.inflate(bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}), out, 100), Inflater::Status::ok);
    EXPECT_EQ(out, "Hello");
    out.clear();
    ASSERT_EQ(i.inflate(final_hello, out, 100), Inflater::Status::ok);
    EXPECT_EQ(out, "Hello");
    // Bytes after the final block are not DEFLATE.
    out.clear();
    EXPECT_EQ(i.inflate(final_hello + bytes({0xf2, 0x00}), out, 100), Inflater::Status::corrupt);
    // The limit holds for a final block too: its size exactly is fine, one less is too big.
    std::string big(100000, 'z');
    std::string finished_big = zlib_finished(big);
    for (bool resets : {false, true}) {
        Inflater k(resets);
        out.clear();
        ASSERT_EQ(k.inflate(finished_big, out, big.size()), Inflater::Status::ok);
        EXPECT_EQ(out, big);
        out.clear();
        EXPECT_EQ(k.inflate(finished_big, out, big.size() - 1), Inflater::Status::too_big);
        out.clear();
        ASSERT_EQ(k.inflate(final_hello, out, 100), Inflater::Status::ok);  // and it starts afresh
        EXPECT_EQ(out, "Hello");
    }
}

TEST(Deflate, ABombStopsAtTheLimitAndGarbageIsCorrupt) {
    Deflater d(15, 8, false);
    std::string bomb;
    d.compress(std::string(64 << 20, '\0'), bomb);
    EXPECT_LT(bomb.size(), 100u * 1024);
    Inflater i(false);
    std::string out;
    EXPECT_EQ(i.inflate(bomb, out, 1 << 20), Inflater::Status::too_big);
    EXPECT_LE(out.size(), (1u << 20) + 16 * 1024);  // never much more than the limit in memory
    Inflater k(false);
    out.clear();
    EXPECT_EQ(k.inflate(bytes({0xff, 0xff, 0xff, 0xff, 0x13}), out, 100), Inflater::Status::corrupt);
}

TEST(Deflate, LongRandomSessionsStayInStepWithZlib) {
    for (bool takeover : {true, false}) {
        for (int bits : {9, 12, 15}) {
            std::mt19937 rng(static_cast<unsigned>(bits * 2 + takeover));
            Deflater d(bits, 8, !takeover);
            Inflater ours(!takeover);
            z_stream reference{};
            ASSERT_EQ(inflateInit2(&reference, -bits), Z_OK);
            std::string previous;
            for (int n = 0; n < 300; ++n) {
                // Messages that repeat earlier ones in part: the window matters.
                std::string message;
                std::size_t size = rng() % 3000;
                for (std::size_t k = 0; k < size; ++k)
                    message += rng() % 4 == 0 && !previous.empty() ? previous[k % previous.size()]
                                                                    : static_cast<char>('a' + rng() % 6);
                std::string compressed, back;
                d.compress(message, compressed);
                ASSERT_EQ(ours.inflate(compressed, back, 1 << 20), Inflater::Status::ok);
                ASSERT_EQ(back, message) << "message " << n;
                ASSERT_EQ(zlib_inflate(reference, compressed), message) << "zlib, message " << n;
                if (!takeover) inflateReset(&reference);
                previous = message;
            }
            inflateEnd(&reference);
        }
    }
}

TEST(Deflate, AnEmptyMessageIsOneByteThatZlibCanContinueFrom) {
    // After a sync flush zlib writes nothing for an empty message; the payload must still be
    // 00 (RFC 7692 §7.2.3.6), or the receiver's tail starts a block nothing finishes.
    for (bool takeover : {true, false}) {
        Deflater d(12, 8, !takeover);
        z_stream reference{};
        ASSERT_EQ(inflateInit2(&reference, -12), Z_OK);
        for (const std::string& message : {std::string("Hello"), std::string(), std::string(), bytes({0x00, 0x01, 0xff}),
                                           std::string(), std::string("Hello")}) {
            std::string compressed;
            d.compress(message, compressed);
            if (message.empty()) {
                EXPECT_EQ(compressed, bytes({0x00}));
            }
            EXPECT_EQ(zlib_inflate(reference, compressed), message);
            if (!takeover) inflateReset(&reference);
        }
        inflateEnd(&reference);
    }
    Inflater i(false);
    std::string out;
    EXPECT_EQ(i.inflate("", out, 10), Inflater::Status::ok);  // an empty payload from a peer: an empty message
    EXPECT_EQ(out, "");
}

TEST(Deflate, OutputThatFillsTheRoomExactlyIsNotLost) {
    // The inflater's room grows from 4 times the input; a message that fills it exactly, or
    // needs many rounds, comes back whole (zlib may hold output when the room is full).
    for (std::size_t size : {255u, 256u, 257u, 1023u, 1024u, 1025u, 65536u, 262145u, 1u << 20, 3u << 20}) {
        for (char c : {'a', 'q'}) {
            std::string message(size, c);
            for (std::size_t i = 0; i < size; i += 97) message[i] = static_cast<char>('a' + i % 7);
            Deflater d(15, 8, false);
            Inflater i(false);
            std::string compressed, back;
            d.compress(message, compressed);
            ASSERT_EQ(i.inflate(compressed, back, 16u << 20), Inflater::Status::ok) << size;
            ASSERT_EQ(back, message) << size;
            back.clear();
            // The limit exactly at the size: still fine; one less: too big.
            Deflater d2(15, 8, true);
            Inflater i2(true);
            compressed.clear();
            d2.compress(message, compressed);
            ASSERT_EQ(i2.inflate(compressed, back, size), Inflater::Status::ok) << size;
            back.clear();
            ASSERT_EQ(i2.inflate(compressed, back, size - 1), Inflater::Status::too_big) << size;
        }
    }
}
