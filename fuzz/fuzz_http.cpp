// libFuzzer target: the HTTP request parser and the handshake checks on arbitrary bytes,
// whole and split in two (the parser must give the same answer however the bytes arrive).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "proto/handshake.hpp"
#include "proto/http.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    ws::http::RequestParser whole;
    auto a = whole.parse(input);
    if (a.status == ws::http::ParseResult::Status::complete) {
        if (a.consumed > size) std::abort();
        auto result = ws::handshake::check_request(a.request);
        (void)(result.ok() ? ws::handshake::response_101(result) : ws::handshake::response_refusal(result));
    }
    // The same bytes in two reads.
    std::size_t split = size ? data[0] % (size + 1) : 0;
    ws::http::RequestParser pieces;
    auto b = pieces.parse(input.substr(0, split));
    if (b.status == ws::http::ParseResult::Status::need_more) b = pieces.parse(input);
    if (a.status != b.status || a.consumed != b.consumed) std::abort();
    return 0;
}
