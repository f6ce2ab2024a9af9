// How the lessons look on screen: headings, hex dumps with CR and LF made visible, tables,
// check marks, colour (only where it helps and only on a terminal), and --step pauses.
// Every lesson prints through here, so the look is the same everywhere.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ws::print {

enum class ColorMode { auto_, always, never };
// Decides once, at start-up: auto means colour only when stdout is a terminal and NO_COLOR is unset.
void set_color(ColorMode);
bool color_enabled();

enum class Style { plain, bold, dim, green, red, yellow, cyan, magenta };
std::string paint(std::string_view text, Style);

// Writes to stdout, whole texts at a time, so lines from several threads never interleave.
// While a BackgroundOutput is alive, out() never blocks: the text is queued for a writer
// thread, and when the queue is full (nobody reads stdout) it is dropped and counted.
void out(std::string_view text);
void err(std::string_view text);  // one line on stderr, for errors

// Output that never blocks a server (design §4): a bounded queue and a writer thread for the
// life of this object. On destruction the queue is written out (giving up after a second
// without progress) and the count of dropped lines, if any, is said.
class BackgroundOutput {
public:
    explicit BackgroundOutput(std::size_t max_queued_bytes = 1u << 20);
    ~BackgroundOutput();
    BackgroundOutput(const BackgroundOutput&) = delete;
    BackgroundOutput& operator=(const BackgroundOutput&) = delete;
};
std::uint64_t dropped_lines();

// The terminal columns a UTF-8 string takes: one per character, two for a wide one (Chinese,
// Japanese, Korean: East Asian Width W and F), colour codes not counted.
std::size_t columns(std::string_view);
std::size_t char_columns(char32_t);

// "── title ─────────" padded to the lesson's width.
std::string heading(std::string_view title);
inline constexpr std::size_t kWidth = 92;
// No line a lesson prints is wider than this (design §4).
inline constexpr std::size_t kLineWidth = 100;
// The text cut to `max_columns`, ending in "…" when something was cut (at a character boundary).
// Wrapped by words to `width` columns, at the newlines it holds too. Chinese has no spaces
// between words: a line may break between any two wide characters (never before "，" "。" "："
// "）" and the like).
std::string wrap(std::string_view text, std::size_t width);
// A paragraph that hangs beside a label `indent` columns wide: wrapped to `width - indent`
// columns, every line after the first indented by `indent` spaces.
std::string hanging(std::string_view text, std::size_t indent, std::size_t width = kLineWidth);
std::string fit(std::string_view text, std::size_t max_columns);

// An annotated hex dump: offset, 16 bytes in hex, then the bytes as text with CR shown as ␍,
// LF as ␊ and other non-printable bytes as '.'.
std::string hexdump(std::string_view bytes, std::size_t max_bytes = SIZE_MAX);
// The bytes as text with CR and LF made visible ("Host: x␍␊"), one line per line.
std::string show_line_endings(std::string_view text);
// "b3 7a 4f 2c": bytes as hex pairs separated by spaces.
std::string hex(std::string_view bytes);
std::string hex(std::span<const std::uint8_t> bytes);

// Bytes from hex as people write them: "81 05 48 65", "0x81 0x05", "810548", "81:05"; throws
// std::runtime_error saying what is wrong.
std::string parse_hex(std::string_view text);

// Two aligned columns.
std::string table(const std::vector<std::pair<std::string, std::string>>& rows, std::size_t indent = 2);
std::string check_mark(bool ok);  // ✓ or ✗, coloured

// --step: between the parts of a lesson, wait for Enter (does nothing when disabled).
void set_step(bool enabled);
void pause();
// A new part of a lesson's story: the --step pause, then its heading.
void part(std::string_view title);

// "512 B", "42.5 KiB", "1.2 MiB": a memory or message size for people.
std::string bytes_size(std::size_t bytes);

// Text for a terminal: in quotes as it is when valid UTF-8 without control characters (\n and
// \t escaped), else hex. Long values are cut with "… (N bytes)", in the lesson's language.
std::string printable(std::string_view payload, std::size_t max_chars = 60);
// The same without the quotes and the byte count, the same in every language: wire text as it
// is, cut with … (a packet inside a log line; a value inside bytes a peer gets).
std::string bare(std::string_view payload, std::size_t max_chars = 60);

}  // namespace ws::print
