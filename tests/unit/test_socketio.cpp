// Engine.IO v4 and Socket.IO v5 packets: the examples of their protocol documents
// (socket.io/docs/v4/engine-io-protocol and socket-io-protocol), every prefix of a valid
// input, and the named errors for bad ones.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "proto/engineio.hpp"
#include "proto/socketio.hpp"

using namespace ws;

TEST(EngineIo, PacketsAsTheProtocolDocumentWritesThem) {
    auto r = eio::parse_text("4hello");
    ASSERT_TRUE(r.packet);
    EXPECT_EQ(r.packet->type, eio::PacketType::message);
    EXPECT_EQ(r.packet->data, "hello");
    r = eio::parse_text("2probe");
    ASSERT_TRUE(r.packet);
    EXPECT_EQ(r.packet->type, eio::PacketType::ping);
    EXPECT_EQ(r.packet->data, "probe");
    EXPECT_EQ(eio::encode_text({eio::PacketType::pong, "probe", false}), "3probe");
    EXPECT_EQ(eio::encode_text({eio::PacketType::noop, "", false}), "6");
    EXPECT_EQ(eio::parse_text("").error, eio::Error::empty_packet);
    EXPECT_EQ(eio::parse_text("7").error, eio::Error::unknown_type);
    EXPECT_EQ(eio::parse_text("\x01x").detail, "type byte 0x01");
}

TEST(EngineIo, APollingBodyJoinsPacketsWithTheRecordSeparator) {
    // The document's example: "hello", then a binary message of bytes 1 2 3 4.
    auto body = eio::parse_payload("4hello\x1e" "bAQIDBA==");
    ASSERT_TRUE(body.ok()) << body.detail;
    ASSERT_EQ(body.packets.size(), 2u);
    EXPECT_EQ(body.packets[0].data, "hello");
    EXPECT_FALSE(body.packets[0].binary);
    EXPECT_TRUE(body.packets[1].binary);
    EXPECT_EQ(body.packets[1].data, std::string("\x01\x02\x03\x04", 4));
    EXPECT_EQ(eio::encode_payload(body.packets), "4hello\x1e" "bAQIDBA==");
    // One bad packet refuses the body, and says which.
    auto bad = eio::parse_payload("4ok\x1e" "b!!!!");
    EXPECT_EQ(bad.error, eio::Error::bad_base64);
    EXPECT_TRUE(bad.packets.empty());
    EXPECT_NE(bad.detail.find("packet 2"), std::string::npos);
    EXPECT_EQ(eio::parse_payload("4a\x1e\x1e" "4b").error, eio::Error::empty_packet);
    EXPECT_EQ(eio::parse_payload(std::string(11, '4'), {.max_payload = 10}).error, eio::Error::too_large);
    std::string many;
    for (int i = 0; i < 5; ++i) many += "6\x1e";
    many += "6";
    EXPECT_EQ(eio::parse_payload(many, {.max_payload = 100, .max_packets = 5}).error, eio::Error::too_many_packets);
}

TEST(EngineIo, EveryPrefixOfABodyIsAPacketListOrANamedError) {
    const std::string body = "0{\"sid\":\"x\"}\x1e" "4hello\x1e" "bAQIDBA==\x1e" "2\x1e" "6";
    for (std::size_t n = 0; n <= body.size(); ++n) {
        const std::string prefix = body.substr(0, n);
        auto r = eio::parse_payload(prefix);
        if (!r.ok()) {
            EXPECT_TRUE(r.packets.empty());
            EXPECT_NE(eio::describe(r.error), "?");
            continue;
        }
        // What was read is what was sent: written out again, the packets are the same bytes,
        // one packet per record separator and one after the last.
        EXPECT_EQ(eio::encode_payload(r.packets), prefix);
        EXPECT_EQ(r.packets.size(), std::count(prefix.begin(), prefix.end(), '\x1e') + 1u) << prefix;
    }
}

