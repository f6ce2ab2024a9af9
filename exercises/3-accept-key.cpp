// Exercise 3 (lesson 3): the accept key.
//
// RFC 6455 §4.2.2 item 5.4: the server takes the client's Sec-WebSocket-Key as it was sent (as
// text, without spaces around it), appends the GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11",
// computes the SHA-1 of those bytes (20 bytes) and sends that digest in base64.
//
// Write accept_key(key).
//
//   accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="   (RFC 6455 §1.3)
//
// You may use handshake::kGuid, handshake::sha1(text) and handshake::base64_encode(bytes) from
// src/proto/handshake.hpp, and http::trim(s) from src/proto/http.hpp.
// Check it: make exercises. Run lesson 3 on it: build/bin/student/lesson3-accept-key --demo
// The library's own answer is in src/proto/accept_key.cpp: look only when you are done.
#include "proto/handshake.hpp"
#include "proto/http.hpp"

namespace ws::handshake {

std::string accept_key(std::string_view client_key) {
    (void)client_key;
    return "";  // TODO: trim, append the GUID, SHA-1, base64
}

}  // namespace ws::handshake
