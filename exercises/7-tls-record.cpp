// Exercise 7 (lesson 7): a TLS record's header.
//
// RFC 8446 §5.1. Everything TLS sends is cut into records, and each starts with 5 bytes in the
// clear: the content type (1 byte: 22 handshake, 23 application data, 20 change_cipher_spec,
// 21 alert), a version (2 bytes, e.g. 03 03), and the length of what follows (2 bytes), both
// in network byte order (the most significant byte first).
//
// Write read_tls_record_header(bytes): the header at the start of `bytes`, or std::nullopt when
// fewer than 5 bytes are there.
//
//   16 03 01 01 2f ...  → type 22, version 0x0301, length 303   (a ClientHello's record)
//   17 03 03 00 1f ...  → type 23, version 0x0303, length 31    (encrypted data)
//   17 03               → std::nullopt
//
// Check it: make exercises. Run lesson 7 on it: build/bin/student/lesson7-wss --demo
// (the records it lists are read by your function).
// The library's own answer is in src/net/tls_record.cpp: look only when you are done.
#include "net/tls_record.hpp"

namespace ws::net {

std::optional<TlsRecordHeader> read_tls_record_header(std::string_view bytes) {
    (void)bytes;
    return TlsRecordHeader{};  // TODO: 5 bytes or nothing; the type, then two 16-bit numbers
}

}  // namespace ws::net