TEST(EngineIo, OpenPacketAndQuery) {
    std::string j = eio::open_json({"abc", {"websocket"}, 25000, 20000, 1000000});
    EXPECT_EQ(j, R"({"maxPayload":1000000,"pingInterval":25000,"pingTimeout":20000,"sid":"abc","upgrades":["websocket"]})");
    EXPECT_EQ(eio::query_value("/socket.io/?EIO=4&transport=polling&t=Nx", "transport"), "polling");
    EXPECT_EQ(eio::query_value("/socket.io/?EIO=4&sid=a%2Fb", "sid"), "a/b");
    EXPECT_FALSE(eio::query_value("/socket.io/?EIO=4", "sid"));
    EXPECT_FALSE(eio::query_value("/socket.io/", "EIO"));
    EXPECT_FALSE(eio::query_value("/?sid=%zz", "sid"));
    EXPECT_EQ(eio::refusal_json(eio::Refusal::unknown_sid), R"({"code":1,"message":"Session ID unknown"})");
}

TEST(SocketIo, PacketsAsTheProtocolDocumentWritesThem) {
    struct Case {
        std::string text;
        sio::PacketType type;
        std::string nsp;
        std::optional<std::uint64_t> id;
        std::string data;  // JSON, "null" for none
    };
    const Case cases[] = {
        {"0", sio::PacketType::connect, "/", {}, "null"},
        {"0/admin,{\"token\":\"123\"}", sio::PacketType::connect, "/admin", {}, R"({"token":"123"})"},
        {"1/admin,", sio::PacketType::disconnect, "/admin", {}, "null"},
        {"2[\"hello\",1]", sio::PacketType::event, "/", {}, R"(["hello",1])"},
        {"2/admin,456[\"project:delete\",123]", sio::PacketType::event, "/admin", 456, R"(["project:delete",123])"},
        {"3/admin,456[]", sio::PacketType::ack, "/admin", 456, "[]"},
        {"4{\"message\":\"Not authorized\"}", sio::PacketType::connect_error, "/", {}, R"({"message":"Not authorized"})"},
        {"51-[\"hello\",{\"_placeholder\":true,\"num\":0}]", sio::PacketType::binary_event, "/", {},
         R"(["hello",{"_placeholder":true,"num":0}])"},
        {"61-/admin,456[{\"_placeholder\":true,\"num\":0}]", sio::PacketType::binary_ack, "/admin", 456,
         R"([{"_placeholder":true,"num":0}])"},
    };
    for (const Case& c : cases) {
        auto r = sio::parse(c.text);
        ASSERT_TRUE(r.packet) << c.text << ": " << sio::describe(r.error) << " " << r.detail;
        EXPECT_EQ(r.packet->type, c.type) << c.text;
        EXPECT_EQ(r.packet->nsp, c.nsp) << c.text;
        EXPECT_EQ(r.packet->id, c.id) << c.text;
        EXPECT_EQ(r.packet->data.dump(), c.data) << c.text;
        EXPECT_EQ(sio::encode(*r.packet), c.text);  // and back, byte for byte
    }
    EXPECT_EQ(sio::event_text("message", R"({"type":"CHAT"})"), R"(2["message",{"type":"CHAT"}])");
}

TEST(SocketIo, BadPacketsHaveNamedErrors) {
    struct Case {
        std::string text;
        sio::Error error;
    };
    const Case cases[] = {
        {"", sio::Error::empty},
        {"9", sio::Error::unknown_type},
        {"5[\"a\"]", sio::Error::bad_attachments},
        {"5x-[\"a\"]", sio::Error::bad_attachments},
        {"599-[\"a\"]", sio::Error::bad_attachments},  // more than the limit of 10
        {"2[\"a\"", sio::Error::bad_json},
        {"2{\"a\":1}", sio::Error::bad_payload},
        {"2[]", sio::Error::bad_payload},
        {"2[1]", sio::Error::bad_payload},
        {"2[\"disconnect\"]", sio::Error::bad_payload},
        {"2", sio::Error::bad_payload},
        {"3[]", sio::Error::bad_payload},  // an ack without its id
        {"1{}", sio::Error::bad_payload},
        {"0[]", sio::Error::bad_payload},
        {"21234567890123456[\"a\"]", sio::Error::bad_ack_id},
        {"2/" + std::string(200, 'n') + ",[\"a\"]", sio::Error::bad_namespace},
        {"2[\"message\"," + std::string(65, '[') + std::string(65, ']') + "]", sio::Error::bad_json},  // nested too deep
    };
    for (const Case& c : cases) {
        auto r = sio::parse(c.text);
        EXPECT_FALSE(r.packet) << c.text;
        EXPECT_EQ(r.error, c.error) << c.text << ": got " << sio::describe(r.error);
    }
}

