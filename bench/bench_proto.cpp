// Speed of the protocol core (make bench): frame header parsing, unmasking and UTF-8
// validation, each beside memcpy of the same size as the ceiling.
#include <benchmark/benchmark.h>

#include <cstring>
#include <string>
#include <vector>

#include "proto/frame.hpp"
#include "proto/http.hpp"
#include "proto/receiver.hpp"
#include "proto/session.hpp"
#include "proto/utf8.hpp"

using namespace ws;

static void BM_ParseHeader(benchmark::State& state) {
    std::string frame = build_frame({.opcode = 0x1, .masked = true, .mask = {1, 2, 3, 4}}, std::string(300, 'a'));
    auto bytes = std::span(reinterpret_cast<const std::uint8_t*>(frame.data()), frame.size());
    for (auto _ : state) benchmark::DoNotOptimize(parse_header(bytes));
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseHeader);

static void BM_Unmask(benchmark::State& state) {
    std::vector<std::uint8_t> data(static_cast<std::size_t>(state.range(0)), 0x5a);
    const std::array<std::uint8_t, 4> key = {0x37, 0xfa, 0x21, 0x3d};
    for (auto _ : state) {
        apply_mask(data.data(), data.size(), key);
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Unmask)->Arg(16)->Arg(1 << 10)->Arg(64 << 10)->Arg(1 << 20);

static void BM_Memcpy(benchmark::State& state) {
    std::vector<char> from(static_cast<std::size_t>(state.range(0)), 'a'), to(from.size());
    for (auto _ : state) {
        std::memcpy(to.data(), from.data(), from.size());
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Memcpy)->Arg(16)->Arg(1 << 10)->Arg(64 << 10)->Arg(1 << 20);

static std::string mixed_text(std::size_t size) {
    std::string s;
    const std::string pieces[] = {"Hello, ", "κόσμε ", "世界 ", "🎉 ", "plain ascii words "};
    for (std::size_t i = 0; s.size() < size; ++i) s += pieces[i % 5];
    // Cut at a character boundary so the text stays valid.
    s.resize(size);
    while (!is_valid_utf8(s)) s.pop_back();
    return s;
}

static void BM_Utf8Ascii(benchmark::State& state) {
    std::string text(static_cast<std::size_t>(state.range(0)), 'a');
    for (auto _ : state) benchmark::DoNotOptimize(is_valid_utf8(text));
    state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Utf8Ascii)->Arg(1 << 10)->Arg(64 << 10)->Arg(1 << 20);

static void BM_Utf8Mixed(benchmark::State& state) {
    std::string text = mixed_text(static_cast<std::size_t>(state.range(0)));
    for (auto _ : state) benchmark::DoNotOptimize(is_valid_utf8(text));
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(text.size()));
}
BENCHMARK(BM_Utf8Mixed)->Arg(1 << 10)->Arg(64 << 10)->Arg(1 << 20);

// A read holding 16 masked 32-byte text messages, through the whole receiver.
static void BM_ReceiverSmallMessages(benchmark::State& state) {
    std::string one = build_frame({.opcode = 0x1, .masked = true, .mask = {1, 2, 3, 4}}, std::string(32, 'm'));
    std::string wire;
    for (int i = 0; i < 16; ++i) wire += one;
    std::string work;
    for (auto _ : state) {
        work = wire;
        Receiver r(Role::server);
        std::size_t at = 0, consumed = 0;
        for (;;) {
            Event e = r.next(std::span(reinterpret_cast<std::uint8_t*>(work.data() + at), work.size() - at), consumed);
            at += consumed;
            if (e.kind == Event::Kind::need_more) break;
            benchmark::DoNotOptimize(e.payload.data());
        }
    }
    state.SetItemsProcessed(state.iterations() * 16);
}
BENCHMARK(BM_ReceiverSmallMessages);

static void BM_ParseUpgradeRequest(benchmark::State& state) {
    std::string request =
        "GET /ws HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
        "Origin: http://127.0.0.1:8080\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "User-Agent: Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0.0.0\r\n\r\n";
    for (auto _ : state) {
        http::RequestParser parser;
        benchmark::DoNotOptimize(parser.parse(request));
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseUpgradeRequest);

// A chat broadcast: the frame is encoded once, then appended to each receiver's session output
// (what Server::broadcast does). Against a shared buffer the copy would save this per receiver:
// compare the time per receiver with the cost of one write() (a microsecond or more).
static void BM_BroadcastCopyToSessions(benchmark::State& state) {
    auto receivers = static_cast<std::size_t>(state.range(0));
    auto size = static_cast<std::size_t>(state.range(1));
    std::vector<Session> sessions;
    sessions.reserve(receivers);
    for (std::size_t i = 0; i < receivers; ++i) sessions.emplace_back(Role::server);
    std::string payload(size, 'x');
    for (auto _ : state) {
        std::string frame;
        append_frame(frame, Opcode::text, payload);
        for (auto& s : sessions) s.send_prebuilt(frame);
        for (auto& s : sessions) s.wrote(s.backlog());  // as if each was written out
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(receivers));
    state.counters["ns_per_receiver"] = benchmark::Counter(
        static_cast<double>(state.iterations() * static_cast<std::int64_t>(receivers)),
        benchmark::Counter::kIsRate | benchmark::Counter::kInvert, benchmark::Counter::kIs1000);
}
BENCHMARK(BM_BroadcastCopyToSessions)->Args({1000, 64})->Args({1000, 1024});

BENCHMARK_MAIN();
