// A TLS record's 5-byte header (RFC 8446 §5.1): what lesson 7 reads off the wire. No I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace ws::net {

struct TlsRecordHeader {
    std::uint8_t type = 0;        // 20 change_cipher_spec, 21 alert, 22 handshake, 23 application_data
    std::uint16_t version = 0;    // 0x0301, 0x0303: kept for old middleboxes, not the version in use
    std::size_t length = 0;       // the bytes after the header
};

// The header at the start of `bytes`, or nullopt when fewer than 5 bytes are there.
std::optional<TlsRecordHeader> read_tls_record_header(std::string_view bytes);

}  // namespace ws::net
