// The sending side (RFC 6455 §5.2-§5.4): a message becomes one frame or several fragments, and
// every frame a client sends is masked with a fresh key (§5.3). A server masks nothing. No I/O:
// frames are appended to a buffer the caller writes out.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "proto/frame.hpp"
#include "proto/random.hpp"
#include "proto/receiver.hpp"

namespace ws {

class Sender {
public:
    // A client needs `random` for its masking keys (from --seed or OpenSSL); a server may pass null.
    Sender(Role role, Random* random);

    // One frame, masked if this is a client's; `rsv1` marks a compressed message's first frame.
    void frame(std::string& out, Opcode opcode, std::string_view payload, bool fin = true, bool rsv1 = false);
    // A whole message: one frame, or fragments of at most `fragment_size` bytes (0: one frame).
    // The first fragment carries the type (and RSV1 if `compressed`, RFC 7692 §6); the rest are
    // continuations; the last has FIN.
    void message(std::string& out, Opcode type, std::string_view payload, std::size_t fragment_size = 0,
                 bool compressed = false);

    Role role() const { return role_; }

private:
    Role role_;
    Random* random_;
};

}  // namespace ws
