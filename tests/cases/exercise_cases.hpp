// The cases each exercise is checked against. The library's unit tests run the same tables
// (tests/unit/test_exercise_cases.cpp), so "done" means what the library itself is held to.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "i18n/i18n.hpp"
#include "proto/chat.hpp"

namespace ws::cases {

using namespace std::string_view_literals;

struct HeadLength {
    std::string_view bytes;
    std::size_t expected;
    std::string_view what;
};
inline const std::vector<HeadLength> kHeadLength = {
    {"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27, N_("a whole head")},
    {"GET / HTTP/1.1\r\nHost: x\r\n\r\n\x81\x05hello", 27, N_("a head with a frame behind it")},
    {"GET / HTTP/1.1\r\nHost: x\r\n", 0, N_("the empty line has not arrived")},
    {"GET / HTTP/1.1\r\nHost: x\r\n\r", 0, N_("cut inside the empty line")},
    {"", 0, N_("nothing yet")},
    {"\r\n\r\n", 4, N_("nothing but the empty line")},
    {"GET / HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n", 18, N_("two heads: only the first counts")},
    {"GET / HTTP/1.1\n\n", 0, N_("bare LF lines do not end a head")},
};

struct TokenList {
    std::string_view list, token;
    bool expected;
    std::string_view what;
};
inline const std::vector<TokenList> kTokenList = {
    {"Upgrade", "Upgrade", true, N_("the token alone")},
    {"keep-alive, Upgrade", "Upgrade", true, N_("Firefox's Connection header")},
    {"keep-alive,upgrade", "Upgrade", true, N_("any case, no space")},
    {"  Upgrade\t,keep-alive", "Upgrade", true, N_("spaces and tabs around an item")},
    {"websocket", "WebSocket", true, N_("case-insensitive both ways")},
    {"keep-alive", "Upgrade", false, N_("not in the list")},
    {"Upgrade2", "Upgrade", false, N_("a longer token is another token")},
    {"Up grade", "Upgrade", false, N_("a space inside is not trimmed away")},
    {"", "Upgrade", false, N_("an empty list")},
    {"a,,Upgrade", "Upgrade", true, N_("an empty item before it")},
};

struct AcceptKey {
    std::string_view key, accept;
    std::string_view what;
};
inline const std::vector<AcceptKey> kAcceptKey = {
    {"dGhlIHNhbXBsZSBub25jZQ==", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", N_("RFC 6455 §1.3's example")},
    {"x3JJHMbDL1EzLkh9GBhXDw==", "HSmrc0sMlYUkAGmm5OPpG2HaGWk=", N_("the pair on Wikipedia and MDN")},
    {" dGhlIHNhbXBsZSBub25jZQ== ", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", N_("spaces around the key do not count")},
};

struct PayloadLength {
    std::vector<std::uint8_t> header;
    std::uint64_t expected;
    std::string_view what;
};
inline const std::vector<PayloadLength> kPayloadLength = {
    {{0x81, 0x05}, 5, N_("the 7-bit form")},
    {{0x81, 0x85}, 5, N_("the 7-bit form with the mask bit set")},
    {{0x81, 0x00}, 0, N_("an empty payload")},
    {{0x82, 0x7d}, 125, N_("the largest 7-bit length")},
    {{0x82, 0x7e, 0x00, 0x7e}, 126, N_("the 16-bit form")},
    {{0x82, 0x7e, 0x01, 0x00}, 256, N_("the 16-bit form, big-endian")},
    {{0x82, 0xfe, 0xff, 0xff}, 65535, N_("the largest 16-bit length, masked")},
    {{0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0}, 65536, N_("the 64-bit form")},
    {{0x82, 0x7f, 0, 0, 0, 1, 0, 0, 0, 0}, 1ull << 32, N_("the 64-bit form above 4 GiB")},
    {{0x82, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 0x7fffffffffffffffull, N_("the largest 64-bit length")},
};

struct FrameHeaderCase {
    bool fin;
    std::uint8_t opcode;
    std::uint64_t length;
    std::optional<std::array<std::uint8_t, 4>> mask;
    std::vector<std::uint8_t> expected;
    std::string_view what;
};
inline const std::vector<FrameHeaderCase> kFrameHeader = {
    {true, 0x1, 5, std::nullopt, {0x81, 0x05}, N_("a server's \"Hello\" (RFC 6455 §5.7)")},
    {true, 0x1, 5, std::array<std::uint8_t, 4>{0x37, 0xfa, 0x21, 0x3d}, {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d},
     N_("a client's masked \"Hello\" (RFC 6455 §5.7)")},
    {false, 0x1, 3, std::nullopt, {0x01, 0x03}, N_("a first fragment: FIN clear")},
    {true, 0x0, 2, std::nullopt, {0x80, 0x02}, N_("the last fragment: a continuation")},
    {true, 0x9, 0, std::array<std::uint8_t, 4>{1, 2, 3, 4}, {0x89, 0x80, 1, 2, 3, 4}, N_("an empty masked ping")},
    {true, 0x2, 125, std::nullopt, {0x82, 0x7d}, N_("125: the largest 7-bit length")},
    {true, 0x2, 126, std::nullopt, {0x82, 0x7e, 0x00, 0x7e}, N_("126: the 16-bit form")},
    {true, 0x2, 256, std::nullopt, {0x82, 0x7e, 0x01, 0x00}, N_("256 in the 16-bit form, big-endian (RFC 6455 §5.7)")},
    {true, 0x2, 65535, std::array<std::uint8_t, 4>{0xa, 0xb, 0xc, 0xd}, {0x82, 0xfe, 0xff, 0xff, 0xa, 0xb, 0xc, 0xd},
     N_("65535, masked: the largest 16-bit length")},
    {false, 0x1, 65536, std::nullopt, {0x01, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0}, N_("65536: the 64-bit form")},
    {true, 0x2, 1ull << 32, std::array<std::uint8_t, 4>{9, 8, 7, 6}, {0x82, 0xff, 0, 0, 0, 1, 0, 0, 0, 0, 9, 8, 7, 6},
     N_("4 GiB, masked: 14 bytes, the longest header")},
};

struct Utf8 {
    std::string_view bytes;
    bool valid;
    std::string_view what;
};
inline const std::vector<Utf8> kUtf8 = {
    {"", true, N_("empty text")},
    {"Hello", true, N_("ASCII")},
    {"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5", true, N_("κόσμε (Greek)")},
    {"\xf0\x9f\x91\x8b", true, N_("👋 (four bytes)")},
    {"\xef\xbf\xbf", true, N_("U+FFFF")},
    {"\xf4\x8f\xbf\xbf", true, N_("U+10FFFF, the last code point")},
    {"\xc0\xaf", false, N_("an overlong '/' (C0 AF)")},
    {"\xe0\x80\xaf", false, N_("an overlong '/' in three bytes")},
    {"\xed\xa0\x80", false, N_("a surrogate (U+D800)")},
    {"\xf4\x90\x80\x80", false, N_("above U+10FFFF")},
    {"\xf5\x80\x80\x80", false, N_("F5 is never a lead byte")},
    {"\x80", false, N_("a continuation byte alone")},
    {"ok\xc3", false, N_("a character cut short at the end")},
    {"\xce\xba\xe1\xbd", false, N_("κ then a character cut short")},
    {"\xc3\x28", false, N_("a lead byte followed by ASCII")},
    {"\xff", false, N_("FF is never UTF-8")},
};

struct TlsRecord {
    std::string_view bytes;
    bool complete;
    std::uint8_t type;
    std::uint16_t version;
    std::size_t length;
    std::string_view what;
};
inline const std::vector<TlsRecord> kTlsRecord = {
    {"\x16\x03\x01\x01\x2f\x01\x00"sv, true, 22, 0x0301, 303, N_("a ClientHello's record")},
    {"\x17\x03\x03\x00\x1f"sv, true, 23, 0x0303, 31, N_("encrypted data, exactly 5 bytes")},
    {"\x14\x03\x03\x00\x01\x01"sv, true, 20, 0x0303, 1, N_("change_cipher_spec")},
    {"\x17\x03\x03\xff\xff"sv, true, 23, 0x0303, 65535, N_("the largest length: both bytes count")},
    {"\x15\x03\x03\x00\x02\x02\x28"sv, true, 21, 0x0303, 2, N_("an alert")},
    {"\x17\x03\x03\x00"sv, false, 0, 0, 0, N_("4 bytes: not yet a header")},
    {""sv, false, 0, 0, 0, N_("nothing at all")},
};

struct SyncTail {
    std::string_view deflated;
    std::size_t keep;
    std::string_view what;
};
inline const std::vector<SyncTail> kSyncTail = {
    {"\xf2\x48\xcd\xc9\xc9\x07\x00\x00\x00\xff\xff"sv, 7, N_("RFC 7692's \"Hello\", flushed")},
    {"\x00\x00\xff\xff"sv, 0, N_("the tail alone")},
    {"\xf2\x48\xcd\xc9\xc9\x07\x00"sv, 7, N_("no tail: nothing removed")},
    {"\x00\x00\xff\xff\x00\x00\xff\xff"sv, 4, N_("two tails: one removed")},
    {"\x00\xff\xff"sv, 3, N_("3 bytes: too short to be the tail")},
    {"\xf2\x00\x00\xff\xfe"sv, 5, N_("almost the tail")},
    {"\x01\x00\xff\xff"sv, 4, N_("the wrong first byte")},
    {""sv, 0, N_("nothing at all")},
};

struct PollingBody {
    std::string_view body;
    std::vector<std::string_view> packets;
    std::string_view what;
};
inline const std::vector<PollingBody> kPollingBody = {
    {"4hello\x1e" "2"sv, {"4hello"sv, "2"sv}, N_("a message, then a ping")},
    {"6"sv, {"6"sv}, N_("one packet: no separator")},
    {"4a\x1e\x1e" "4b"sv, {"4a"sv, ""sv, "4b"sv}, N_("an empty packet in the middle")},
    {"40\x1e" "42[\"message\",{}]\x1e" "3"sv, {"40"sv, "42[\"message\",{}]"sv, "3"sv}, N_("three packets")},
    {"4a\x1e"sv, {"4a"sv, ""sv}, N_("a separator at the end: an empty last packet")},
    {""sv, {""sv}, N_("an empty body: one empty packet")},
    {"\x1e"sv, {""sv, ""sv}, N_("a separator alone: two empty packets")},
};

// Exercise 10: events applied to a roster, one after another, from `start`.
struct RosterSteps {
    std::vector<std::string> start;
    std::vector<chat::RoomEvent> events;
    std::vector<std::string> names;  // the roster after them
    std::vector<bool> changed;       // what apply() returned for each
    std::string_view what;
};
inline chat::RoomEvent login_event(std::string name) { return {chat::RoomEvent::Kind::login, std::move(name), {}, "A"}; }
inline chat::RoomEvent logout_event(std::string name) { return {chat::RoomEvent::Kind::logout, std::move(name), {}, "A"}; }
inline chat::RoomEvent chat_event(std::string name) { return {chat::RoomEvent::Kind::chat, std::move(name), "hi", "A"}; }
inline const std::vector<RosterSteps> kRoster = {
    {{}, {login_event("alice"), login_event("bob")}, {"alice", "bob"}, {true, true}, N_("two LOGINs, in order")},
    {{"alice", "bob", "carol"}, {logout_event("bob")}, {"alice", "carol"}, {true}, N_("a LOGOUT from the middle keeps the order")},
    {{"alice"}, {login_event("alice")}, {"alice"}, {false}, N_("a LOGIN of someone the snapshot had: no change")},
    {{"alice"}, {logout_event("bob")}, {"alice"}, {false}, N_("a LOGOUT of someone absent: no change")},
    {{"alice"}, {chat_event("alice")}, {"alice"}, {false}, N_("a CHAT changes nobody")},
    {{}, {login_event("bob"), logout_event("bob"), login_event("bob")}, {"bob"}, {true, true, true},
     N_("in, out, and in again")},
    {{"bob"}, {logout_event("bob"), login_event("bob")}, {"bob"}, {true, true}, N_("out and back: at the end now")},
};

struct CloseCode {
    std::uint16_t code;
    bool valid;
    std::string_view what;
};
inline const std::vector<CloseCode> kCloseCode = {
    {1000, true, N_("normal closure")},     {1001, true, N_("going away")},       {1002, true, N_("protocol error")},
    {1003, true, N_("unsupported data")},   {1004, false, N_("reserved")},        {1005, false, N_("never sent: no status")},
    {1006, false, N_("never sent: abnormal closure")}, {1007, true, N_("invalid payload")}, {1011, true, N_("internal error")},
    {1012, true, N_("service restart (IANA)")}, {1014, true, N_("bad gateway (IANA)")}, {1015, false, N_("never sent: TLS failure")},
    {1016, false, N_("unassigned")},        {999, false, N_("below 1000")},       {0, false, N_("zero")},
    {2999, false, N_("unassigned")},        {3000, true, N_("for libraries")},    {4999, true, N_("for applications")},
    {5000, false, N_("above 4999")},
};

}  // namespace ws::cases
