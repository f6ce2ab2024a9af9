// The session (RFC 6455 §5-§7) for both roles, without sockets: bytes in, events and bytes out.
#include <gtest/gtest.h>

#include <set>

#include "proto/session.hpp"

using namespace ws;

namespace {

// A frame found in a session's output, read back with the frame parser alone.
struct WireFrame {
    std::uint8_t opcode;
    bool fin;
    bool masked;
    std::array<std::uint8_t, 4> mask;
    std::string payload;  // unmasked
};

std::vector<WireFrame> frames_in(std::string_view bytes) {
    std::vector<WireFrame> out;
    while (!bytes.empty()) {
        HeaderParse hp = parse_header(std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
        EXPECT_EQ(hp.status, HeaderParse::Status::ok);
        if (hp.status != HeaderParse::Status::ok) break;
        const FrameHeader& h = hp.header;
        std::string payload(bytes.substr(h.header_length, h.payload_length));
        if (h.masked) apply_mask(reinterpret_cast<std::uint8_t*>(payload.data()), payload.size(), h.mask);
        out.push_back({h.opcode, h.fin, h.masked, h.mask, payload});
        bytes.remove_prefix(h.header_length + h.payload_length);
    }
    return out;
}

// Takes (and clears) everything the session wants to send.
std::string take_output(Session& s) {
    std::string out(s.output());
    s.wrote(out.size());
    return out;
}

std::vector<Event::Kind> feed_all(Session& s, std::string bytes) {
    std::vector<Event::Kind> kinds;
    s.feed(std::span(reinterpret_cast<std::uint8_t*>(bytes.data()), bytes.size()),
           [&](const Event& e) { kinds.push_back(e.kind); });
    return kinds;
}

std::string client_frame(Opcode op, std::string_view payload, bool fin = true) {
    std::array<std::uint8_t, 4> key{1, 2, 3, 4};
    std::string out;
    append_frame(out, op, payload, fin, &key);
    return out;
}

std::string server_frame(Opcode op, std::string_view payload, bool fin = true) {
    std::string out;
    append_frame(out, op, payload, fin);
    return out;
}

}  // namespace

TEST(Session, AClientMasksEveryFrameWithAFreshKey) {
    // RFC 6455 §5.3: "The masking key is a 32-bit value chosen at random by the client ...
    // a fresh masking key for each frame".
    Random random(7);
    Session client(Role::client, {}, &random);
    for (int i = 0; i < 200; ++i) client.send(Opcode::text, "message " + std::to_string(i));
    client.ping("are you there");
    client.close(1000, "bye");
    auto frames = frames_in(take_output(client));
    ASSERT_EQ(frames.size(), 202u);
    std::set<std::array<std::uint8_t, 4>> keys;
    for (const auto& f : frames) {
        EXPECT_TRUE(f.masked);
        keys.insert(f.mask);
    }
    EXPECT_EQ(keys.size(), frames.size());
    EXPECT_EQ(frames[5].payload, "message 5");
    EXPECT_EQ(frames[201].opcode, 0x8);
}

TEST(Session, AServerNeverMasks) {
    // RFC 6455 §5.1: "A server MUST NOT mask any frames that it sends to the client."
    Session server(Role::server);
    server.send(Opcode::binary, std::string(70000, 'x'), 1000);
    server.ping();
    server.close(1001, "going");
    auto frames = frames_in(take_output(server));
    ASSERT_EQ(frames.size(), 72u);
    for (const auto& f : frames) EXPECT_FALSE(f.masked);
}

TEST(Session, AFragmentedMessageIsOneTypedFrameThenContinuations) {
    // RFC 6455 §5.4: the first fragment carries the opcode; the rest are continuations; only
    // the last has FIN set.
    Random random(1);
    Session client(Role::client, {}, &random);
    client.send(Opcode::text, "Hello, world", 5);
    auto frames = frames_in(take_output(client));
    ASSERT_EQ(frames.size(), 3u);
    EXPECT_EQ(frames[0].opcode, 0x1);
    EXPECT_EQ(frames[1].opcode, 0x0);
    EXPECT_EQ(frames[2].opcode, 0x0);
    EXPECT_EQ((std::vector{frames[0].fin, frames[1].fin, frames[2].fin}), (std::vector{false, false, true}));
    EXPECT_EQ(frames[0].payload + frames[1].payload + frames[2].payload, "Hello, world");
}

TEST(Session, APingIsAnsweredWithItsPayload) {
    // RFC 6455 §5.5.2-3: the pong carries "exactly the same Application data as found in the
    // message body of the Ping frame".
    Session server(Role::server);
    EXPECT_EQ(feed_all(server, client_frame(Opcode::ping, "abc")), std::vector{Event::Kind::ping});
    auto frames = frames_in(take_output(server));
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0].opcode, 0xA);
    EXPECT_EQ(frames[0].payload, "abc");
    EXPECT_FALSE(frames[0].masked);

    Random random(2);
    Session client(Role::client, {}, &random);
    feed_all(client, server_frame(Opcode::ping, "xyz"));
    frames = frames_in(take_output(client));
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0].payload, "xyz");
    EXPECT_TRUE(frames[0].masked);  // a client's pong is masked like every client frame
}

