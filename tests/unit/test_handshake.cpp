// The opening handshake (RFC 6455 §4.2.1, §4.2.2): each check fails alone, with its name.
#include <gtest/gtest.h>

#include "proto/handshake.hpp"

using namespace ws;
using namespace ws::handshake;

namespace {

http::Request good_request() {
    http::Request r;
    r.method = "GET";
    r.target = "/";
    r.version = "HTTP/1.1";
    r.headers = {{"Host", "example.com"},
                 {"Upgrade", "websocket"},
                 {"Connection", "Upgrade"},
                 {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
                 {"Sec-WebSocket-Version", "13"}};
    return r;
}

void set_header(http::Request& r, const std::string& name, const std::string& value) {
    for (auto& h : r.headers)
        if (http::iequals(h.name, name)) h.value = value;
}

void remove_header(http::Request& r, const std::string& name) {
    std::erase_if(r.headers, [&](const http::Header& h) { return http::iequals(h.name, name); });
}

// Exactly one check fails, and it is the expected one.
void expect_only_failure(const Result& result, Check check) {
    ASSERT_FALSE(result.ok());
    for (const auto& c : result.checks) EXPECT_EQ(c.ok, c.check != check) << name(c.check) << ": " << c.detail;
    EXPECT_EQ(result.first_failure()->check, check);
}

}  // namespace

TEST(AcceptKey, MatchesTheRfcExample) {
    // RFC 6455 §1.3: "dGhlIHNhbXBsZSBub25jZQ==" gives "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".
    EXPECT_EQ(accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    auto digest = sha1(std::string("dGhlIHNhbXBsZSBub25jZQ==") + std::string(kGuid));
    const std::array<std::uint8_t, 20> rfc = {0xb3, 0x7a, 0x4f, 0x2c, 0xc0, 0x62, 0x4f, 0x16, 0x90, 0xf6,
                                              0x46, 0x06, 0xcf, 0x38, 0x59, 0x45, 0xb2, 0xbe, 0xc4, 0xea};
    EXPECT_EQ(digest, rfc);
}

TEST(AcceptKey, MatchesOtherPublishedPairs) {
    // The example of the Wikipedia article on WebSocket and of MDN's "Writing WebSocket servers".
    EXPECT_EQ(accept_key("x3JJHMbDL1EzLkh9GBhXDw=="), "HSmrc0sMlYUkAGmm5OPpG2HaGWk=");
    // RFC 6455 §4.2.2: leading and trailing white space of the key is not part of it.
    EXPECT_EQ(accept_key(" dGhlIHNhbXBsZSBub25jZQ== "), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(Base64, RoundTripsAndRefusesMalformedText) {
    std::vector<std::uint8_t> bytes = {0, 1, 2, 250, 251, 252, 253, 254, 255};
    for (std::size_t n = 0; n <= bytes.size(); ++n) {
        std::vector<std::uint8_t> part(bytes.begin(), bytes.begin() + static_cast<long>(n));
        std::string text = base64_encode(part);
        if (n == 0) continue;
        auto back = base64_decode(text);
        ASSERT_TRUE(back) << text;
        EXPECT_EQ(*back, part);
    }
    EXPECT_FALSE(base64_decode("abc"));       // not a multiple of 4
    EXPECT_FALSE(base64_decode("ab=c"));      // padding in the middle
    EXPECT_FALSE(base64_decode("a b="));      // a space
    EXPECT_FALSE(base64_decode("ab$c"));      // not in the alphabet
    EXPECT_EQ(base64_decode("dGhlIHNhbXBsZSBub25jZQ==")->size(), 16u);
}

TEST(Handshake, AGoodRequestPassesEveryCheck) {
    Result r = check_request(good_request());
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(r.status(), 101);
    EXPECT_EQ(r.checks.size(), 6u);
    EXPECT_EQ(r.accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    EXPECT_EQ(response_101(r),
              "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
}

TEST(Handshake, TokenListsAndCaseAreAccepted) {
    // RFC 6455 §4.2.1 items 3 and 4: compared case-insensitively; Connection is a token list.
    auto req = good_request();
    set_header(req, "Upgrade", "WebSocket");
    set_header(req, "Connection", "keep-alive, Upgrade");
    EXPECT_TRUE(check_request(req).ok());
    set_header(req, "Connection", "upgrade");
    EXPECT_TRUE(check_request(req).ok());
}

TEST(Handshake, PostIsRejected) {
    auto req = good_request();
    req.method = "POST";
    expect_only_failure(check_request(req), Check::method_and_version);
    EXPECT_EQ(check_request(req).status(), 400);
}

TEST(Handshake, Http10IsRejected) {
    auto req = good_request();
    req.version = "HTTP/1.0";
    expect_only_failure(check_request(req), Check::method_and_version);
}

TEST(Handshake, MissingHostIsRejected) {
    auto req = good_request();
    remove_header(req, "Host");
    expect_only_failure(check_request(req), Check::host);
}

TEST(Handshake, UpgradeWithoutWebsocketIsRejected) {
    auto req = good_request();
    set_header(req, "Upgrade", "h2c");
    expect_only_failure(check_request(req), Check::upgrade);
}

TEST(Handshake, ConnectionWithoutUpgradeIsRejected) {
    auto req = good_request();
    set_header(req, "Connection", "keep-alive");
    expect_only_failure(check_request(req), Check::connection);
    remove_header(req, "Connection");
    expect_only_failure(check_request(req), Check::connection);
}

TEST(Handshake, MissingSecKeyIsRejected) {
    auto req = good_request();
    remove_header(req, "Sec-WebSocket-Key");
    expect_only_failure(check_request(req), Check::key);
}

TEST(Handshake, KeyOfTheWrongLengthIsRejected) {
    auto req = good_request();
    set_header(req, "Sec-WebSocket-Key", "AQIDBAUGBwgJCgsMDQ4P");  // 15 bytes
    expect_only_failure(check_request(req), Check::key);
    set_header(req, "Sec-WebSocket-Key", "not base64 at all!");
    expect_only_failure(check_request(req), Check::key);
}

TEST(Handshake, RepeatedKeyIsRejected) {
    auto req = good_request();
    req.headers.push_back({"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="});
    expect_only_failure(check_request(req), Check::key);
}

TEST(Handshake, WrongVersionGets426NamingVersion13) {
    // RFC 6455 §4.4: a version we do not speak gets 426 and Sec-WebSocket-Version: 13.
    auto req = good_request();
    set_header(req, "Sec-WebSocket-Version", "8");
    Result r = check_request(req);
    expect_only_failure(r, Check::version);
    EXPECT_EQ(r.status(), 426);
    std::string response = response_refusal(r);
    EXPECT_EQ(response.rfind("HTTP/1.1 426 Upgrade Required\r\n", 0), 0u);
    EXPECT_NE(response.find("\r\nSec-WebSocket-Version: 13\r\n"), std::string::npos);
    EXPECT_NE(response.find("bad_sec_version"), std::string::npos);
}

TEST(Handshake, OtherFailuresGet400NamingTheCheck) {
    auto req = good_request();
    remove_header(req, "Sec-WebSocket-Key");
    std::string response = response_refusal(check_request(req));
    EXPECT_EQ(response.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u);
    EXPECT_NE(response.find("check 5 failed (bad_sec_key)"), std::string::npos);
    // The Content-Length is the body's real length.
    auto body_at = response.find("\r\n\r\n") + 4;
    auto length_at = response.find("Content-Length: ") + 16;
    EXPECT_EQ(std::stoul(response.substr(length_at)), response.size() - body_at);
}

TEST(Handshake, SubprotocolIsChosenFromTheOffer) {
    auto req = good_request();
    req.headers.push_back({"Sec-WebSocket-Protocol", "mqtt, chat"});
    std::vector<std::string> ours = {"chat"};
    Result r = check_request(req, ours);
    ASSERT_TRUE(r.protocol);
    EXPECT_EQ(*r.protocol, "chat");
    EXPECT_NE(response_101(r).find("Sec-WebSocket-Protocol: chat\r\n"), std::string::npos);
    std::vector<std::string> none = {"stomp"};
    EXPECT_FALSE(check_request(req, none).protocol);
}

TEST(Handshake, ClientRequestPassesTheServerChecks) {
    std::array<std::uint8_t, 16> nonce{};
    for (std::size_t i = 0; i < 16; ++i) nonce[i] = static_cast<std::uint8_t>(i * 7);
    std::string text = client_request("h:1", "/ws", client_key(nonce));
    http::RequestParser parser;
    auto parsed = parser.parse(text);
    ASSERT_EQ(parsed.status, http::ParseResult::Status::complete);
    EXPECT_TRUE(check_request(parsed.request).ok());
}

// ---- The client's checks of the response (RFC 6455 §4.1)

namespace {

ClientOffer rfc_offer() {
    ClientOffer offer;
    offer.host = "server.example.com";
    offer.path = "/chat";
    offer.key = "dGhlIHNhbXBsZSBub25jZQ==";
    return offer;
}

http::Response good_response() {
    http::Response r;
    r.version = "HTTP/1.1";
    r.status = 101;
    r.reason = "Switching Protocols";
    r.headers = {{"Upgrade", "websocket"}, {"Connection", "Upgrade"}, {"Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="}};
    return r;
}

void expect_only_client_failure(const ClientResult& result, ClientCheck check) {
    ASSERT_FALSE(result.ok());
    for (const auto& c : result.checks) EXPECT_EQ(c.ok, c.check != check) << name(c.check) << ": " << c.detail;
    EXPECT_EQ(result.first_failure()->check, check);
}

void set(http::Response& r, const std::string& name, const std::string& value) {
    for (auto& h : r.headers)
        if (http::iequals(h.name, name)) { h.value = value; return; }
    r.headers.push_back({name, value});
}

}  // namespace

TEST(ClientHandshake, TheRfcResponsePassesEveryCheck) {
    auto result = check_response(good_response(), rfc_offer());
    EXPECT_TRUE(result.ok());
    EXPECT_EQ(result.checks.size(), kAllClientChecks.size());
    EXPECT_EQ(result.expected_accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(ClientHandshake, AStatusOtherThan101IsAFailure) {
    // RFC 6455 §4.1: "If the status code received from the server is not 101 ..."
    auto r = good_response();
    r.status = 200;
    r.reason = "OK";
    auto result = check_response(r, rfc_offer());
    expect_only_client_failure(result, ClientCheck::status);
    EXPECT_EQ(name(result.first_failure()->check), "not_101");
    EXPECT_NE(result.first_failure()->detail.find("200 OK"), std::string::npos);
}

TEST(ClientHandshake, UpgradeMustBeWebsocket) {
    auto r = good_response();
    std::erase_if(r.headers, [](auto& h) { return h.name == "Upgrade"; });
    expect_only_client_failure(check_response(r, rfc_offer()), ClientCheck::upgrade);
    r = good_response();
    set(r, "Upgrade", "h2c");
    expect_only_client_failure(check_response(r, rfc_offer()), ClientCheck::upgrade);
    set(r, "Upgrade", "WebSocket");  // case-insensitive
    EXPECT_TRUE(check_response(r, rfc_offer()).ok());
}

TEST(ClientHandshake, ConnectionMustListUpgrade) {
    auto r = good_response();
    set(r, "Connection", "keep-alive");
    expect_only_client_failure(check_response(r, rfc_offer()), ClientCheck::connection);
    set(r, "Connection", "keep-alive, upgrade");
    EXPECT_TRUE(check_response(r, rfc_offer()).ok());
}

TEST(ClientHandshake, AWrongAcceptKeyIsNamedAndShownBesideTheExpectedOne) {
    auto r = good_response();
    // SHA-1 of the key alone, without the GUID: the classic mistake.
    set(r, "Sec-WebSocket-Accept", base64_encode(sha1("dGhlIHNhbXBsZSBub25jZQ==")));
    auto result = check_response(r, rfc_offer());
    expect_only_client_failure(result, ClientCheck::accept);
    EXPECT_EQ(name(ClientCheck::accept), "bad_accept");
    EXPECT_NE(result.first_failure()->detail.find("expected s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), std::string::npos);
    std::erase_if(r.headers, [](auto& h) { return h.name == "Sec-WebSocket-Accept"; });
    expect_only_client_failure(check_response(r, rfc_offer()), ClientCheck::accept);
}

TEST(ClientHandshake, AnExtensionThatWasNotOfferedIsAFailure) {
    // RFC 6455 §4.1: "the use of an extension that was not present in the client's handshake".
    auto r = good_response();
    set(r, "Sec-WebSocket-Extensions", "permessage-deflate");
    expect_only_client_failure(check_response(r, rfc_offer()), ClientCheck::extensions);
    auto offer = rfc_offer();
    offer.extensions = {"permessage-deflate; client_max_window_bits"};
    EXPECT_TRUE(check_response(r, offer).ok());
}

TEST(ClientHandshake, ASubprotocolThatWasNotOfferedIsAFailure) {
    auto r = good_response();
    set(r, "Sec-WebSocket-Protocol", "chat");
    expect_only_client_failure(check_response(r, rfc_offer()), ClientCheck::protocol);
    auto offer = rfc_offer();
    offer.protocols = {"superchat", "chat"};
    auto result = check_response(r, offer);
    EXPECT_TRUE(result.ok());
    EXPECT_EQ(result.protocol, "chat");
    set(r, "Sec-WebSocket-Protocol", "superchat, chat");  // one value, not a list
    expect_only_client_failure(check_response(r, offer), ClientCheck::protocol);
}

TEST(ClientHandshake, OurServersResponseToOurRequestPasses) {
    // The two sides of this project agree with each other (and each with RFC 6455).
    auto offer = rfc_offer();
    offer.protocols = {"chat"};
    std::string text = client_request(offer);
    http::RequestParser request_parser;
    auto request = request_parser.parse(text);
    ASSERT_EQ(request.status, http::ParseStatus::complete);
    std::vector<std::string> ours = {"chat"};
    auto server = check_request(request.request, ours);
    ASSERT_TRUE(server.ok());
    http::ResponseParser response_parser;
    auto response = response_parser.parse(response_101(server));
    ASSERT_EQ(response.status, http::ParseStatus::complete);
    auto client = check_response(response.response, offer);
    EXPECT_TRUE(client.ok());
    EXPECT_EQ(client.protocol, "chat");
}
