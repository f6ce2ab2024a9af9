#include "server/html.hpp"

#include "proto/http.hpp"

#include <fstream>
#include <sstream>
#include <utility>
#include <vector>

namespace ws::html {

// Generated from html/ by cmake/embed.cmake.
const std::vector<std::pair<std::string_view, std::string_view>>& embedded_files();

std::string_view status_text(int status) {
    switch (status) {
        case 200: return "OK";
        case 204: return "No Content";
        case 400: return "Bad Request";
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 408: return "Request Timeout";
        case 426: return "Upgrade Required";
        case 431: return "Request Header Fields Too Large";
        case 503: return "Service Unavailable";
        default: return "Unknown";
    }
}

std::string_view content_type_for(std::string_view name) {
    auto ends = [&](std::string_view ext) { return name.size() >= ext.size() && name.substr(name.size() - ext.size()) == ext; };
    if (ends(".html")) return "text/html; charset=utf-8";
    if (ends(".js")) return "text/javascript; charset=utf-8";
    if (ends(".css")) return "text/css; charset=utf-8";
    if (ends(".svg")) return "image/svg+xml";
    if (ends(".png")) return "image/png";
    if (ends(".ico")) return "image/x-icon";
    if (ends(".json")) return "application/json";
    if (ends(".txt")) return "text/plain; charset=utf-8";
    return "application/octet-stream";
}

Page find(std::string_view target, std::string_view index, const std::optional<std::string>& dir) {
    auto not_found = [&](std::string why) { return Page{404, "text/plain; charset=utf-8", why + "\n"}; };
    std::string_view path = target.substr(0, target.find_first_of("?#"));
    auto decoded = http::percent_decode(path);
    if (!decoded || decoded->empty() || decoded->front() != '/') return not_found("not found");
    std::string name = decoded->substr(1);
    if (name.empty()) name = index;
    // Only a plain file name: no folders, so no way out of html/ ("..", "/etc/passwd", "%2e%2e%2f").
    if (name.find('/') != std::string::npos || name.find('\\') != std::string::npos || name.front() == '.')
        return not_found("not found: only files directly in html/ are served");

    if (dir) {
        std::ifstream file(*dir + "/" + name, std::ios::binary);
        if (file) {
            std::ostringstream body;
            body << file.rdbuf();
            return Page{200, std::string(content_type_for(name)), body.str()};
        }
    } else {
        for (const auto& [file_name, bytes] : embedded_files())
            if (file_name == name) return Page{200, std::string(content_type_for(name)), std::string(bytes)};
    }
    // Browsers ask for a favicon on their own; answer it so the console stays quiet.
    if (name == "favicon.ico") return Page{204, "image/x-icon", ""};
    return not_found("not found: " + name);
}

std::string response(const Page& page, bool head_only) {
    std::string out = "HTTP/1.1 " + std::to_string(page.status) + " " + std::string(status_text(page.status)) + "\r\n";
    out += "Content-Type: " + page.content_type + "\r\n";
    out += "Content-Length: " + std::to_string(page.body.size()) + "\r\n";
    out += "Cache-Control: no-store\r\nConnection: close\r\n\r\n";
    if (!head_only) out += page.body;
    return out;
}

std::string response(int status, std::string_view text_body) {
    return response(Page{status, "text/plain; charset=utf-8", std::string(text_body)});
}

}  // namespace ws::html