TEST(Session, APeersCloseIsAnsweredExactlyOnce) {
    // RFC 6455 §5.5.1: an endpoint that receives a close frame sends one in response, echoing
    // the status code, unless it already sent one.
    Session server(Role::server);
    auto kinds = feed_all(server, client_frame(Opcode::close, close_payload(1000, "done")) +
                                      client_frame(Opcode::close, close_payload(1001, "again")) +
                                      client_frame(Opcode::text, "too late"));
    EXPECT_EQ(kinds, std::vector{Event::Kind::close});
    EXPECT_EQ(server.state(), Session::State::closed);
    auto frames = frames_in(take_output(server));
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0].opcode, 0x8);
    EXPECT_EQ(close_code_of(frames[0].payload), 1000);
    EXPECT_FALSE(server.close(1000, "and again"));
    EXPECT_FALSE(server.send(Opcode::text, "after the close"));
    EXPECT_EQ(server.output(), "");
}

TEST(Session, AnEmptyCloseIsAnsweredWithAnEmptyClose) {
    // 1005 means "no status code": it is never put on the wire (RFC 6455 §7.4.1).
    Session server(Role::server);
    feed_all(server, client_frame(Opcode::close, ""));
    auto frames = frames_in(take_output(server));
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0].payload, "");
    EXPECT_EQ(server.close_code(), 1005);
}

TEST(Session, OurCloseIsNotRepeatedWhenThePeerAnswers) {
    Random random(3);
    Session client(Role::client, {}, &random);
    ASSERT_TRUE(client.close(1000, "bye"));
    EXPECT_EQ(client.state(), Session::State::closing);
    take_output(client);
    // Data that crosses our close frame is dropped (RFC 6455 §7.1.2); the answer ends it.
    auto kinds = feed_all(client, server_frame(Opcode::text, "crossing") + server_frame(Opcode::close, close_payload(1000, "")));
    EXPECT_EQ(kinds, std::vector{Event::Kind::close});
    EXPECT_EQ(client.state(), Session::State::closed);
    EXPECT_TRUE(client.close_sent());
    EXPECT_TRUE(client.close_received());
    EXPECT_EQ(client.output(), "");
}

TEST(Session, AMaskedFrameFromAServerFailsTheClientWith1002) {
    // RFC 6455 §5.1: "A client MUST close a connection if it detects a masked frame."
    Random random(4);
    Session client(Role::client, {}, &random);
    std::vector<Event> events;
    std::string bytes = client_frame(Opcode::text, "masked");
    client.feed(std::span(reinterpret_cast<std::uint8_t*>(bytes.data()), bytes.size()), [&](const Event& e) {
        EXPECT_EQ(e.kind, Event::Kind::fail);
        EXPECT_EQ(e.error, FrameError::masked_server_frame);
        EXPECT_EQ(e.code, 1002);
        events.push_back(e);
    });
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(client.failure(), FrameError::masked_server_frame);
    auto frames = frames_in(take_output(client));
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0].opcode, 0x8);
    EXPECT_TRUE(frames[0].masked);
    EXPECT_EQ(close_code_of(frames[0].payload), 1002);
    EXPECT_EQ(frames[0].payload.substr(2), describe(FrameError::masked_server_frame));
}

