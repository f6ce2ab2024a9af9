// Lesson 6's client after the handshake: each line typed (or piped) is a masked text frame,
// everything that arrives is shown with its type, and slash commands make pings, closes,
// binary messages, fragments and hand-made frames. Or, with --echo, every message goes back.
#pragma once

#include <chrono>

#include "client/client.hpp"

namespace ws::client {

struct InteractiveOptions {
    int verbose = 0;                                   // -v: each frame with its mask; -vv: drawn
    std::chrono::milliseconds linger{1000};            // after the last input line, wait this long for replies
    std::chrono::milliseconds close_timeout{3000};     // for the server's answer to our close
};

// Reads commands from stdin until it ends or the server closes. Returns the exit code: 0 when
// the closing handshake completed, 1 when the connection ended any other way.
int interactive(Client&, const InteractiveOptions&);
// Echoes every message back with its type until the server closes (conformance suites drive
// this). Returns 0 when the closing handshake completed.
int echo(Client&, const InteractiveOptions&);

// What the lesson prints for a received event: "← text "hi"", "← close 1000 (normal closure)".
std::string describe_received(const Received&);

}  // namespace ws::client
