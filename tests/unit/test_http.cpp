// The request parser (RFC 9112 §2-§5), fed whole, in pieces and at every split point.
#include <gtest/gtest.h>

#include "proto/http.hpp"

using namespace ws::http;

namespace {

const std::string kChromeRequest =
    "GET /chat?room=1 HTTP/1.1\r\n"
    "Host: 127.0.0.1:8080\r\n"
    "Connection: keep-alive, Upgrade\r\n"
    "Upgrade: websocket\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "\r\n";

ParseResult parse_all(std::string_view text, Limits limits = {}) {
    RequestParser parser(limits);
    return parser.parse(text);
}

}  // namespace

TEST(HttpParser, ParsesACompleteRequest) {
    auto r = parse_all(kChromeRequest);
    ASSERT_EQ(r.status, ParseResult::Status::complete);
    EXPECT_EQ(r.consumed, kChromeRequest.size());
    EXPECT_EQ(r.request.method, "GET");
    EXPECT_EQ(r.request.target, "/chat?room=1");
    EXPECT_EQ(r.request.version, "HTTP/1.1");
    ASSERT_EQ(r.request.headers.size(), 5u);
    EXPECT_EQ(r.request.find("sec-websocket-key")->value, "dGhlIHNhbXBsZSBub25jZQ==");
}

TEST(HttpParser, HeaderNamesAreCaseInsensitive) {
    // RFC 9110 §5.1: field names are case-insensitive.
    auto r = parse_all("GET / HTTP/1.1\r\nUPGRADE: websocket\r\nhOsT: x\r\n\r\n");
    ASSERT_EQ(r.status, ParseResult::Status::complete);
    EXPECT_EQ(r.request.find("Upgrade")->value, "websocket");
    EXPECT_EQ(r.request.find("host")->value, "x");
    EXPECT_EQ(r.request.find("Origin"), nullptr);
}

TEST(HttpParser, ValuesLoseSurroundingWhitespace) {
    auto r = parse_all("GET / HTTP/1.1\r\nHost: \t example.com \t\r\nX-Empty:\r\n\r\n");
    ASSERT_EQ(r.status, ParseResult::Status::complete);
    EXPECT_EQ(r.request.find("Host")->value, "example.com");
    EXPECT_EQ(r.request.find("X-Empty")->value, "");
}

TEST(HttpParser, BytesAfterTheHeadAreNotConsumed) {
    std::string frames = "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58";
    auto r = parse_all(kChromeRequest + frames);
    ASSERT_EQ(r.status, ParseResult::Status::complete);
    EXPECT_EQ(r.consumed, kChromeRequest.size());
}

// Style rule 7: a request may arrive in any number of pieces; split it at every byte.
class HttpSplit : public ::testing::TestWithParam<std::size_t> {};

TEST_P(HttpSplit, EverySplitPointGivesTheSameRequest) {
    std::size_t split = GetParam();
    RequestParser parser;
    std::string received = kChromeRequest.substr(0, split);
    auto first = parser.parse(received);
    if (split < kChromeRequest.size()) {
        ASSERT_EQ(first.status, ParseResult::Status::need_more) << "split at " << split;
    }
    received = kChromeRequest;
    auto r = parser.parse(received);
    ASSERT_EQ(r.status, ParseResult::Status::complete) << "split at " << split;
    EXPECT_EQ(r.consumed, kChromeRequest.size());
    // Every field, written down: not compared with another parse.
    EXPECT_EQ(r.request.method, "GET");
    EXPECT_EQ(r.request.target, "/chat?room=1");
    EXPECT_EQ(r.request.version, "HTTP/1.1");
    const std::vector<std::pair<std::string, std::string>> expected = {
        {"Host", "127.0.0.1:8080"},          {"Connection", "keep-alive, Upgrade"},
        {"Upgrade", "websocket"},            {"Sec-WebSocket-Version", "13"},
        {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}};
    ASSERT_EQ(r.request.headers.size(), expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
        EXPECT_EQ(r.request.headers[i].name, expected[i].first);
        EXPECT_EQ(r.request.headers[i].value, expected[i].second);
    }
}

// Every offset from 0 to the whole request, the final "\r\n\r\n" included.
constexpr std::size_t kChromeRequestSize = 176;
INSTANTIATE_TEST_SUITE_P(AllOffsets, HttpSplit, ::testing::Range<std::size_t>(0, kChromeRequestSize + 1));

