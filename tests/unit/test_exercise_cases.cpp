// The library against the exercises' cases (tests/cases/exercise_cases.hpp): the same cases
// `make exercises` holds a student's functions to.
#include <gtest/gtest.h>

#include "../cases/exercise_cases.hpp"
#include "net/tls_record.hpp"
#include "proto/deflate.hpp"
#include "proto/engineio.hpp"
#include "proto/frame.hpp"
#include "proto/handshake.hpp"
#include "proto/http.hpp"
#include "proto/utf8.hpp"

using namespace ws;

TEST(ExerciseCases, HeadLength) {
    for (const auto& c : cases::kHeadLength) EXPECT_EQ(http::head_length(c.bytes), c.expected) << c.what;
}

TEST(ExerciseCases, TokenList) {
    // RFC 9110 §5.6.1: a list of tokens, separated by commas, with optional white space.
    for (const auto& c : cases::kTokenList) EXPECT_EQ(http::list_contains(c.list, c.token), c.expected) << c.what;
}

TEST(ExerciseCases, AcceptKey) {
    // RFC 6455 §4.2.2 item 5.4.
    for (const auto& c : cases::kAcceptKey) EXPECT_EQ(handshake::accept_key(c.key), c.accept) << c.what;
}

TEST(ExerciseCases, PayloadLength) {
    // RFC 6455 §5.2: 7 bits, or 126 + 16 bits, or 127 + 64 bits, in network byte order.
    for (const auto& c : cases::kPayloadLength) EXPECT_EQ(read_payload_length(c.header), c.expected) << c.what;
}

TEST(ExerciseCases, Utf8) {
    // RFC 3629 §4, as RFC 6455 §8.1 asks of text.
    for (const auto& c : cases::kUtf8) EXPECT_EQ(is_valid_utf8(c.bytes), c.valid) << c.what;
}

TEST(ExerciseCases, CloseCode) {
    // RFC 6455 §7.4.
    for (const auto& c : cases::kCloseCode) EXPECT_EQ(is_valid_close_code(c.code), c.valid) << c.what << " " << c.code;
}

TEST(ExerciseCases, FrameHeader) {
    // RFC 6455 §5.2 and §5.3: FIN, opcode, the mask bit, the shortest length form, the key.
    for (const auto& c : cases::kFrameHeader) {
        std::uint8_t out[kMaxHeader] = {};
        std::size_t n = write_header(out, c.fin, c.opcode, c.length, c.mask ? &*c.mask : nullptr);
        EXPECT_EQ(std::vector<std::uint8_t>(out, out + n), c.expected) << c.what;
    }
}

TEST(ExerciseCases, TlsRecord) {
    // RFC 8446 §5.1: type, version, length; 5 bytes in the clear before every record.
    for (const auto& c : cases::kTlsRecord) {
        auto got = net::read_tls_record_header(c.bytes);
        ASSERT_EQ(got.has_value(), c.complete) << c.what;
        if (!got) continue;
        EXPECT_EQ(got->type, c.type) << c.what;
        EXPECT_EQ(got->version, c.version) << c.what;
        EXPECT_EQ(got->length, c.length) << c.what;
    }
}

TEST(ExerciseCases, SyncTail) {
    // RFC 7692 §7.2.1: the last 4 bytes of a sync flush, 00 00 ff ff, are not sent.
    for (const auto& c : cases::kSyncTail) EXPECT_EQ(without_sync_tail(c.deflated), c.keep) << c.what;
}

TEST(ExerciseCases, PollingBody) {
    // Engine.IO v4: the packets of a polling body are separated by 0x1e.
    for (const auto& c : cases::kPollingBody) EXPECT_EQ(eio::split_polling_body(c.body), c.packets) << c.what;
}

TEST(ExerciseCases, Roster) {
    // Lesson 10: the room's list from its events, idempotent (a snapshot and late events overlap).
    for (const auto& c : cases::kRoster) {
        chat::Roster roster;
        roster.reset(c.start);
        std::vector<bool> changed;
        for (const auto& e : c.events) changed.push_back(roster.apply(e));
        EXPECT_EQ(changed, c.changed) << c.what;
        EXPECT_EQ(roster.names(), c.names) << c.what;
    }
}
