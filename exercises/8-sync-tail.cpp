// Exercise 8 (lesson 8): the tail a sync flush leaves.
//
// RFC 7692 §7.2.1. A compressor that flushes with Z_SYNC_FLUSH ends its output with an empty
// stored block whose last 4 bytes are always 00 00 ff ff. permessage-deflate does not send
// them: the receiver knows they are there and puts them back before inflating (§7.2.2).
//
// Write without_sync_tail(deflated): how many bytes of `deflated` to send, that is its size
// less 4 when it ends with 00 00 ff ff, else its whole size. Only one tail is removed.
//
//   f2 48 cd c9 c9 07 00 00 00 ff ff  → 7    (RFC 7692's "Hello")
//   00 00 ff ff                       → 0
//   f2 48 cd c9 c9 07 00              → 7    (no tail: nothing removed)
//   00 00 ff ff 00 00 ff ff           → 4
//
// Check it: make exercises. Run lesson 8 on it: build/bin/student/lesson8-compression --demo
// (every message it compresses goes through your function).
// The library's own answer is in src/proto/sync_tail.cpp: look only when you are done.
#include "proto/deflate.hpp"

namespace ws {

std::size_t without_sync_tail(std::string_view deflated) {
    return deflated.size();  // TODO: less 4 when the last 4 bytes are 00 00 ff ff
}

}  // namespace ws
