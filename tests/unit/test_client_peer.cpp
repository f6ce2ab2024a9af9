// The project's WebSocket client (used by the demos and the chat bots) against servers it did
// not write: Python's `websockets`, and a hand-written Python server that answers wrongly on
// purpose (tests/e2e/bad_server.py), each started as a child process.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "client/client.hpp"

using namespace ws;

namespace {

// A Python script as a child process; its first line says "PORT n", later lines report.
class PythonPeer {
public:
    explicit PythonPeer(const char* script, const char* arg = nullptr) {
        int pipe_fds[2];
        if (::pipe(pipe_fds) != 0) return;
        pid_ = ::fork();
        if (pid_ == 0) {
            ::dup2(pipe_fds[1], STDOUT_FILENO);
            ::close(pipe_fds[0]);
            ::execl(WS_PYTHON, WS_PYTHON, script, arg, static_cast<char*>(nullptr));
            ::_exit(127);
        }
        ::close(pipe_fds[1]);
        out_ = ::fdopen(pipe_fds[0], "r");
        std::string first = line();
        std::sscanf(first.c_str(), "PORT %hu", &port_);
    }
    ~PythonPeer() {
        if (pid_ > 0) {
            ::kill(pid_, SIGTERM);
            ::waitpid(pid_, nullptr, 0);
        }
        if (out_) std::fclose(out_);
    }
    std::uint16_t port() const { return port_; }
    // The next line the script printed ("" at its end).
    std::string line() {
        char text[128] = {};
        if (!out_ || !std::fgets(text, sizeof text, out_)) return "";
        std::string s(text);
        if (!s.empty() && s.back() == '\n') s.pop_back();
        return s;
    }

private:
    pid_t pid_ = -1;
    FILE* out_ = nullptr;
    std::uint16_t port_ = 0;
};

// Connects to a bad server and returns the handshake failure the client reported.
HandshakeError refusal_from(const char* mode, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    PythonPeer server(WS_BAD_SERVER, mode);
    EXPECT_NE(server.port(), 0) << "the Python server did not start";
    Random random(1);
    try {
        Client client("127.0.0.1", server.port(), "/", random, timeout);
    } catch (const HandshakeError& e) {
        return e;
    }
    ADD_FAILURE() << "the client accepted the handshake of a server in mode " << mode;
    return HandshakeError(HandshakeError::Stage::send, "");
}

}  // namespace

TEST(ClientAgainstPythonWebsockets, HandshakeEchoFragmentsPingAndClose) {
    PythonPeer server(WS_PEER_SERVER);
    ASSERT_NE(server.port(), 0) << "the Python websockets server did not start";
    Random random(42);
    Client client("127.0.0.1", server.port(), "/", random);
    EXPECT_EQ(client.response().rfind("HTTP/1.1 101", 0), 0u);

    client.send_text("Hello, κόσμε");
    ClientMessage m = client.receive();
    ASSERT_EQ(m.kind, Event::Kind::message);
    EXPECT_EQ(m.type, Opcode::text);
    EXPECT_EQ(m.payload, "Hello, κόσμε");

    std::string big(70000, '\0');
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7);
    client.send(Opcode::binary, big);
    m = client.receive();
    ASSERT_EQ(m.kind, Event::Kind::message);
    EXPECT_EQ(m.type, Opcode::binary);
    EXPECT_EQ(m.payload, big);

    // RFC 6455 §5.4: a fragmented message, reassembled by the peer.
    client.send(Opcode::text, "frag", false);
    client.send(Opcode::continuation, "ment", true);
    m = client.receive();
    EXPECT_EQ(m.payload, "fragment");

    client.send(Opcode::ping, "are you there");
    m = client.receive();
    ASSERT_EQ(m.kind, Event::Kind::pong);
    EXPECT_EQ(m.payload, "are you there");

    m = client.close(1000, "bye");
    ASSERT_EQ(m.kind, Event::Kind::close);
    EXPECT_EQ(m.code, 1000);
}

