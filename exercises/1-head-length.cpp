// Exercise 1 (lesson 1): where does an HTTP head end?
//
// A server reads whatever TCP delivers: half a request, a whole one, or a request and the first
// WebSocket frames behind it. The head (request line and headers) ends with an empty line, so
// the bytes "\r\n\r\n" (CR LF CR LF) mark its end.
//
// Write head_length(bytes): the number of bytes of the head, counting the final "\r\n\r\n",
// or 0 if those four bytes are not in `bytes` yet (more must be read).
//
//   head_length("GET / HTTP/1.1\r\nHost: x\r\n\r\n")       == 27
//   head_length("GET / HTTP/1.1\r\nHost: x\r\n\r\n\x81\x05") == 27   (frames behind it)
//   head_length("GET / HTTP/1.1\r\nHost: x\r\n")           == 0    (not yet)
//
// Check it: make exercises. Run lesson 2 on it (it parses requests with your function):
//   build/bin/student/lesson2-handshake --demo
// The library's own answer is in src/proto/head_length.cpp: look only when you are done.
#include "proto/http.hpp"

namespace ws::http {

std::size_t head_length(std::string_view bytes) {
    (void)bytes;
    return 0;  // TODO: find "\r\n\r\n"
}

}  // namespace ws::http
