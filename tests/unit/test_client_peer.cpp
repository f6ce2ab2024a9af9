// The project's WebSocket client (used by the demos and the chat bots) against a server it did
// not write: Python's `websockets`, started as a child process.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "client/client.hpp"

using namespace ws;

namespace {

class PythonEchoServer {
public:
    PythonEchoServer() {
        int pipe_fds[2];
        if (::pipe(pipe_fds) != 0) return;
        pid_ = ::fork();
        if (pid_ == 0) {
            ::dup2(pipe_fds[1], STDOUT_FILENO);
            ::close(pipe_fds[0]);
            ::execl(WS_PYTHON, WS_PYTHON, WS_PEER_SERVER, static_cast<char*>(nullptr));
            ::_exit(127);
        }
        ::close(pipe_fds[1]);
        FILE* out = ::fdopen(pipe_fds[0], "r");
        char line[64] = {};
        if (out && std::fgets(line, sizeof line, out)) std::sscanf(line, "PORT %hu", &port_);
        if (out) std::fclose(out);
    }
    ~PythonEchoServer() {
        if (pid_ > 0) {
            ::kill(pid_, SIGTERM);
            ::waitpid(pid_, nullptr, 0);
        }
    }
    std::uint16_t port() const { return port_; }

private:
    pid_t pid_ = -1;
    std::uint16_t port_ = 0;
};

}  // namespace

TEST(ClientAgainstPythonWebsockets, HandshakeEchoFragmentsPingAndClose) {
    PythonEchoServer server;
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
