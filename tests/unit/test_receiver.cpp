// The receiver: every rule of RFC 6455 §5-§8 a server keeps, each with its close code.
#include <gtest/gtest.h>

#include "proto/receiver.hpp"

using namespace ws;

namespace {

const std::array<std::uint8_t, 4> kKey = {0x37, 0xfa, 0x21, 0x3d};

// A frame as a client sends it: masked.
std::string client_frame(std::uint8_t opcode, std::string_view payload, bool fin = true) {
    return build_frame({.opcode = opcode, .fin = fin, .masked = true, .mask = kKey}, payload);
}

struct Collected {
    std::vector<Event::Kind> kinds;
    std::vector<Opcode> types;          // message: text or binary
    std::vector<std::string> payloads;
    std::vector<std::uint16_t> codes;
    std::vector<FrameError> errors;
};

// Feeds `wire` in pieces of `chunk` bytes, as a server's reads might deliver it.
Collected feed(Receiver& receiver, std::string wire, std::size_t chunk = SIZE_MAX) {
    Collected out;
    std::string buffer;
    std::size_t at = 0;
    while (at < wire.size() || !buffer.empty()) {
        std::size_t n = std::min(chunk, wire.size() - at);
        buffer += wire.substr(at, n);
        at += n;
        for (;;) {
            std::size_t consumed = 0;
            Event e = receiver.next(std::span(reinterpret_cast<std::uint8_t*>(buffer.data()), buffer.size()), consumed);
            if (e.kind != Event::Kind::need_more) {
                out.kinds.push_back(e.kind);
                out.types.push_back(e.type);
                out.payloads.emplace_back(e.kind == Event::Kind::fail ? e.reason : e.payload);
                out.codes.push_back(e.code);
                out.errors.push_back(e.error);
            }
            buffer.erase(0, consumed);
            if (e.kind == Event::Kind::fail) return out;
            if (e.kind == Event::Kind::need_more) break;
        }
        if (n == 0) break;
    }
    return out;
}

// Which rule a server's receiver says `wire` breaks, and the close code it fails with.
struct Failure {
    FrameError error = FrameError::none;
    std::uint16_t code = 0;
    bool operator==(const Failure&) const = default;
};
std::ostream& operator<<(std::ostream& os, const Failure& f) { return os << name(f.error) << " " << f.code; }

Failure failure(const std::string& wire, ReceiverLimits limits = {}, Role role = Role::server) {
    Receiver r(role, limits);
    auto got = feed(r, wire);
    if (got.kinds.empty() || got.kinds.back() != Event::Kind::fail) return {};
    EXPECT_EQ(got.payloads.back(), describe(got.errors.back()));
    return {got.errors.back(), got.codes.back()};
}

const Failure kReservedBits{FrameError::reserved_bits, 1002};

}  // namespace

TEST(Receiver, DeliversAMaskedTextMessage) {
    Receiver r(Role::server);
    auto got = feed(r, client_frame(0x1, "Hello"));
    ASSERT_EQ(got.kinds, std::vector{Event::Kind::message});
    EXPECT_EQ(got.types[0], Opcode::text);
    EXPECT_EQ(got.payloads[0], "Hello");
}

TEST(Receiver, DeliversBinaryAsBinary) {
    // RFC 6455 §5.6: the opcode says how the payload is to be read; binary is not text.
    Receiver r(Role::server);
    auto got = feed(r, client_frame(0x2, "Hello") + client_frame(0x2, "he", false) + client_frame(0x0, "llo"));
    ASSERT_EQ(got.kinds, (std::vector{Event::Kind::message, Event::Kind::message}));
    EXPECT_EQ(got.types, (std::vector{Opcode::binary, Opcode::binary}));
    EXPECT_EQ(got.payloads, (std::vector<std::string>{"Hello", "hello"}));
}

TEST(Receiver, ReassemblesFragmentsWithControlFramesBetween) {
    // RFC 6455 §5.4: control frames MAY be injected in the middle of a fragmented message.
    Receiver r(Role::server);
    std::string wire = client_frame(0x1, "Hel", false) + client_frame(0x9, "ping!") + client_frame(0x0, "l", false) +
                       client_frame(0xA, "") + client_frame(0x0, "o");
    auto got = feed(r, wire);
    ASSERT_EQ(got.kinds, (std::vector{Event::Kind::ping, Event::Kind::pong, Event::Kind::message}));
    EXPECT_EQ(got.payloads[0], "ping!");
    EXPECT_EQ(got.payloads[2], "Hello");
    EXPECT_EQ(got.types[2], Opcode::text);
}

