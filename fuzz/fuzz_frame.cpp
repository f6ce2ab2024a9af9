// libFuzzer target: the frame parser, the receiver (reassembly, UTF-8, limits) and the session
// (its answers) on arbitrary bytes, for either role, fed whole and in pieces; both ways must give
// the same events and the same bytes out.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "proto/session.hpp"

namespace {

std::vector<std::string> events(std::string bytes, std::size_t chunk, ws::Role role) {
    ws::Random random(1);
    ws::Session receiver(role, ws::ReceiverLimits{1 << 16}, &random);
    std::vector<std::string> out;
    std::string buffer;
    std::size_t at = 0;
    for (;;) {
        std::size_t n = std::min(chunk, bytes.size() - at);
        buffer.append(bytes, at, n);
        at += n;
        for (;;) {
            std::size_t consumed = 0;
            auto e = receiver.next(std::span(reinterpret_cast<std::uint8_t*>(buffer.data()), buffer.size()), consumed);
            if (consumed > buffer.size()) std::abort();
            if (e.kind != ws::Event::Kind::need_more)
                out.push_back(std::to_string(static_cast<int>(e.kind)) + ":" + std::to_string(e.code) + ":" +
                              std::string(e.kind == ws::Event::Kind::fail ? std::string_view() : e.payload));
            buffer.erase(0, consumed);  // after the payload was copied: it may point into the buffer
            if (e.kind == ws::Event::Kind::need_more) break;
            if (e.kind == ws::Event::Kind::fail) break;
        }
        if (at == bytes.size()) break;
    }
    out.emplace_back(receiver.output());  // the pongs and closes it answered with
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string bytes(reinterpret_cast<const char*>(data), size);
    ws::Role role = size && (data[0] & 0x80) ? ws::Role::client : ws::Role::server;
    auto whole = events(bytes, SIZE_MAX, role);
    auto pieces = events(bytes, size ? 1 + data[0] % 7 : 1, role);
    if (whole != pieces) std::abort();
    return 0;
}
