// Frame headers and masking (RFC 6455 §5.2, §5.3, §5.7).
#include <gtest/gtest.h>

#include <random>

#include "proto/frame.hpp"

#include "bytes.hpp"
using namespace ws;

namespace {

HeaderParse parse(std::string_view s) {
    return parse_header(std::span(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()));
}

const std::array<std::uint8_t, 4> kRfcKey = {0x37, 0xfa, 0x21, 0x3d};

}  // namespace

// RFC 6455 §5.7, each example built and parsed.
TEST(FrameRfcExamples, UnmaskedHello) {
    std::string rfc = bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f});
    EXPECT_EQ(build_frame({.opcode = 0x1}, "Hello"), rfc);
    auto p = parse(rfc);
    ASSERT_EQ(p.status, HeaderParse::Status::ok);
    EXPECT_TRUE(p.header.fin);
    EXPECT_EQ(p.header.opcode, 0x1);
    EXPECT_FALSE(p.header.masked);
    EXPECT_EQ(p.header.payload_length, 5u);
    EXPECT_EQ(p.header.header_length, 2u);
}

TEST(FrameRfcExamples, MaskedHello) {
    std::string rfc = bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
    EXPECT_EQ(build_frame({.opcode = 0x1, .masked = true, .mask = kRfcKey}, "Hello"), rfc);
    auto p = parse(rfc);
    ASSERT_EQ(p.status, HeaderParse::Status::ok);
    EXPECT_TRUE(p.header.masked);
    EXPECT_EQ(p.header.mask, kRfcKey);
    EXPECT_EQ(p.header.header_length, 6u);
    std::string payload = rfc.substr(6);
    apply_mask(reinterpret_cast<std::uint8_t*>(payload.data()), payload.size(), p.header.mask);
    EXPECT_EQ(payload, "Hello");
}

TEST(FrameRfcExamples, FragmentedHello) {
    EXPECT_EQ(build_frame({.opcode = 0x1, .fin = false}, "Hel"), bytes({0x01, 0x03, 0x48, 0x65, 0x6c}));
    EXPECT_EQ(build_frame({.opcode = 0x0}, "lo"), bytes({0x80, 0x02, 0x6c, 0x6f}));
    EXPECT_FALSE(parse(bytes({0x01, 0x03})).header.fin);
}

TEST(FrameRfcExamples, PingAndMaskedPong) {
    EXPECT_EQ(build_frame({.opcode = 0x9}, "Hello"), bytes({0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));
    EXPECT_EQ(build_frame({.opcode = 0xA, .masked = true, .mask = kRfcKey}, "Hello"),
              bytes({0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));
}

TEST(FrameRfcExamples, Binary256And64KiB) {
    std::string f256 = build_frame({.opcode = 0x2}, std::string(256, 'x'));
    EXPECT_EQ(f256.substr(0, 4), bytes({0x82, 0x7E, 0x01, 0x00}));
    std::string f64k = build_frame({.opcode = 0x2}, std::string(65536, 'x'));
    EXPECT_EQ(f64k.substr(0, 10), bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0}));
    EXPECT_EQ(parse(f64k).header.payload_length, 65536u);
    EXPECT_EQ(parse(f64k).header.length_form, LengthForm::sixty_four_bit);
}

// Length boundaries: the shortest form is used, and each form parses back.
class FrameLength : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(FrameLength, WritesTheShortestFormAndParsesBack) {
    std::uint64_t n = GetParam();
    std::uint8_t header[14];
    std::size_t len = write_header(header, true, 0x2, n, nullptr);
    std::size_t expected = n <= 125 ? 2 : n <= 65535 ? 4 : 10;
    EXPECT_EQ(len, expected);
    auto p = parse_header(std::span<const std::uint8_t>(header, len));
    ASSERT_EQ(p.status, HeaderParse::Status::ok);
    EXPECT_EQ(p.header.payload_length, n);
    // One byte short of the header is "need more", never an error.
    EXPECT_EQ(parse_header(std::span<const std::uint8_t>(header, len - 1)).status, HeaderParse::Status::need_more);
}

