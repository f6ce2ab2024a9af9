#include "apps/echo.hpp"

#include <fmt/format.h>

namespace ws::apps {

void Echo::on_open(server::Server& server, server::Connection& c) {
    if (c.protocol() != kFrameReportProtocol) return;
    frames_[&c];
    server.watch_frames(c);
}

void Echo::on_frame(server::Server&, server::Connection& c, const FrameHeader& h, bool incoming) {
    if (!incoming || is_control(h.opcode)) return;
    auto it = frames_.find(&c);
    if (it == frames_.end()) return;
    std::string_view form = h.length_form == LengthForm::seven_bit    ? "7-bit"
                            : h.length_form == LengthForm::sixteen_bit ? "16-bit"
                                                                        : "64-bit";
    it->second += fmt::format("{}{{\"opcode\":{},\"fin\":{},\"rsv1\":{},\"length\":{},\"form\":\"{}\"}}",
                              it->second.empty() ? "" : ",", h.opcode, h.fin ? "true" : "false", h.rsv1 ? "true" : "false",
                              h.payload_length, form);
}

void Echo::on_message(server::Server& server, server::Connection& c, Opcode type, std::string_view payload) {
    server.send(c, type, payload);
    auto it = frames_.find(&c);
    if (it == frames_.end()) return;
    server.send(c, Opcode::text, "{\"frames\":[" + it->second + "]}");
    it->second.clear();
}

void Echo::on_close(server::Server&, server::Connection& c, std::uint16_t, std::string_view) { frames_.erase(&c); }

}  // namespace ws::apps
