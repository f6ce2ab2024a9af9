// The chat protocol (design §5) and the page server's path rules.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "proto/chat.hpp"
#include "server/html.hpp"

using namespace ws;
using Kind = chat::ClientMessage::Kind;

TEST(ChatProtocol, ParsesLoginAndChat) {
    auto m = chat::parse_client_message(R"({"type":"LOGIN","name":"alice"})");
    EXPECT_EQ(m.kind, Kind::login);
    EXPECT_EQ(m.name, "alice");
    m = chat::parse_client_message(R"({"type":"CHAT","message":"hi"})");
    EXPECT_EQ(m.kind, Kind::chat);
    EXPECT_EQ(m.message, "hi");
}

TEST(ChatProtocol, BadInputIsInvalidWithAReason) {
    for (const char* text : {"not json", "[1,2]", R"({"name":"x"})", R"({"type":"DANCE"})", R"({"type":"LOGIN"})",
                             R"({"type":"LOGIN","name":""})", R"({"type":"LOGIN","name":42})", R"({"type":"CHAT"})",
                             R"({"type":"CHAT","message":""})"}) {
        auto m = chat::parse_client_message(text);
        EXPECT_EQ(m.kind, Kind::invalid) << text;
        EXPECT_FALSE(m.error.empty()) << text;
    }
}

TEST(ChatProtocol, NameLengthCountsCharactersNotBytes) {
    std::string name32;
    for (int i = 0; i < 32; ++i) name32 += "é";  // 64 bytes, 32 characters
    EXPECT_EQ(chat::parse_client_message(chat::client_login_json(name32)).kind, Kind::login);
    EXPECT_EQ(chat::parse_client_message(chat::client_login_json(name32 + "x")).kind, Kind::invalid);
}

TEST(ChatProtocol, MessageAtTheLimitIsFineAndOverItIsInvalid) {
    EXPECT_EQ(chat::parse_client_message(chat::client_chat_json(std::string(4096, 'm'))).kind, Kind::chat);
    EXPECT_EQ(chat::parse_client_message(chat::client_chat_json(std::string(4097, 'm'))).kind, Kind::invalid);
}

TEST(ChatProtocol, ServerMessagesHaveTheDesignedShape) {
    auto j = nlohmann::json::parse(chat::login_json("alice"));
    EXPECT_EQ(j, nlohmann::json::parse(R"({"type":"LOGIN","message":"alice joined the chat","name":"alice"})"));
    j = nlohmann::json::parse(chat::chat_json("alice", "<b>hi</b>"));
    EXPECT_EQ(j, nlohmann::json::parse(R"({"type":"CHAT","message":"<b>hi</b>","sender":"alice"})"));
    j = nlohmann::json::parse(chat::logout_json("bob"));
    EXPECT_EQ(j["message"], "bob left the chat");
    j = nlohmann::json::parse(chat::users_json({"a", "b"}));
    EXPECT_EQ(j["users"], nlohmann::json::array({"a", "b"}));
    EXPECT_EQ(nlohmann::json::parse(chat::error_json("no"))["type"], "ERROR");
}

TEST(HtmlPages, ServesBuiltInPagesAndTheIndex) {
    auto page = html::find("/", "chatroom.html");
    EXPECT_EQ(page.status, 200);
    EXPECT_NE(page.body.find("id=\"content\""), std::string::npos);  // the original page's ids are kept
    EXPECT_EQ(page.content_type, "text/html; charset=utf-8");
    EXPECT_EQ(html::find("/framing.html?x=1", "chatroom.html").status, 200);
    EXPECT_EQ(html::find("/nope.html", "chatroom.html").status, 404);
    EXPECT_EQ(html::find("/favicon.ico", "chatroom.html").status, 204);
}

TEST(HtmlPages, NoPathLeavesTheHtmlFolder) {
    for (const char* target : {"/../CMakeLists.txt", "/..%2fCMakeLists.txt", "/%2e%2e/CMakeLists.txt", "//etc/passwd",
                               "/html/../../etc/passwd", "/..\\..\\x", "/.hidden", "/%00", "/%zz", "etc/passwd", "/a/b.html"}) {
        EXPECT_EQ(html::find(target, "chatroom.html").status, 404) << target;
        EXPECT_EQ(html::find(target, "chatroom.html", std::string("html")).status, 404) << target;
    }
}
