#include "proto/sender.hpp"

#include <stdexcept>

namespace ws {

Sender::Sender(Role role, Random* random) : role_(role), random_(random) {
    if (role == Role::client && !random) throw std::logic_error("a client's sender needs a random source for masks");
}

void Sender::frame(std::string& out, Opcode opcode, std::string_view payload, bool fin, bool rsv1) {
    std::size_t at = out.size();
    if (role_ == Role::server) {
        append_frame(out, opcode, payload, fin);
    } else {
        // RFC 6455 §5.3: "a fresh masking key" for every frame, unpredictable to the application.
        std::array<std::uint8_t, 4> key = random_->mask_key();
        append_frame(out, opcode, payload, fin, &key);
    }
    if (rsv1) out[at] = static_cast<char>(out[at] | 0x40);
}

void Sender::message(std::string& out, Opcode type, std::string_view payload, std::size_t fragment_size,
                     bool compressed) {
    if (fragment_size == 0 || payload.size() <= fragment_size) {
        frame(out, type, payload, true, compressed);
        return;
    }
    Opcode opcode = type;
    while (!payload.empty()) {
        std::string_view piece = payload.substr(0, fragment_size);
        payload.remove_prefix(piece.size());
        frame(out, opcode, piece, payload.empty(), compressed && opcode == type);
        opcode = Opcode::continuation;
    }
}

}  // namespace ws