TEST(Receiver, SameEventsWhateverTheReadSizes) {
    std::string wire = client_frame(0x1, "first") + client_frame(0x2, std::string(300, 'b'), false) +
                       client_frame(0x0, std::string(70000, 'c')) + client_frame(0x9, "p") +
                       client_frame(0x1, "κόσμε, split everywhere") + client_frame(0x8, close_payload(1000, "bye"));
    // What must come out, written down, not taken from a receiver.
    const std::vector kinds = {Event::Kind::message, Event::Kind::message, Event::Kind::ping, Event::Kind::message,
                               Event::Kind::close};
    const std::vector types = {Opcode::text, Opcode::binary, Opcode::ping, Opcode::text, Opcode::close};
    const std::vector<std::string> payloads = {"first", std::string(300, 'b') + std::string(70000, 'c'), "p",
                                               "κόσμε, split everywhere", "bye"};
    for (std::size_t chunk : {SIZE_MAX, std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{5},
                              std::size_t{13}, std::size_t{127}, std::size_t{1000}, std::size_t{4096}}) {
        Receiver r(Role::server);
        auto got = feed(r, wire, chunk);
        EXPECT_EQ(got.kinds, kinds) << "chunk " << chunk;
        EXPECT_EQ(got.types, types) << "chunk " << chunk;
        EXPECT_TRUE(got.payloads == payloads) << "chunk " << chunk;  // (70 kB: not printed)
        EXPECT_EQ(got.codes.back(), 1000) << "chunk " << chunk;
    }
}

TEST(Receiver, EmptyMessagesAreDelivered) {
    Receiver r(Role::server);
    auto got = feed(r, client_frame(0x1, "") + client_frame(0x2, "") + client_frame(0x1, "", false) + client_frame(0x0, ""));
    EXPECT_EQ(got.kinds, (std::vector<Event::Kind>(3, Event::Kind::message)));
}

TEST(Receiver, UnmaskedClientFrameIsAProtocolError) {
    // RFC 6455 §5.1: "a server MUST close the connection upon receiving a frame that is not masked".
    EXPECT_EQ(failure(build_frame({.opcode = 0x1}, "Hello")), (Failure{FrameError::unmasked_client_frame, 1002}));
}

TEST(Receiver, MaskedServerFrameIsAProtocolErrorForAClient) {
    // RFC 6455 §5.1: "A client MUST close a connection if it detects a masked frame".
    EXPECT_EQ(failure(client_frame(0x1, "Hello"), {}, Role::client), (Failure{FrameError::masked_server_frame, 1002}));
}

TEST(Receiver, RsvBitsMustBeZero) {
    // RFC 6455 §5.2: RSV1-3 MUST be 0 unless an extension defining them was negotiated.
    for (bool r1 : {false, true})
        for (bool r2 : {false, true})
            for (bool r3 : {false, true}) {
                if (!r1 && !r2 && !r3) continue;
                auto wire = build_frame({.opcode = 0x1, .rsv1 = r1, .rsv2 = r2, .rsv3 = r3, .masked = true, .mask = kKey}, "x");
                EXPECT_EQ(failure(wire), kReservedBits);
            }
}

TEST(Receiver, ReservedOpcodesAreProtocolErrors) {
    // RFC 6455 §5.2: opcodes 3-7 and B-F are reserved; "the receiving endpoint MUST _Fail_".
    for (std::uint8_t op : {3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF}) EXPECT_EQ(failure(client_frame(op, "")), (Failure{FrameError::reserved_opcode, 1002})) << int(op);
}

TEST(Receiver, FragmentedControlFrameIsAProtocolError) {
    // RFC 6455 §5.5: "Control frames themselves MUST NOT be fragmented."
    EXPECT_EQ(failure(client_frame(0x9, "x", false)), (Failure{FrameError::fragmented_control, 1002}));
}

TEST(Receiver, ControlFrameAt125BytesIsFineAndOverIsAProtocolError) {
    // RFC 6455 §5.5: "All control frames MUST have a payload length of 125 bytes or less".
    Receiver r(Role::server);
    auto got = feed(r, client_frame(0x9, std::string(125, 'p')));
    EXPECT_EQ(got.kinds, std::vector{Event::Kind::ping});
    EXPECT_EQ(failure(client_frame(0x9, std::string(126, 'p'))), (Failure{FrameError::control_too_long, 1002}));
}

TEST(Receiver, ContinuationWithoutAStartIsAProtocolError) {
    EXPECT_EQ(failure(client_frame(0x0, "orphan")), (Failure{FrameError::orphan_continuation, 1002}));
}

