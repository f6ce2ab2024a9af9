// Frames drawn the way RFC 6455 §5.2 draws them, filled in with a real frame's bits.
#pragma once

#include <string>
#include <string_view>

#include "proto/frame.hpp"

namespace ws::print {

// The 32-bit-wide box diagram of the header, with the legend under its first row.
std::string frame_diagram(const FrameHeader&, std::string_view header_bytes);
// The header's fields as a table: FIN, RSV1-3, opcode and its name, MASK, length and its form, key.
std::string frame_fields(const FrameHeader&);
// One line for -v: "← text fin masked 5 B "Hello"".
std::string frame_summary(const FrameHeader&, std::string_view payload, bool incoming);
// What -v (a line) and -vv (the line, the diagram and the first 64 bytes) print for a frame seen
// going by: "#3 ← text fin masked 5 B "Hello"". The payload is unmasked; for a frame still
// arriving it is empty.
std::string frame_log(std::string_view prefix, const FrameHeader&, std::string_view header_bytes,
                      std::string_view payload, bool incoming, bool diagram);
// A compressed message (permessage-deflate), -v: "#3 ← inflated: 7 B on the wire for 5 B (140%)
// "Hello""; -vv adds both forms side by side, as hex and as text.
std::string inflated_log(std::string_view prefix, std::string_view compressed, std::string_view message,
                         bool incoming, bool side_by_side);
// "7f^37=48 'H'   9f^fa=65 'e' …": unmasking shown byte by byte (at most `max` bytes).
std::string unmask_steps(std::string_view masked, const std::array<std::uint8_t, 4>& key, std::size_t max = 12);
// "7-bit form: ≤125", "16-bit form: 126 + 2 bytes", "64-bit form: 127 + 8 bytes".
std::string length_form_name(LengthForm);  // in the lesson's language

}  // namespace ws::print

namespace ws::print {
// Everything lesson 4 says about a run of frames: for each, the diagram, the fields, the
// payload masked and unmasked, and what a receiver must do with it (decided by the real
// Receiver, so the lesson and the servers never disagree). Frames that arrive masked are
// judged as a server judges a client's; unmasked ones as a client judges a server's.
struct ExplainOptions {
    bool unmask_steps = true;    // show the XOR of each byte of a masked payload
    std::size_t unmask_max = 12;  // ... for this many bytes
};
std::string explain_frames(std::string_view bytes, const ExplainOptions& options = {});
}  // namespace ws::print