TEST(HttpParser, SplitTestsCoverTheWholeRequest) { EXPECT_EQ(kChromeRequest.size(), kChromeRequestSize); }

TEST(HttpParser, OneByteAtATime) {
    RequestParser parser;
    std::string received;
    ParseResult r;
    for (char c : kChromeRequest) {
        received += c;
        r = parser.parse(received);
        if (received.size() < kChromeRequest.size()) {
            ASSERT_EQ(r.status, ParseResult::Status::need_more);
        }
    }
    ASSERT_EQ(r.status, ParseResult::Status::complete);
    EXPECT_EQ(r.request.find("Upgrade")->value, "websocket");
}

TEST(HttpParser, HeadAtTheLimitIsAcceptedAndOverItIsRefused) {
    std::string start = "GET / HTTP/1.1\r\nX: ";
    std::string end = "\r\n\r\n";
    Limits limits;
    limits.max_head_bytes = 100;
    std::string at_limit = start + std::string(100 - start.size() - end.size(), 'a') + end;
    ASSERT_EQ(at_limit.size(), 100u);
    EXPECT_EQ(parse_all(at_limit, limits).status, ParseResult::Status::complete);
    std::string over = start + std::string(101 - start.size() - end.size(), 'a') + end;
    auto r = parse_all(over, limits);
    EXPECT_EQ(r.status, ParseResult::Status::error);
    EXPECT_EQ(r.error, ParseError::head_too_large);
}

TEST(HttpParser, EndlessHeadIsRefusedWithoutWaitingForTheEnd) {
    Limits limits;
    auto r = parse_all("GET / HTTP/1.1\r\nX: " + std::string(limits.max_head_bytes, 'a'), limits);
    EXPECT_EQ(r.error, ParseError::head_too_large);
}

TEST(HttpParser, HeaderCountAtTheLimitIsAcceptedAndOverItIsRefused) {
    Limits limits;
    limits.max_headers = 3;
    EXPECT_EQ(parse_all("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", limits).status, ParseResult::Status::complete);
    auto r = parse_all("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", limits);
    EXPECT_EQ(r.error, ParseError::too_many_headers);
}

struct Malformed {
    const char* name;
    std::string request;
    ParseError error;
};

void PrintTo(const Malformed& m, std::ostream* os) { *os << m.name; }

class HttpMalformed : public ::testing::TestWithParam<Malformed> {};

TEST_P(HttpMalformed, IsRefusedWithANamedError) {
    auto r = parse_all(GetParam().request);
    EXPECT_EQ(r.status, ParseResult::Status::error);
    EXPECT_EQ(r.error, GetParam().error) << describe(r.error) << ": " << r.detail;
    EXPECT_FALSE(describe(r.error).empty());
}

