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

TEST(ChatProtocol, RoomEventsAsTheServersSendThem) {
    using Kind = chat::RoomEvent::Kind;
    EXPECT_EQ(chat::room_event_json({Kind::login, "alice", {}, "A"}), R"({"type":"LOGIN","name":"alice","server":"A"})");
    EXPECT_EQ(chat::room_event_json({Kind::chat, "alice", "hi \"you\"", "A"}),
              R"({"type":"CHAT","name":"alice","message":"hi \"you\"","server":"A"})");
    // As Redis's Lua (cjson) writes them: another key order, "/" escaped.
    auto e = chat::parse_room_event(R"({"server":"127.0.0.1:1-ab","name":"a\/b","type":"LOGOUT"})");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->kind, Kind::logout);
    EXPECT_EQ(e->name, "a/b");
    EXPECT_EQ(e->server, "127.0.0.1:1-ab");
    auto back = chat::parse_room_event(chat::room_event_json({Kind::chat, "bob", "κόσμε", "B"}));
    ASSERT_TRUE(back);
    EXPECT_EQ(back->message, "κόσμε");
    // Anything else on the channel is not an event.
    for (const char* bad : {"", "[]", "{}", R"({"type":"CHAT","name":"a","server":"A"})", R"({"type":"LOGIN","server":"A"})",
                            R"({"type":"LOGIN","name":"","server":"A"})", R"({"type":"DANCE","name":"a","server":"A"})",
                            R"({"type":"LOGIN","name":7,"server":"A"})", "not json"})
        EXPECT_FALSE(chat::parse_room_event(bad)) << bad;
    // What no client could have sent is not an event either (a forged or foreign publisher).
    chat::Limits limits;
    limits.max_name_chars = 3;
    limits.max_message_bytes = 5;
    EXPECT_TRUE(chat::parse_room_event(R"({"type":"LOGIN","name":"κόσ","server":"A"})", limits));  // 3 characters, 6 bytes
    EXPECT_FALSE(chat::parse_room_event(R"({"type":"LOGIN","name":"abcd","server":"A"})", limits));
    EXPECT_TRUE(chat::parse_room_event(R"({"type":"CHAT","name":"a","message":"12345","server":"A"})", limits));
    EXPECT_FALSE(chat::parse_room_event(R"({"type":"CHAT","name":"a","message":"123456","server":"A"})", limits));
    EXPECT_TRUE(chat::parse_room_event(chat::room_event_json({Kind::logout, "a", {}, std::string(chat::kMaxServerName, 's')})));
    EXPECT_FALSE(chat::parse_room_event(chat::room_event_json({Kind::logout, "a", {}, std::string(chat::kMaxServerName + 1, 's')})));
}

TEST(ChatProtocol, WhatAPageShowsForEachMessage) {
    EXPECT_EQ(chat::screen_line(chat::chat_json("alice", "hi")), "alice: hi");
    EXPECT_EQ(chat::screen_line(chat::login_json("bob")), "system: bob joined the chat");
    EXPECT_EQ(chat::screen_line(chat::users_json({"a", "b"})), "in the room: [\"a\",\"b\"]");
    EXPECT_EQ(chat::screen_line(chat::error_json("no")), "error: no");
    EXPECT_EQ(chat::screen_line("[1]"), "(not a chat message) [1]");
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