TEST(Receiver, NewDataFrameInsideAFragmentedMessageIsAProtocolError) {
    EXPECT_EQ(failure(client_frame(0x1, "a", false) + client_frame(0x1, "b")), (Failure{FrameError::expected_continuation, 1002}));
}

TEST(Receiver, InvalidUtf8TextIs1007) {
    // RFC 6455 §8.1: text that is not valid UTF-8 fails the connection with 1007.
    EXPECT_EQ(failure(client_frame(0x1, "\xed\xa0\x80")), (Failure{FrameError::text_not_utf8, 1007}));
    EXPECT_EQ(failure(client_frame(0x1, "ok\xc3", false) + client_frame(0x0, "")), (Failure{FrameError::text_cut_short, 1007}));  // cut at the end
}

TEST(Receiver, InvalidUtf8FailsFastInTheFirstBadFragment) {
    // Autobahn 6.4.1: the second fragment makes the text invalid; fail before the third arrives.
    Receiver r(Role::server);
    auto got = feed(r, client_frame(0x1, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5", false) + client_frame(0x0, "\xf4\x90\x80\x80", false));
    ASSERT_EQ(got.kinds.back(), Event::Kind::fail);
    EXPECT_EQ(got.codes.back(), 1007);
    EXPECT_EQ(got.errors.back(), FrameError::text_not_utf8);
}

TEST(Receiver, InvalidUtf8FailsFastInsideAFrameStillArriving) {
    // Autobahn 6.4.3: one frame sent in chunks; fail at the first invalid chunk.
    std::string frame = client_frame(0x1, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80" + std::string(1000, 'a'));
    Receiver r(Role::server);
    std::string part = frame.substr(0, 30);  // the header, the valid text and the bad bytes, not the rest
    std::size_t consumed = 0;
    Event e = r.next(std::span(reinterpret_cast<std::uint8_t*>(part.data()), part.size()), consumed);
    EXPECT_EQ(e.kind, Event::Kind::fail);
    EXPECT_EQ(e.code, 1007);
    EXPECT_EQ(e.error, FrameError::text_not_utf8);
}

TEST(Receiver, BinaryIsNotCheckedAsText) {
    Receiver r(Role::server);
    auto got = feed(r, client_frame(0x2, "\xff\xfe\x00"));
    EXPECT_EQ(got.kinds, std::vector{Event::Kind::message});
    EXPECT_EQ(got.types, std::vector{Opcode::binary});
}

TEST(Receiver, MessageAtTheLimitIsDeliveredAndOverItIs1009) {
    ReceiverLimits limits{1000};
    Receiver r(Role::server, limits);
    auto got = feed(r, client_frame(0x2, std::string(1000, 'x')));
    EXPECT_EQ(got.kinds, std::vector{Event::Kind::message});
    EXPECT_EQ(failure(client_frame(0x2, std::string(1001, 'x')), limits), (Failure{FrameError::message_too_big, 1009}));
    // Fragments count together.
    EXPECT_EQ(failure(client_frame(0x2, std::string(600, 'x'), false) + client_frame(0x0, std::string(401, 'x')), limits), (Failure{FrameError::message_too_big, 1009}));
}

TEST(Receiver, AHugeLengthIsRefusedFromTheHeaderAlone) {
    // A 64-bit length is checked against the limit before anything is allocated or awaited.
    std::string header = "\x82\xff";
    for (int i = 0; i < 8; ++i) header += i == 0 ? '\x7f' : '\xff';
    header += "\x01\x02\x03\x04";
    Receiver r(Role::server);
    std::size_t consumed = 0;
    Event e = r.next(std::span(reinterpret_cast<std::uint8_t*>(header.data()), header.size()), consumed);
    EXPECT_EQ(e.kind, Event::Kind::fail);
    EXPECT_EQ(e.code, 1009);
    EXPECT_EQ(e.error, FrameError::message_too_big);
    EXPECT_EQ(consumed, 0u);
}

TEST(Receiver, ALengthWithItsTopBitSetIsAProtocolError) {
    // RFC 6455 §5.2: "the most significant bit MUST be 0".
    std::string header = "\x82\xff\x80";
    header += std::string(7, '\0') + "\x01\x02\x03\x04";
    EXPECT_EQ(failure(header), (Failure{FrameError::length_high_bit, 1002}));
}

TEST(Receiver, CloseFramePayloads) {
    // RFC 6455 §5.5.1 and §7.4: no body, or a 2-byte valid code and a UTF-8 reason.
    {
        Receiver r(Role::server);
        auto got = feed(r, client_frame(0x8, ""));
        ASSERT_EQ(got.kinds, std::vector{Event::Kind::close});
        EXPECT_EQ(got.codes[0], 1005);
    }
    {
        Receiver r(Role::server);
        auto got = feed(r, client_frame(0x8, close_payload(1000, "done")));
        ASSERT_EQ(got.kinds, std::vector{Event::Kind::close});
        EXPECT_EQ(got.codes[0], 1000);
        EXPECT_EQ(got.payloads[0], "done");
    }
    EXPECT_EQ(failure(client_frame(0x8, "\x03")), (Failure{FrameError::close_one_byte, 1002}));
    EXPECT_EQ(failure(client_frame(0x8, close_payload(1005, ""))), (Failure{FrameError::bad_close_code, 1002}));  // may not be sent
    EXPECT_EQ(failure(client_frame(0x8, close_payload(999, ""))), (Failure{FrameError::bad_close_code, 1002}));
    EXPECT_EQ(failure(client_frame(0x8, close_payload(5000, ""))), (Failure{FrameError::bad_close_code, 1002}));
    EXPECT_EQ(failure(client_frame(0x8, close_payload(1000, "\xff"))), (Failure{FrameError::close_reason_not_utf8, 1007}));
    for (int code : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999}) {
        Receiver r(Role::server);
        auto got = feed(r, client_frame(0x8, close_payload(static_cast<std::uint16_t>(code), "")));
        EXPECT_EQ(got.kinds, std::vector{Event::Kind::close}) << code;
    }
}

TEST(Receiver, StaysFailedAfterAFailure) {
    Receiver r(Role::server);
    std::string bad = build_frame({.opcode = 0x1}, "x");
    std::size_t consumed = 0;
    EXPECT_EQ(r.next(std::span(reinterpret_cast<std::uint8_t*>(bad.data()), bad.size()), consumed).kind, Event::Kind::fail);
    std::string good = client_frame(0x1, "y");
    EXPECT_EQ(r.next(std::span(reinterpret_cast<std::uint8_t*>(good.data()), good.size()), consumed).kind, Event::Kind::fail);
}

TEST(Receiver, TheSameRuleFiresWhateverTheReadSizes) {
    // Found by the fuzzer: text that ends inside a character was "not UTF-8" when the frame came
    // whole and "cut short" when it came in pieces, so the close reason differed.
    std::string wire = client_frame(0x1, "ok\xe0");
    for (std::size_t chunk : {SIZE_MAX, std::size_t{1}, std::size_t{3}}) {
        Receiver r(Role::server);
        auto got = feed(r, wire, chunk);
        ASSERT_EQ(got.kinds, std::vector{Event::Kind::fail}) << "chunk " << chunk;
        EXPECT_EQ(got.errors.back(), FrameError::text_cut_short) << "chunk " << chunk;
    }
    EXPECT_EQ(failure(client_frame(0x1, "\xe0ok")), (Failure{FrameError::text_not_utf8, 1007}));
}

TEST(Receiver, Rsv1MarksACompressedMessageOnlyWhenAnExtensionAllowsIt) {
    // RFC 7692 §6: with permessage-deflate, RSV1 set on a message's first frame says "compressed";
    // on a continuation or a control frame it is an error. The UTF-8 check waits for inflating.
    std::string compressed = build_frame({.opcode = 0x1, .rsv1 = true, .masked = true, .mask = kKey}, "\xf2\x48\xcd\xc9\xc9\x07\x00");
    EXPECT_EQ(failure(compressed), kReservedBits);  // not negotiated
    Receiver r(Role::server);
    r.rsv1_allowed = true;
    std::size_t consumed = 0;
    Event e = r.next(std::span(reinterpret_cast<std::uint8_t*>(compressed.data()), compressed.size()), consumed);
    ASSERT_EQ(e.kind, Event::Kind::message);
    EXPECT_TRUE(e.compressed);
    EXPECT_EQ(e.payload, "\xf2\x48\xcd\xc9\xc9\x07\x00");
    for (std::uint8_t op : {0x9, 0x0}) {
        Receiver r2(Role::server);
        r2.rsv1_allowed = true;
        std::string wire = (op == 0 ? client_frame(0x1, "a", false) : std::string()) +
                           build_frame({.opcode = op, .rsv1 = true, .masked = true, .mask = kKey}, "x");
        auto got = feed(r2, wire);
        ASSERT_FALSE(got.errors.empty());
        EXPECT_EQ(got.errors.back(), FrameError::compressed_bit_misplaced) << int(op);
        EXPECT_EQ(got.codes.back(), 1002);
    }
}
