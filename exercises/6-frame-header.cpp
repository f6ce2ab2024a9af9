// Exercise 6 (lesson 6): the header of a frame a client sends.
//
// RFC 6455 §5.2. Byte 0: FIN in the top bit (0x80), the opcode in the low 4 bits. Byte 1: the
// MASK bit in the top bit, then the payload length in 7 bits when it is 0 to 125; for 126 to
// 65535 the 7 bits say 126 and the next 2 bytes hold the length; above that they say 127 and
// the next 8 bytes hold it (network byte order: the most significant byte first). Always the
// shortest form. When `mask` is not null, its 4 bytes come right after the length (§5.3: a
// client masks every frame; a server masks none).
//
// Write write_header(out, fin, opcode, length, mask): the header into `out` (room for 14
// bytes); return how many bytes it has.
//
//   fin, text, 5, no mask          → 81 05                       (returns 2)
//   fin, text, 5, key 37 fa 21 3d  → 81 85 37 fa 21 3d           (returns 6)
//   fin, binary, 256, no mask      → 82 7e 01 00                 (returns 4)
//   not fin, text, 65536, no mask  → 01 7f 00 00 00 00 00 01 00 00 (returns 10)
//
// Check it: make exercises. Run lesson 6 on it: build/bin/student/lesson6-client --demo
// (every frame the client and the in-process server send then has your header).
// The library's own answer is in src/proto/frame_header.cpp: look only when you are done.
#include "proto/frame.hpp"

namespace ws {

std::size_t write_header(std::uint8_t* out, bool fin, std::uint8_t opcode, std::uint64_t length,
                         const std::array<std::uint8_t, 4>* mask) {
    (void)out, (void)fin, (void)opcode, (void)length, (void)mask;
    return 0;  // TODO: byte 0, byte 1 and the extended length, then the key
}

}  // namespace ws