// RFC 6455 §4.1: "If the server's response does not conform to the requirements for the server's
// handshake ..., the client MUST _Fail the WebSocket Connection_." Each failure has its name.
TEST(ClientAgainstBadServers, A200IsARefusalWithItsBody) {
    auto e = refusal_from("status-200");
    EXPECT_EQ(e.stage, HandshakeError::Stage::checks);
    ASSERT_NE(e.result.first_failure(), nullptr);
    EXPECT_EQ(e.result.first_failure()->check, handshake::ClientCheck::status);
    ASSERT_TRUE(e.response.has_value());
    EXPECT_EQ(e.response->status, 200);
    EXPECT_NE(e.received.find("hello, world"), std::string::npos) << "the body is kept for the error";
    EXPECT_NE(std::string(e.what()).find("not_101"), std::string::npos) << e.what();
}

TEST(ClientAgainstBadServers, AMissingUpgradeHeaderIsNamed) {
    auto e = refusal_from("no-upgrade");
    ASSERT_NE(e.result.first_failure(), nullptr);
    EXPECT_EQ(e.result.first_failure()->check, handshake::ClientCheck::upgrade);
}

TEST(ClientAgainstBadServers, AWrongAcceptKeyIsNamed) {
    auto e = refusal_from("bad-accept");
    ASSERT_NE(e.result.first_failure(), nullptr);
    EXPECT_EQ(e.result.first_failure()->check, handshake::ClientCheck::accept);
    EXPECT_NE(std::string(e.what()).find("bad_accept"), std::string::npos) << e.what();
}

TEST(ClientAgainstBadServers, AnExtensionThatWasNotOfferedIsNamed) {
    auto e = refusal_from("extension");
    ASSERT_NE(e.result.first_failure(), nullptr);
    EXPECT_EQ(e.result.first_failure()->check, handshake::ClientCheck::extensions);
}

TEST(ClientAgainstBadServers, ASubprotocolThatWasNotOfferedIsNamed) {
    auto e = refusal_from("protocol");
    ASSERT_NE(e.result.first_failure(), nullptr);
    EXPECT_EQ(e.result.first_failure()->check, handshake::ClientCheck::protocol);
}

TEST(ClientAgainstBadServers, AServerThatNeverAnswersTimesOut) {
    auto start = std::chrono::steady_clock::now();
    auto e = refusal_from("silent", std::chrono::milliseconds(500));
    EXPECT_EQ(e.stage, HandshakeError::Stage::no_response);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(ClientAgainstBadServers, AnAnswerThatIsNotHttpIsNamed) {
    auto e = refusal_from("not-http");
    EXPECT_EQ(e.stage, HandshakeError::Stage::not_http);
}

TEST(ClientAgainstBadServers, AMaskedServerFrameFailsWith1002AndTheServerHearsIt) {
    // RFC 6455 §5.1: "The client MUST close a connection if it detects a masked frame" - and
    // it says why, with a close frame, before it leaves.
    PythonPeer server(WS_BAD_SERVER, "masked");
    Random random(2);
    Client client("127.0.0.1", server.port(), "/", random);
    Received m = client.receive();
    ASSERT_EQ(m.kind, Event::Kind::fail);
    EXPECT_EQ(m.error, FrameError::masked_server_frame);
    EXPECT_EQ(m.code, 1002);
    EXPECT_EQ(server.line(), "CLOSE 1002");
}

TEST(ClientAgainstBadServers, InvalidUtf8FromTheServerFailsWith1007) {
    PythonPeer server(WS_BAD_SERVER, "bad-utf8");
    Random random(3);
    Client client("127.0.0.1", server.port(), "/", random);
    Received m = client.receive();
    ASSERT_EQ(m.kind, Event::Kind::fail);
    EXPECT_EQ(m.error, FrameError::text_not_utf8);
    EXPECT_EQ(server.line(), "CLOSE 1007");
}

TEST(ClientAgainstBadServers, AGoodServerStillWorks) {
    // The same hand-written server, answering rightly: the failures above are the answers' fault.
    PythonPeer server(WS_BAD_SERVER, "ok");
    Random random(4);
    Client client("127.0.0.1", server.port(), "/", random);
    client.send_text("hello");
    EXPECT_EQ(client.receive().payload, "hello");
    Received r = client.close(1000, "bye");
    EXPECT_EQ(r.kind, Event::Kind::close);
    EXPECT_EQ(r.code, 1000);
    EXPECT_EQ(server.line(), "CLOSE 1000");
}
