// libFuzzer target: Engine.IO polling bodies and packets, and Socket.IO packets through the
// Decoder (attachments included), on arbitrary bytes. Nothing may crash; every failure is a
// named error; an encoded packet parses back to itself.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "proto/engineio.hpp"
#include "proto/socketio.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view bytes(reinterpret_cast<const char*>(data), size);
    auto body = ws::eio::parse_payload(bytes, {.max_payload = 1 << 16, .max_packets = 64});
    if (!body.ok() && !body.packets.empty()) std::abort();
    ws::sio::Decoder decoder;
    for (const auto& p : body.packets) {
        if (p.type != ws::eio::PacketType::message) continue;
        auto r = p.binary ? decoder.binary(p.data) : decoder.text(p.data);
        if (r.packet && !r.packet->attachments) {
            // What parses encodes to something that parses to the same packet.
            auto again = ws::sio::parse(ws::sio::encode(*r.packet));
            if (!again.packet || again.packet->type != r.packet->type || again.packet->nsp != r.packet->nsp ||
                again.packet->id != r.packet->id || again.packet->data != r.packet->data)
                std::abort();
        }
    }
    auto one = ws::eio::parse_text(bytes);
    if (one.packet && ws::eio::encode_text(*one.packet) != bytes) std::abort();
    return 0;
}
