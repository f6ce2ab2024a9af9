// UTF-8 validation (RFC 3629; RFC 6455 §8.1), whole and split at every byte.
#include <gtest/gtest.h>

#include "proto/utf8.hpp"

using ws::is_valid_utf8;
using ws::Utf8Validator;

namespace {

const std::vector<std::string> kValid = {
    "",
    "Hello",
    "κόσμε",
    "\xc2\x80",                  // U+0080, the smallest two-byte form
    "\xdf\xbf",                  // U+07FF
    "\xe0\xa0\x80",              // U+0800, the smallest three-byte form
    "\xed\x9f\xbf",              // U+D7FF, just below the surrogates
    "\xee\x80\x80",              // U+E000, just above them
    "\xef\xbf\xbf",              // U+FFFF
    "\xf0\x90\x80\x80",          // U+10000, the smallest four-byte form
    "\xf4\x8f\xbf\xbf",          // U+10FFFF, the largest code point
    "Hello-µ@ßöäüàá-UTF-8!!",
    "a much longer ASCII line to exercise the eight-bytes-at-a-time path, twice over!!",
};

const std::vector<std::string> kInvalid = {
    "\x80",                      // a continuation byte without a lead
    "\xbf",
    "\xc0\x80",                  // overlong NUL
    "\xc1\xbf",                  // overlong
    "\xe0\x80\x80",              // overlong three-byte
    "\xe0\x9f\xbf",              // overlong U+07FF
    "\xed\xa0\x80",              // U+D800, a surrogate
    "\xed\xbf\xbf",              // U+DFFF
    "\xf0\x80\x80\x80",          // overlong four-byte
    "\xf0\x8f\xbf\xbf",          // overlong U+FFFF
    "\xf4\x90\x80\x80",          // U+110000, above the last code point
    "\xf5\x80\x80\x80",
    "\xff",
    "\xfe",
    "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64",  // Autobahn 6.3.1
    "abc\xc3",                   // cut short at the end
    "\xe2\x82",
    "\xf0\x9f\x98",
    "\xc3\x28",                  // a lead followed by ASCII
};

}  // namespace

TEST(Utf8, ValidCorpusIsAccepted) {
    for (const auto& s : kValid) EXPECT_TRUE(is_valid_utf8(s)) << s;
}

TEST(Utf8, InvalidCorpusIsRefused) {
    for (const auto& s : kInvalid) EXPECT_FALSE(is_valid_utf8(s)) << testing::PrintToString(s);
}

TEST(Utf8, SplitAtEveryByteGivesTheSameAnswer) {
    auto check = [](const std::string& s, bool expected) {
        for (std::size_t split = 0; split <= s.size(); ++split) {
            Utf8Validator v;
            bool ok = v.feed(std::string_view(s).substr(0, split));
            ok = v.feed(std::string_view(s).substr(split)) && ok;
            EXPECT_EQ(ok && v.complete(), expected) << testing::PrintToString(s) << " split at " << split;
        }
    };
    for (const auto& s : kValid) check(s, true);
    for (const auto& s : kInvalid) check(s, false);
}

TEST(Utf8, FailsAtTheFirstInvalidByteNotAtTheEnd) {
    // RFC 6455 §8.1 and Autobahn 6.4: a receiver should fail as soon as the text cannot be valid.
    Utf8Validator v;
    EXPECT_TRUE(v.feed("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"));
    EXPECT_FALSE(v.feed("\xf4\x90"));  // F4 90 is already above U+10FFFF
    EXPECT_TRUE(v.failed());
    EXPECT_FALSE(v.feed("abc"));       // and it stays failed
}

TEST(Utf8, ACutSequenceIsFineMidMessageButNotAtTheEnd) {
    Utf8Validator v;
    EXPECT_TRUE(v.feed("\xe2\x82"));
    EXPECT_FALSE(v.complete());
    EXPECT_TRUE(v.feed("\xac"));  // U+20AC, the euro sign, completed
    EXPECT_TRUE(v.complete());
}

TEST(Utf8, EveryCodePointRoundTrip) {
    // Encode every scalar value and check it; encode each surrogate and check it is refused.
    auto encode = [](char32_t c) {
        std::string s;
        if (c < 0x80) s += static_cast<char>(c);
        else if (c < 0x800) { s += static_cast<char>(0xC0 | (c >> 6)); s += static_cast<char>(0x80 | (c & 0x3F)); }
        else if (c < 0x10000) {
            s += static_cast<char>(0xE0 | (c >> 12)); s += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
            s += static_cast<char>(0x80 | (c & 0x3F));
        } else {
            s += static_cast<char>(0xF0 | (c >> 18)); s += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
            s += static_cast<char>(0x80 | ((c >> 6) & 0x3F)); s += static_cast<char>(0x80 | (c & 0x3F));
        }
        return s;
    };
    for (char32_t c = 0; c <= 0x10FFFF; c += (c < 0x800 ? 1 : 7)) {
        bool surrogate = c >= 0xD800 && c <= 0xDFFF;
        ASSERT_EQ(is_valid_utf8(encode(c)), !surrogate) << std::hex << static_cast<unsigned>(c);
    }
}
