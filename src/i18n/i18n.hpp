// The lessons in two languages (design §9, issue 14). Every sentence a lesson prints is written
// in the code in English, inside tr("…") or trf("…", args…); the Chinese for it is in the
// catalogue, src/i18n/zh/*.inc, the one place that holds the other language. A sentence
// without its Chinese is a test failure (tests/e2e/test_i18n.py walks every tr() in the
// sources), not English on a Chinese screen.
//
// Only what a person reads changes: the bytes on the wire, the hex dumps, the frame diagrams,
// the JSON and the close reasons a peer receives are the same in both languages.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

namespace ws::i18n {

enum class Lang { en, zh };

// The language of everything printed from now on (set once, before any thread starts).
void set_language(Lang);
Lang language();

// "zh", "zh_CN.UTF-8", "zh-TW" → zh; "en…", "C", "POSIX", "" → en; nullopt-like false for
// anything else (`ok` false: not a language this course speaks).
Lang parse_language(std::string_view, bool* ok = nullptr);
// From the environment as POSIX orders it: LC_ALL, then LC_MESSAGES, then LANG (the first
// that is set and not empty); zh_* → zh, else en.
Lang language_from_environment();
// Chooses the language before anything is printed (even --help): `--lang X` or `--lang=X` on
// the command line, else the environment. Call first thing in main().
void choose(int argc, char** argv);

// The sentence in the current language (English: as given).
std::string tr(std::string_view english);
// The same for a literal, as a view: the catalogue's text lives as long as the program, so
// this view does too (for functions that return a name as a string_view).
std::string_view tr_literal(const char* english);

// A format string checked at compile time, as the text it holds (fmt 9 has no .get()).
template <typename... Args>
std::string_view view(const fmt::basic_format_string<char, Args...>& format) {
    fmt::string_view text = format;
    return {text.data(), text.size()};
}

// A catalogue entry, as the catalogue files write them.
struct Entry {
    std::string_view en, zh;
};
// Every entry of the Chinese catalogue (for the tests).
std::pair<const Entry*, std::size_t> zh_catalogue();

}  // namespace ws::i18n

namespace ws {

using i18n::tr;

// Marks a sentence kept in a table (translated where it is printed, with tr()): N_("…").
constexpr const char* N_(const char* english) { return english; }

// The same, as a std::string (for CLI11's descriptions).
inline std::string trs(std::string_view english) { return i18n::tr(english); }

// fmt::format with a sentence from the catalogue: trf("{} bytes", n). The English is checked
// against its arguments at compile time; the Chinese may reorder its placeholders ({1} … {0}),
// and the i18n test checks it has the same ones.
template <typename... Args>
std::string trf(fmt::format_string<Args...> english, Args&&... args) {
    return fmt::format(fmt::runtime(i18n::tr(i18n::view(english))), std::forward<Args>(args)...);
}

// A reason said twice: `wire` in English, for the bytes a peer gets (an ERROR notice, a refusal's
// JSON body: the same in every language), and `shown`, the same in the lesson's language, for
// the screen and the log. because("{} events came first", n).
struct Why {
    std::string wire, shown;
};
template <typename... Args>
Why because(fmt::format_string<Args...> english, Args&&... args) {
    std::string_view text = i18n::view(english);
    return {fmt::format(fmt::runtime(text), args...), fmt::format(fmt::runtime(i18n::tr(text)), args...)};
}

}  // namespace ws
