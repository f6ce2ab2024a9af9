// Lesson 2's story of one connection, on the thread-per-client server: read the request, show
// it parsed, run the checks of RFC 6455 §4.2.1, answer (rightly, or with a mistake made on
// purpose), then say what the client really did with the answer.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "net/transport.hpp"
#include "proto/http.hpp"
#include "server/threaded_server.hpp"

namespace ws::server {

// Wrong answers, on purpose. The original blog post's server answered with a template string:
// bare LF line endings. The other two are the classic mistakes of a first server.
enum class Mistake {
    none,
    lf_only,        // every line ends in LF alone
    no_blank_line,  // the empty line that ends the head is missing
    bad_accept,     // SHA-1 of the key alone, without the GUID
};
Mistake mistake_from(std::string_view name);  // "lf-only", "no-blank-line", "bad-accept", ""
std::string with_mistake(std::string response, Mistake, std::string_view key);

struct HandshakeLesson {
    int verbose = 0;
    Mistake mistake = Mistake::none;
    std::optional<std::string> html_dir;
    http::Limits limits;
    std::chrono::milliseconds request_timeout{60'000};  // long enough to type a request by hand
    std::chrono::milliseconds watch_time{5'000};        // to see what a client does with a wrong answer
};

void tell_handshake(ThreadedServer&, const HandshakeLesson&, net::Transport, const net::Endpoint& peer, int number);

}  // namespace ws::server
