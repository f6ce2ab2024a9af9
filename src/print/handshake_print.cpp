#include "i18n/i18n.hpp"
#include "print/handshake_print.hpp"

#include <fmt/format.h>

#include "print/print.hpp"

namespace ws::print {
namespace {

// What the screen shows of a check: in the lesson's language where the check says it.
template <class Check>
std::string shown(const Check& c) {
    if constexpr (requires { c.shown; }) {
        if (!c.shown.empty()) return c.shown;
    }
    return c.detail;
}

template <class Check>
std::string check_lines(const std::vector<Check>& checks) {
    std::string s;
    for (const auto& c : checks) {
        std::string line = fmt::format("  {} {}  {:<40} ", check_mark(c.ok), static_cast<int>(c.check),
                                       tr(handshake::describe(c.check)));
        s += line + paint(fit(shown(c), kLineWidth - columns(line)), c.ok ? Style::dim : Style::red) + "\n";
    }
    return s;
}

}  // namespace

std::string request_table(const http::Request& request) {
    std::vector<std::pair<std::string, std::string>> rows = {
        {"method", request.method}, {"target", request.target}, {"version", request.version}};
    std::size_t name_width = 7;
    for (const auto& h : request.headers) name_width = std::max(name_width, columns(h.name));
    for (const auto& h : request.headers)
        rows.emplace_back(h.name, fit(h.value.empty() ? tr("(empty)") : h.value, kLineWidth - name_width - 4));
    return trf("Parsed: the request line and {} header{}\n", request.headers.size(),
                       request.headers.size() == 1 ? "" : "s") +
           table(rows);
}

std::string server_checks(const handshake::Result& result) {
    return tr("Checks (RFC 6455 §4.2.1)\n") + check_lines(result.checks);
}

std::string client_checks(const handshake::ClientResult& result) {
    return tr("Checks (RFC 6455 §4.1)\n") + check_lines(result.checks);
}

std::string head_text(std::string_view head, bool visible) {
    std::string s;
    while (!head.empty()) {
        auto eol = head.find('\n');
        std::string_view line = head.substr(0, eol == std::string_view::npos ? head.size() : eol + 1);
        head.remove_prefix(line.size());
        bool lf = !line.empty() && line.back() == '\n';
        bool cr = lf && line.size() >= 2 && line[line.size() - 2] == '\r';
        std::string_view body = line.substr(0, line.size() - lf - cr);
        std::string ending = !visible ? "" : std::string(cr ? paint("␍", Style::yellow) : "") + (lf ? paint("␊", Style::yellow) : "");
        s += fit(body, kLineWidth - (cr ? 1 : 0) - (lf ? 1 : 0)) + ending + "\n";
    }
    return s;
}

}  // namespace ws::print
