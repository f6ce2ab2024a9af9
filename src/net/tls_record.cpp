// Exercise 7 (exercises/7-tls-record.cpp) is this function: a record's type, version and
// length, in network byte order (RFC 8446 §5.1).
#include "net/tls_record.hpp"

namespace ws::net {

std::optional<TlsRecordHeader> read_tls_record_header(std::string_view bytes) {
    if (bytes.size() < 5) return std::nullopt;
    auto byte = [&](std::size_t i) { return static_cast<std::uint8_t>(bytes[i]); };
    return TlsRecordHeader{byte(0), static_cast<std::uint16_t>(byte(1) << 8 | byte(2)),
                           static_cast<std::size_t>(byte(3) << 8 | byte(4))};
}

}  // namespace ws::net
