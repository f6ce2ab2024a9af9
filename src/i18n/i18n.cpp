#include "i18n/i18n.hpp"

#include <cstdlib>
#include <cstring>
#include <unordered_map>

namespace ws::i18n {
namespace {

Lang g_language = Lang::en;

const Entry kZh[] = {
    {"", ""},  // (never looked up: every key has words)
#include "i18n/zh/common.inc"
#include "i18n/zh/frames.inc"
#include "i18n/zh/lesson1.inc"
#include "i18n/zh/lesson2.inc"
#include "i18n/zh/lesson3.inc"
#include "i18n/zh/lesson4.inc"
#include "i18n/zh/lesson5.inc"
#include "i18n/zh/lesson6.inc"
#include "i18n/zh/lesson7.inc"
#include "i18n/zh/lesson8.inc"
#include "i18n/zh/lesson9.inc"
#include "i18n/zh/lesson10.inc"
#include "i18n/zh/exercises.inc"
};

const std::unordered_map<std::string_view, std::string_view>& zh_table() {
    static const auto table = [] {
        std::unordered_map<std::string_view, std::string_view> t;
        for (const Entry& e : kZh) t.emplace(e.en, e.zh);
        return t;
    }();
    return table;
}

}  // namespace

void set_language(Lang lang) { g_language = lang; }
Lang language() { return g_language; }

Lang parse_language(std::string_view text, bool* ok) {
    auto starts = [&](std::string_view prefix) { return text.substr(0, prefix.size()) == prefix; };
    bool known = true;
    Lang lang = Lang::en;
    if (text == "zh" || starts("zh_") || starts("zh-") || starts("zh.")) lang = Lang::zh;
    else if (!(text.empty() || text == "en" || starts("en_") || starts("en-") || starts("en.") || text == "C" ||
               starts("C.") || text == "POSIX"))
        known = false;
    if (ok) *ok = known;
    return lang;
}

Lang language_from_environment() {
    for (const char* name : {"LC_ALL", "LC_MESSAGES", "LANG"}) {
        const char* value = std::getenv(name);
        if (value && *value) return parse_language(value);  // a locale we do not speak: English
    }
    return Lang::en;
}

void choose(int argc, char** argv) {
    Lang lang = language_from_environment();
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        if (arg == "--") break;
        std::string_view value;
        if (arg == "--lang" && i + 1 < argc) value = argv[i + 1];
        else if (arg.substr(0, 7) == "--lang=") value = arg.substr(7);
        else continue;
        bool ok = false;
        Lang given = parse_language(value, &ok);
        if (ok) lang = given;  // a wrong value is refused by the option's own check, in English and Chinese
    }
    set_language(lang);
}

std::string_view tr_literal(const char* english) {
    if (g_language == Lang::en) return english;
    const auto& table = zh_table();
    auto found = table.find(english);
    return found == table.end() ? std::string_view(english) : found->second;
}

std::string tr(std::string_view english) {
    if (g_language == Lang::en) return std::string(english);
    const auto& table = zh_table();
    auto found = table.find(english);
    return std::string(found == table.end() ? english : found->second);
}

std::pair<const Entry*, std::size_t> zh_catalogue() { return {kZh, std::size(kZh)}; }

}  // namespace ws::i18n
