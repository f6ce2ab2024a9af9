// print::printable and print::bare: how a value from the network is shown, in both languages.
#include <gtest/gtest.h>

#include <string>

#include "i18n/i18n.hpp"
#include "print/print.hpp"

using namespace ws;

namespace {

// Each test in one language; English again afterwards, for the other tests.
class InLanguage : public ::testing::Test {
protected:
    void TearDown() override { i18n::set_language(i18n::Lang::en); }
};

TEST_F(InLanguage, ShortTextIsQuotedWithItsEscapes) {
    EXPECT_EQ(print::printable("hi"), "\"hi\"");
    EXPECT_EQ(print::printable("a\nb\tc"), "\"a\\nb\\tc\"");
    EXPECT_EQ(print::bare("a\nb"), "a\\nb");
}

TEST_F(InLanguage, LongTextIsCutWithItsSizeInTheLessonsLanguage) {
    const std::string long_text(100, 'x');
    EXPECT_EQ(print::printable(long_text, 4), "\"xxxx\"… (100 bytes)");
    i18n::set_language(i18n::Lang::zh);
    EXPECT_EQ(print::printable(long_text, 4), "\"xxxx\"…（100 字节）");
}

TEST_F(InLanguage, CutsAtACharacterNotInsideOne) {
    EXPECT_EQ(print::printable("你好世界", 2), "\"你好\"… (12 bytes)");
    EXPECT_EQ(print::bare("你好世界", 2), "你好…");
}

TEST_F(InLanguage, BytesThatAreNotTextAreHex) {
    EXPECT_EQ(print::printable(std::string("\x01\xff", 2)), "01 ff");
    EXPECT_EQ(print::printable(std::string(30, '\x01'), 9), "01 01 01 … (30 bytes)");
    EXPECT_EQ(print::bare(std::string(30, '\x01'), 9), "01 01 01 …");
}

TEST_F(InLanguage, BareIsTheSameInEveryLanguage) {
    // bare() goes into bytes a peer gets (an Engine.IO refusal's JSON, a chat ERROR notice).
    const std::string long_text(100, 'x');
    std::string en = print::bare(long_text, 4), en_hex = print::bare(std::string(30, '\x01'), 9);
    i18n::set_language(i18n::Lang::zh);
    EXPECT_EQ(print::bare(long_text, 4), en);
    EXPECT_EQ(print::bare(std::string(30, '\x01'), 9), en_hex);
    EXPECT_EQ(en, "xxxx…");
}

}  // namespace