TEST(Session, AFailureInTheMiddleOfAMessageSendsItsCodeAndStops) {
    Session server(Role::server);
    auto kinds = feed_all(server, client_frame(Opcode::text, "first half ", false) +
                                      client_frame(Opcode::text, "a new message inside it") +
                                      client_frame(Opcode::text, "never seen"));
    EXPECT_EQ(kinds, std::vector{Event::Kind::fail});
    EXPECT_EQ(server.failure(), FrameError::expected_continuation);
    EXPECT_EQ(server.state(), Session::State::closed);
    auto frames = frames_in(take_output(server));
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(close_code_of(frames[0].payload), 1002);
}

TEST(Session, InvalidUtf8FailsWith1007AfterAPing) {
    Session server(Role::server);
    auto kinds = feed_all(server, client_frame(Opcode::ping, "p") + client_frame(Opcode::text, "\xff"));
    EXPECT_EQ(kinds, (std::vector{Event::Kind::ping, Event::Kind::fail}));
    auto frames = frames_in(take_output(server));
    ASSERT_EQ(frames.size(), 2u);
    EXPECT_EQ(frames[0].opcode, 0xA);
    EXPECT_EQ(close_code_of(frames[1].payload), 1007);
}

TEST(Session, ClientToServerAtEverySplitPoint) {
    // Everything a client session writes, fed to a server session split at each offset, gives
    // the same events.
    Random random(5);
    Session client(Role::client, {}, &random);
    client.send(Opcode::text, "hello");
    client.send(Opcode::binary, std::string(300, '\x01'), 100);
    client.ping("p");
    client.send(Opcode::text, "κόσμε", 3);
    client.close(1000, "bye");
    std::string wire = take_output(client);
    const std::vector expected = {Event::Kind::message, Event::Kind::message, Event::Kind::ping, Event::Kind::message,
                                  Event::Kind::close};
    for (std::size_t split = 0; split <= wire.size(); ++split) {
        Session server(Role::server);
        std::vector<Event::Kind> kinds;
        std::vector<std::string> payloads;
        std::string buffer = wire.substr(0, split);
        auto take = [&](const Event& e) {
            kinds.push_back(e.kind);
            payloads.emplace_back(e.payload);
        };
        std::size_t used = server.feed(std::span(reinterpret_cast<std::uint8_t*>(buffer.data()), buffer.size()), take);
        buffer = buffer.substr(used) + wire.substr(split);
        server.feed(std::span(reinterpret_cast<std::uint8_t*>(buffer.data()), buffer.size()), take);
        ASSERT_EQ(kinds, expected) << "split at " << split;
        EXPECT_EQ(payloads[0], "hello");
        EXPECT_EQ(payloads[1], std::string(300, '\x01'));
        EXPECT_EQ(payloads[3], "κόσμε");
        EXPECT_EQ(payloads[4], "bye");
    }
}

TEST(Session, ACloseStartsClosingAndTimesOutNothingByItself) {
    Session server(Role::server);
    EXPECT_TRUE(server.is_open());
    EXPECT_TRUE(server.close(1001, "server shutting down"));
    EXPECT_EQ(server.state(), Session::State::closing);
    EXPECT_FALSE(server.ping());
    auto frames = frames_in(take_output(server));
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(close_code_of(frames[0].payload), 1001);
    EXPECT_EQ(frames[0].payload.substr(2), "server shutting down");
}

TEST(Session, BuffersAreKeptWhileBusyAndGivenBackWhenIdle) {
    Session server(Role::server);
    server.send(Opcode::text, "a message longer than the small-string buffer");
    server.wrote(server.backlog());
    EXPECT_GT(server.memory(), 0u);  // the next message needs no allocation
    EXPECT_TRUE(server.can_release_memory());
    server.release_memory();
    EXPECT_EQ(server.memory(), 0u);  // an idle connection holds no buffer
    server.send(Opcode::text, "pending");
    EXPECT_FALSE(server.can_release_memory());  // not while something waits to be sent
}
