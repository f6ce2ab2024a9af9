// Exercise 9 (lesson 9): the packets of a long-polling body.
//
// Engine.IO v4 over HTTP long-polling sends several packets in one body, each packet's text
// after the other with the record separator 0x1e ("\x1e", eio::kSeparator) between them; no
// separator before the first or after the last, and a packet may be empty (the parser then
// says which one is wrong). A packet is its type digit, then its data:
//
//   "4hello\x1e" "2"              → "4hello", "2"           (a message, then a ping)
//   "6"                           → "6"                     (one packet: no separator at all)
//   "4a\x1e\x1e" "4b"             → "4a", "", "4b"          (an empty packet in the middle)
//   ""                            → ""                      (one empty packet)
//
// Write split_polling_body(body): the packets in order, as views into `body` (no copies).
//
// Check it: make exercises. Run lesson 9 on it: build/bin/student/lesson9-socketio --demo
// (every POST the server reads goes through your function).
// The library's own answer is in src/proto/polling_split.cpp: look only when you are done.
#include "proto/engineio.hpp"

namespace ws::eio {

std::vector<std::string_view> split_polling_body(std::string_view body) {
    return {body};  // TODO: one view per packet, cut at every kSeparator
}

}  // namespace ws::eio