INSTANTIATE_TEST_SUITE_P(Boundaries, FrameLength,
                         ::testing::Values(0, 1, 125, 126, 127, 65535, 65536, 1ull << 32, (1ull << 63) - 1));

TEST(FrameHeader, NonMinimalLengthsAreAccepted) {
    // RFC 6455 §5.2 asks senders for the minimal form; receivers here accept the others.
    auto p = parse(bytes({0x82, 0x7E, 0x00, 0x05}));
    ASSERT_EQ(p.status, HeaderParse::Status::ok);
    EXPECT_EQ(p.header.payload_length, 5u);
    p = parse(bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 0, 0, 5}));
    ASSERT_EQ(p.status, HeaderParse::Status::ok);
    EXPECT_EQ(p.header.payload_length, 5u);
}

TEST(FrameHeader, SixtyFourBitLengthWithTopBitSetIsAnError) {
    // RFC 6455 §5.2: "the most significant bit MUST be 0".
    auto p = parse(bytes({0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0}));
    EXPECT_EQ(p.status, HeaderParse::Status::error);
}

TEST(FrameHeader, ReadsRsvBitsAndMaskKey) {
    auto p = parse(bytes({0xF1, 0x80, 1, 2, 3, 4}));
    ASSERT_EQ(p.status, HeaderParse::Status::ok);
    EXPECT_TRUE(p.header.rsv1 && p.header.rsv2 && p.header.rsv3);
    EXPECT_EQ(p.header.mask, (std::array<std::uint8_t, 4>{1, 2, 3, 4}));
}

TEST(Masking, MatchesAByteAtATimeReferenceForEveryLengthPhaseAndAlignment) {
    std::mt19937 rng(12345);
    for (int trial = 0; trial < 400; ++trial) {
        std::size_t length = rng() % 300;
        std::size_t align = rng() % 8;
        std::size_t phase = rng() % 4;
        std::array<std::uint8_t, 4> key{};
        for (auto& k : key) k = static_cast<std::uint8_t>(rng());
        std::vector<std::uint8_t> buffer(length + align);
        for (auto& b : buffer) b = static_cast<std::uint8_t>(rng());
        std::vector<std::uint8_t> expected = buffer;
        for (std::size_t i = 0; i < length; ++i) expected[align + i] ^= key[(phase + i) % 4];
        std::size_t next = apply_mask(buffer.data() + align, length, key, phase);
        ASSERT_EQ(buffer, expected) << "length " << length << " align " << align << " phase " << phase;
        EXPECT_EQ(next, (phase + length) % 4);
    }
}

TEST(Masking, InPiecesEqualsAllAtOnce) {
    std::string data(1000, '\0');
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 31);
    std::string whole = data, pieces = data;
    apply_mask(reinterpret_cast<std::uint8_t*>(whole.data()), whole.size(), kRfcKey);
    std::size_t phase = 0, at = 0;
    for (std::size_t step : {1, 2, 3, 7, 64, 123, 800}) {
        phase = apply_mask(reinterpret_cast<std::uint8_t*>(pieces.data() + at), step, kRfcKey, phase);
        at += step;
    }
    EXPECT_EQ(whole, pieces);
}

TEST(CloseCodes, OnlyValidCodesMayBeSent) {
    for (int code : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999})
        EXPECT_TRUE(is_valid_close_code(static_cast<std::uint16_t>(code))) << code;
    for (int code : {0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535})
        EXPECT_FALSE(is_valid_close_code(static_cast<std::uint16_t>(code))) << code;
}

TEST(CloseCodes, ALongReasonIsCutToFitAControlFrameOnACharacterBoundary) {
    // RFC 6455 §5.5: a control frame's payload is at most 125 bytes; 2 of them hold the code.
    std::string reason;
    for (int i = 0; i < 100; ++i) reason += "é";  // 200 bytes, 2 per character
    std::string payload = close_payload(1001, reason);
    EXPECT_EQ(payload.size(), 2u + 122u);  // 123 would split the 62nd "é"
    EXPECT_EQ(payload.substr(2), reason.substr(0, 122));
    EXPECT_EQ(close_payload(1000, std::string(123, 'r')).size(), 125u);
    EXPECT_EQ(close_payload(1000, std::string(500, 'r')).size(), 125u);
}