TEST(SocketIo, EveryPrefixOfAPacketParsesOrFailsWithAName) {
    const std::string packets[] = {"2/admin,456[\"project:delete\",{\"a\":[1,2,\"x\"]}]",
                                   "51-/chat,7[\"f\",{\"_placeholder\":true,\"num\":0}]", "0/admin,{\"token\":\"1\"}"};
    for (const std::string& text : packets)
        for (std::size_t n = 0; n <= text.size(); ++n) {
            auto r = sio::parse(text.substr(0, n));
            ASSERT_TRUE(r.packet || r.error != sio::Error::none) << text.substr(0, n);
            if (!r.packet) continue;
            // A prefix that is a packet is that packet: written and read again, nothing changes.
            auto again = sio::parse(sio::encode(*r.packet));
            ASSERT_TRUE(again.packet) << text.substr(0, n);
            EXPECT_EQ(again.packet->type, r.packet->type);
            EXPECT_EQ(again.packet->nsp, r.packet->nsp);
            EXPECT_EQ(again.packet->id, r.packet->id);
            EXPECT_EQ(again.packet->attachments, r.packet->attachments);
            EXPECT_EQ(again.packet->data, r.packet->data);
        }
    // Which prefixes are whole packets is known: the full texts, and CONNECTs without their
    // payload (a CONNECT's auth is optional) to "/", "/a", … "/admin", each a namespace name.
    std::vector<std::string> whole;
    for (const std::string& text : packets)
        for (std::size_t n = 0; n <= text.size(); ++n)
            if (sio::parse(text.substr(0, n)).packet) whole.push_back(text.substr(0, n));
    EXPECT_EQ(whole, (std::vector<std::string>{packets[0], packets[1], "0", "0/", "0/a", "0/ad", "0/adm", "0/admi", "0/admin",
                                               "0/admin,", packets[2]}));
}

TEST(SocketIo, TheDecoderPutsAttachmentsWhereTheirPlaceholdersStood) {
    sio::Decoder d;
    auto r = d.text(R"(52-["upload",{"_placeholder":true,"num":1},{"_placeholder":true,"num":0}])");
    EXPECT_FALSE(r.packet);
    EXPECT_EQ(r.error, sio::Error::none);
    EXPECT_EQ(d.awaited(), 2u);
    EXPECT_FALSE(d.binary("first").packet);
    r = d.binary("second");
    ASSERT_TRUE(r.packet);
    EXPECT_EQ(d.awaited(), 0u);
    const auto& args = r.packet->data;
    ASSERT_TRUE(args[1].is_binary());
    EXPECT_EQ(std::string(args[1].get_binary().begin(), args[1].get_binary().end()), "second");
    EXPECT_EQ(std::string(args[2].get_binary().begin(), args[2].get_binary().end()), "first");
    // An attachment nobody announced, a text packet while one is awaited, a placeholder too far.
    EXPECT_EQ(d.binary("stray").error, sio::Error::unexpected_binary);
    EXPECT_FALSE(d.text(R"(51-["a",{"_placeholder":true,"num":0}])").packet);
    EXPECT_EQ(d.text(R"(2["b"])").error, sio::Error::attachment_expected);
    EXPECT_EQ(d.awaited(), 0u);  // and the half packet is gone
    EXPECT_FALSE(d.text(R"(51-["a",{"_placeholder":true,"num":3}])").packet);
    EXPECT_EQ(d.binary("x").error, sio::Error::bad_payload);
    EXPECT_TRUE(d.text(R"(2["fine"])").packet);
}
