// libFuzzer target: the frame parser and the receiver (reassembly, UTF-8, limits) on arbitrary
// bytes, fed whole and in pieces; both ways must produce the same events.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "proto/receiver.hpp"

namespace {

std::vector<std::string> events(std::string bytes, std::size_t chunk) {
    ws::Receiver receiver(ws::Role::server, ws::ReceiverLimits{1 << 16});
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
            if (e.kind == ws::Event::Kind::fail) return out;
        }
        if (at == bytes.size()) return out;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string bytes(reinterpret_cast<const char*>(data), size);
    auto whole = events(bytes, SIZE_MAX);
    auto pieces = events(bytes, size ? 1 + data[0] % 7 : 1);
    if (whole != pieces) std::abort();
    return 0;
}
