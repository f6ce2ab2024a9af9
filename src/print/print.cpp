#include "print/print.hpp"

#include "i18n/i18n.hpp"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cctype>
#include <cstdio>
#include <stdexcept>
#include <cstdlib>
#include <deque>
#include <iostream>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "proto/utf8.hpp"

namespace ws::print {
namespace {

bool g_color = false;
bool g_step = false;
std::mutex g_out_mutex;

// The background writer's state: texts waiting, their size, what was dropped.
struct Queue {
    std::mutex mutex;
    std::condition_variable ready;
    std::condition_variable drained;
    std::deque<std::string> texts;
    std::size_t bytes = 0;
    std::size_t max_bytes = 0;
    std::uint64_t dropped = 0;         // lines not yet reported
    std::uint64_t dropped_total = 0;
    bool stopping = false;
    std::thread writer;
};
std::atomic<Queue*> g_queue{nullptr};

// Writes all of `text` to stdout, waiting for room at most `patience` at a time; false when
// stdout made no progress for that long (nobody is reading it).
bool write_patiently(std::string_view text, std::chrono::milliseconds patience) {
    while (!text.empty()) {
        pollfd p{STDOUT_FILENO, POLLOUT, 0};
        int rc = ::poll(&p, 1, static_cast<int>(patience.count()));
        if (rc < 0 && errno == EINTR) continue;
        if (rc == 0) return false;
        if (rc < 0 || (p.revents & (POLLERR | POLLNVAL))) return true;  // stdout is gone: nothing to wait for
        // POLLOUT on a pipe promises room for PIPE_BUF bytes: a write of that many cannot block.
        ssize_t n = ::write(STDOUT_FILENO, text.data(), std::min<std::size_t>(text.size(), PIPE_BUF));
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (n < 0) return true;
        text.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

std::size_t count_lines(std::string_view text) {
    std::size_t n = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
    return n ? n : 1;
}

void writer_loop(Queue& q) {
    std::unique_lock lock(q.mutex);
    for (;;) {
        q.ready.wait(lock, [&] { return q.stopping || !q.texts.empty() || q.dropped; });
        if (q.texts.empty() && !q.dropped && q.stopping) return;
        std::string text;
        if (!q.texts.empty()) {
            text = std::move(q.texts.front());
            q.texts.pop_front();
            q.bytes -= text.size();
        } else {
            text = trf("… {} lines dropped: nobody was reading the output\n", q.dropped);
            q.dropped = 0;
        }
        lock.unlock();
        // While serving, wait as long as it takes; when stopping, give up after a second.
        bool progress = write_patiently(text, std::chrono::milliseconds(q.stopping ? 1000 : 200));
        lock.lock();
        if (q.texts.empty()) q.drained.notify_all();
        if (!progress) {
            if (q.stopping) return;
            // The rest of this text cannot be written now: it counts as dropped.
            q.dropped += count_lines(text);
            q.dropped_total += count_lines(text);
        }
    }
}

// A thread must not end the program: if writing fails in a way nobody foresaw (out of memory),
// the output is given up, not the lesson.
void writer_thread(Queue& q) {
    try {
        writer_loop(q);
    } catch (...) {
        std::lock_guard lock(q.mutex);
        q.texts.clear();
        q.bytes = 0;
        q.max_bytes = 0;  // from now on everything is dropped
    }
}

}  // namespace

BackgroundOutput::BackgroundOutput(std::size_t max_queued_bytes) {
    std::fflush(stdout);
    auto* q = new Queue;
    q->max_bytes = max_queued_bytes;
    q->writer = std::thread(writer_thread, std::ref(*q));
    g_queue = q;
}

BackgroundOutput::~BackgroundOutput() {
    Queue* q = g_queue.exchange(nullptr);
    {
        std::lock_guard lock(q->mutex);
        q->stopping = true;
    }
    q->ready.notify_one();
    q->writer.join();
    delete q;
}

std::uint64_t dropped_lines() {
    Queue* q = g_queue.load();
    if (!q) return 0;
    std::lock_guard lock(q->mutex);
    return q->dropped_total;
}

std::size_t char_columns(char32_t c) {
    // Unicode's East Asian Width: Wide and Fullwidth characters (CJK, kana, hangul, fullwidth
    // punctuation such as "，" and "："; some emoji) take two columns. The same ranges as fmt's
    // own padding uses, so that "{:<8}" and these columns agree.
    return 1 + ((c >= 0x1100 && c <= 0x115f) || c == 0x2329 || c == 0x232a || (c >= 0x2e80 && c <= 0xa4cf && c != 0x303f) ||
                (c >= 0xac00 && c <= 0xd7a3) || (c >= 0xf900 && c <= 0xfaff) || (c >= 0xfe10 && c <= 0xfe19) ||
                (c >= 0xfe30 && c <= 0xfe6f) || (c >= 0xff00 && c <= 0xff60) || (c >= 0xffe0 && c <= 0xffe6) ||
                (c >= 0x1f300 && c <= 0x1f64f) || (c >= 0x1f900 && c <= 0x1f9ff) || (c >= 0x20000 && c <= 0x2fffd) ||
                (c >= 0x30000 && c <= 0x3fffd));
}

namespace {
// The character starting at text[i] (UTF-8, trusted: the project's own or checked text), and
// how many bytes it takes.
char32_t code_point_at(std::string_view text, std::size_t i, std::size_t& length) {
    auto b = static_cast<unsigned char>(text[i]);
    length = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
    if (i + length > text.size()) length = 1;
    char32_t c = length == 1 ? b : b & (0x3F >> (length - 1));
    for (std::size_t k = 1; k < length; ++k) c = (c << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3F);
    return c;
}
}  // namespace

std::size_t columns(std::string_view s) {
    std::size_t n = 0;
    bool in_escape = false;
    for (std::size_t i = 0, length = 1; i < s.size(); i += length) {
        length = 1;
        char c = s[i];
        if (c == '\x1b') { in_escape = true; continue; }
        if (in_escape) { if (c == 'm') in_escape = false; continue; }
        if (is_continuation_byte(c)) continue;  // a stray one: counted with the character before
        n += char_columns(code_point_at(s, i, length));
    }
    return n;
}

void set_color(ColorMode mode) {
    if (mode == ColorMode::always) g_color = true;
    else if (mode == ColorMode::never) g_color = false;
    else g_color = ::isatty(STDOUT_FILENO) && std::getenv("NO_COLOR") == nullptr;
}

bool color_enabled() { return g_color; }

std::string paint(std::string_view text, Style style) {
    if (!g_color || style == Style::plain) return std::string(text);
    const char* code = "0";
    switch (style) {
        case Style::plain: break;
        case Style::bold: code = "1"; break;
        case Style::dim: code = "2"; break;
        case Style::green: code = "32"; break;
        case Style::red: code = "31"; break;
        case Style::yellow: code = "33"; break;
        case Style::cyan: code = "36"; break;
        case Style::magenta: code = "35"; break;
    }
    return fmt::format("\x1b[{}m{}\x1b[0m", code, text);
}

void out(std::string_view text) {
    if (Queue* q = g_queue.load()) {
        {
            std::lock_guard lock(q->mutex);
            if (q->bytes + text.size() > q->max_bytes) {
                q->dropped += count_lines(text);
                q->dropped_total += count_lines(text);
                return;
            }
            q->texts.emplace_back(text);
            q->bytes += text.size();
        }
        q->ready.notify_one();
        return;
    }
    std::lock_guard lock(g_out_mutex);
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
}

void err(std::string_view text) {
    // What was printed before the error comes before it on the screen (if stdout is read).
    if (Queue* q = g_queue.load()) {
        std::unique_lock lock(q->mutex);
        q->drained.wait_for(lock, std::chrono::milliseconds(500), [&] { return q->texts.empty(); });
    }
    std::lock_guard lock(g_out_mutex);
    std::fflush(stdout);
    std::fwrite(text.data(), 1, text.size(), stderr);
    if (text.empty() || text.back() != '\n') std::fputc('\n', stderr);
    std::fflush(stderr);
}

std::string wrap(std::string_view text, std::size_t width) {
    std::string out, line;
    auto flush_line = [&] {
        if (!out.empty()) out += '\n';
        out += line;
        line.clear();
    };
    auto wide_at = [](std::string_view s, std::size_t i) {
        return static_cast<unsigned char>(s[i]) >= 0xE0 && columns(s.substr(i, 3)) == 2;
    };
    auto closing = [](std::string_view piece) {
        for (std::string_view p : {"，", "。", "：", "；", "）", "、", "！", "？", "」", "》"})
            if (piece == p) return true;
        return false;
    };
    for (std::size_t start = 0; start <= text.size();) {
        std::size_t end = text.find('\n', start);
        std::string_view paragraph = text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
        bool spaced = false;  // a space came before this piece
        for (std::size_t at = 0; at < paragraph.size();) {
            if (paragraph[at] == ' ') {
                spaced = true;
                ++at;
                continue;
            }
            // A piece: one wide character (with the punctuation that must follow it), or a run
            // of narrow ones up to a space or a wide character.
            std::size_t to = at;
            if (wide_at(paragraph, at)) {
                to += 3;
                while (to + 3 <= paragraph.size() && closing(paragraph.substr(to, 3))) to += 3;
            } else {
                while (to < paragraph.size() && paragraph[to] != ' ' && !wide_at(paragraph, to)) ++to;
            }
            std::string_view piece = paragraph.substr(at, to - at);
            std::size_t gap = spaced && !line.empty() ? 1 : 0;
            if (!line.empty() && columns(line) + gap + columns(piece) > width) {
                flush_line();
                gap = 0;
            }
            if (gap) line += ' ';
            line += piece;
            spaced = false;
            at = to;
        }
        flush_line();
        if (end == std::string_view::npos) break;
        start = end + 1;
    }
    return out;
}

std::string hanging(std::string_view text, std::size_t indent, std::size_t width) {
    std::string out;
    for (char c : wrap(text, width - indent)) {
        out += c;
        if (c == '\n') out.append(indent, ' ');
    }
    return out;
}

std::string fit(std::string_view text, std::size_t max_columns) {
    if (columns(text) <= max_columns) return std::string(text);
    std::string s;
    std::size_t used = 0;
    bool in_escape = false;
    for (std::size_t i = 0, length = 1; i < text.size(); i += length) {
        length = 1;
        char c = text[i];
        if (c == '\x1b') in_escape = true;
        if (!in_escape && !is_continuation_byte(c)) {
            char32_t cp = code_point_at(text, i, length);
            if ((used += char_columns(cp)) > max_columns - 1) break;
        } else if (in_escape && c == 'm') {
            in_escape = false;
        }
        s.append(text.substr(i, length));
    }
    if (color_enabled() && s.find('\x1b') != std::string::npos) s += "\x1b[0m";  // a colour cut in the middle ends here
    return s + "…";
}

std::string heading(std::string_view title) {
    std::string line = fmt::format("── {} ", title);
    std::size_t used = columns(line);
    for (std::size_t i = used; i < kWidth; ++i) line += "─";
    return paint(line, Style::cyan) + "\n";
}

std::string hex(std::string_view bytes) {
    std::string s;
    s.reserve(bytes.size() * 3);
    for (std::size_t i = 0; i < bytes.size(); ++i)
        fmt::format_to(std::back_inserter(s), "{}{:02x}", i ? " " : "", static_cast<unsigned char>(bytes[i]));
    return s;
}

std::string hex(std::span<const std::uint8_t> bytes) {
    return hex(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

std::string hexdump(std::string_view bytes, std::size_t max_bytes) {
    std::string s;
    std::size_t shown = std::min(bytes.size(), max_bytes);
    for (std::size_t row = 0; row < shown; row += 16) {
        fmt::format_to(std::back_inserter(s), "{}  ", paint(fmt::format("{:04x}", row), Style::dim));
        std::string text;
        for (std::size_t i = row; i < row + 16; ++i) {
            if (i < shown) {
                auto b = static_cast<unsigned char>(bytes[i]);
                fmt::format_to(std::back_inserter(s), "{:02x} ", b);
                if (b == '\r') text += paint("␍", Style::yellow);
                else if (b == '\n') text += paint("␊", Style::yellow);
                else if (b >= 0x20 && b < 0x7f) text += static_cast<char>(b);
                else text += paint(".", Style::dim);
            } else {
                s += "   ";
            }
        }
        s += "  " + text + "\n";
    }
    if (shown < bytes.size()) s += trf("      … {} more bytes not shown\n", bytes.size() - shown);
    return s;
}

std::string show_line_endings(std::string_view text) {
    std::string s;
    for (char c : text) {
        if (c == '\r') s += paint("␍", Style::yellow);
        else if (c == '\n') s += paint("␊", Style::yellow) + "\n";
        else s += c;
    }
    if (!s.empty() && s.back() != '\n') s += "\n";
    return s;
}

std::string parse_hex(std::string_view text) {
    std::string digits;
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '0' && i + 1 < text.size() && (text[i + 1] == 'x' || text[i + 1] == 'X')) {
            ++i;
            continue;
        }
        if (std::isxdigit(static_cast<unsigned char>(c))) digits += c;
        else if (c != ' ' && c != ',' && c != ':' && c != '\n' && c != '\t')
            throw std::runtime_error(trf("'{}' is not a hex digit; write bytes like: 81 05 48 65 6c 6c 6f", c));
    }
    if (digits.size() % 2) throw std::runtime_error(tr("an odd number of hex digits: every byte takes two"));
    std::string bytes;
    for (std::size_t i = 0; i < digits.size(); i += 2)
        bytes += static_cast<char>(std::stoi(digits.substr(i, 2), nullptr, 16));
    return bytes;
}

std::string table(const std::vector<std::pair<std::string, std::string>>& rows, std::size_t indent) {
    std::size_t width = 0;
    for (const auto& [k, v] : rows) width = std::max(width, columns(k));
    std::string s;
    for (const auto& [k, v] : rows)
        s += fmt::format("{:{}}{}{:{}}  {}\n", "", indent, k, "", width - columns(k), v);
    return s;
}

std::string check_mark(bool ok) { return ok ? paint("✓", Style::green) : paint("✗", Style::red); }

void set_step(bool enabled) { g_step = enabled; }

void pause() {
    if (!g_step) return;
    out(paint(tr("  [press Enter to continue]"), Style::dim));
    std::string line;
    std::getline(std::cin, line);
}

void part(std::string_view title) {
    pause();
    out(heading(title));
}

std::string bytes_size(std::size_t bytes) {
    if (bytes < 1024) return fmt::format("{} B", bytes);
    if (bytes < 1024 * 1024) return fmt::format("{:.1f} KiB", static_cast<double>(bytes) / 1024);
    return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1024 * 1024));
}

namespace {

// What a terminal shows of `payload`: its first `max_chars` characters, escaped, when it is
// UTF-8 text without control characters; else its first bytes in hex.
struct Shown {
    std::string s;
    bool text = false, cut = false;
};

Shown shown_part(std::string_view payload, std::size_t max_chars) {
    // Only the part that is shown is looked at: a 16 MiB message costs no more than 60 bytes.
    std::string_view head = payload.substr(0, 4 * max_chars + 4);
    Utf8Validator utf8;
    bool text = utf8.feed(head) && (head.size() < payload.size() || utf8.complete());
    for (char c : head)
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') text = false;
    if (!text) {
        std::size_t n = std::min(payload.size(), max_chars / 3);
        return {hex(payload.substr(0, n)), false, n < payload.size()};
    }
    Shown out{{}, true, false};
    std::size_t chars = 0, i = 0;
    for (; i < payload.size(); ++i) {
        auto b = static_cast<unsigned char>(payload[i]);
        if (!is_continuation_byte(payload[i]) && chars++ == max_chars) break;
        if (b == '\n') out.s += "\\n";
        else if (b == '\t') out.s += "\\t";
        else out.s += static_cast<char>(b);
    }
    out.cut = i < payload.size();
    return out;
}

}  // namespace

std::string printable(std::string_view payload, std::size_t max_chars) {
    Shown p = shown_part(payload, max_chars);
    std::string count = p.cut ? trf("… ({} bytes)", payload.size()) : "";
    return p.text ? fmt::format("\"{}\"{}", p.s, count) : p.cut ? fmt::format("{} {}", p.s, count) : p.s;
}

std::string bare(std::string_view payload, std::size_t max_chars) {
    Shown p = shown_part(payload, max_chars);
    return !p.cut ? p.s : p.text ? p.s + "…" : p.s + " …";
}

}  // namespace ws::print