INSTANTIATE_TEST_SUITE_P(
    Cases, HttpMalformed,
    ::testing::Values(
        Malformed{"BareLf", "GET / HTTP/1.1\nHost: x\n\n", ParseError::bare_lf},
        Malformed{"BareLfInHeaders", "GET / HTTP/1.1\r\nHost: x\n\r\n", ParseError::bare_lf},
        Malformed{"NoVersion", "GET /\r\n\r\n", ParseError::bad_request_line},
        Malformed{"BadVersion", "GET / HTTP/x\r\n\r\n", ParseError::bad_request_line},
        Malformed{"ExtraSpace", "GET  / HTTP/1.1\r\n\r\n", ParseError::bad_request_line},
        Malformed{"EmptyLine", "\r\n\r\n", ParseError::bad_request_line},
        Malformed{"NoColon", "GET / HTTP/1.1\r\nHost x\r\n\r\n", ParseError::bad_header_line},
        Malformed{"SpaceBeforeColon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n", ParseError::bad_header_line},
        Malformed{"EmptyName", "GET / HTTP/1.1\r\n: x\r\n\r\n", ParseError::bad_header_line},
        Malformed{"ControlInValue", std::string("GET / HTTP/1.1\r\nHost: a\x01z\r\n\r\n"), ParseError::bad_header_line},
        Malformed{"BareCrInValue", "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", ParseError::bad_header_line},
        Malformed{"Folding", "GET / HTTP/1.1\r\nHost: a\r\n  b\r\n\r\n", ParseError::obsolete_line_folding}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(HttpTokens, ListContainsIsCaseInsensitiveAndTrimsSpaces) {
    EXPECT_TRUE(list_contains("keep-alive, Upgrade", "upgrade"));
    EXPECT_TRUE(list_contains("Upgrade", "Upgrade"));
    EXPECT_TRUE(list_contains("keep-alive,upgrade ,x", "UPGRADE"));
    EXPECT_FALSE(list_contains("keep-alive", "upgrade"));
    EXPECT_FALSE(list_contains("upgraded", "upgrade"));
    EXPECT_FALSE(list_contains("", "upgrade"));
}

// ---- The response head, as a client reads it (RFC 9112 §4)

namespace {
const std::string kSwitching =
    "HTTP/1.1 101 Switching Protocols\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
    "\r\n";

void expect_switching(const ResponseParseResult& r) {
    ASSERT_EQ(r.status, ParseStatus::complete);
    EXPECT_EQ(r.consumed, kSwitching.size());
    EXPECT_EQ(r.response.version, "HTTP/1.1");
    EXPECT_EQ(r.response.status, 101);
    EXPECT_EQ(r.response.reason, "Switching Protocols");
    ASSERT_EQ(r.response.headers.size(), 3u);
    EXPECT_EQ(r.response.headers[0].name, "Upgrade");
    EXPECT_EQ(r.response.headers[0].value, "websocket");
    EXPECT_EQ(r.response.headers[1].name, "Connection");
    EXPECT_EQ(r.response.headers[1].value, "Upgrade");
    EXPECT_EQ(r.response.headers[2].name, "Sec-WebSocket-Accept");
    EXPECT_EQ(r.response.headers[2].value, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}
}  // namespace

TEST(HttpResponse, ParsesA101) {
    ResponseParser parser;
    expect_switching(parser.parse(kSwitching + "\x81\x02hi"));
}

TEST(HttpResponse, EverySplitPointGivesTheSameResponse) {
    for (std::size_t split = 0; split <= kSwitching.size(); ++split) {
        ResponseParser parser;
        auto first = parser.parse(std::string_view(kSwitching).substr(0, split));
        if (split < kSwitching.size()) {
            ASSERT_EQ(first.status, ParseStatus::need_more) << "split at " << split;
        }
        expect_switching(parser.parse(kSwitching));
    }
}

TEST(HttpResponse, StatusLines) {
    auto status_of = [](std::string line) {
        ResponseParser parser;
        auto r = parser.parse(line + "\r\n\r\n");
        return r.status == ParseStatus::complete ? r.response.status : -static_cast<int>(r.error);
    };
    EXPECT_EQ(status_of("HTTP/1.1 200 OK"), 200);
    EXPECT_EQ(status_of("HTTP/1.1 426 Upgrade Required"), 426);
    EXPECT_EQ(status_of("HTTP/1.1 101"), 101);  // the reason may be empty
    EXPECT_EQ(status_of("HTTP/1.1 101 "), 101);
    const int bad = -static_cast<int>(ParseError::bad_status_line);
    EXPECT_EQ(status_of("HTTP/1.1 1O1 Switching"), bad);
    EXPECT_EQ(status_of("HTTP/1.1  101 Switching"), bad);
    EXPECT_EQ(status_of("HTTP/11 101 Switching"), bad);
    EXPECT_EQ(status_of("SSH-2.0-OpenSSH_9.2"), bad);
    EXPECT_EQ(status_of("HTTP/1.1 1011 Switching"), bad);
}

TEST(HttpResponse, BareLfLineEndingsAreRefused) {
    // The original blog's server answered with "\n" line endings; a strict client refuses it.
    ResponseParser parser;
    auto r = parser.parse("HTTP/1.1 101 Switching Protocols\nUpgrade: websocket\n\n");
    EXPECT_EQ(r.status, ParseStatus::error);
    EXPECT_EQ(r.error, ParseError::bare_lf);
}

TEST(HttpResponse, HeadOverTheLimitIsRefused) {
    ResponseParser parser(Limits{.max_head_bytes = 64, .max_headers = 64});
    auto r = parser.parse("HTTP/1.1 101 Switching Protocols\r\nX-Padding: " + std::string(100, 'x'));
    EXPECT_EQ(r.status, ParseStatus::error);
    EXPECT_EQ(r.error, ParseError::head_too_large);
}
