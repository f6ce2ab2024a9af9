// The echo server of lesson 4: every message comes back as it came (RFC 6455 §5.6: text stays
// text). A page that asks for the subprotocol "lesson4-report" also gets, after each echo, a
// report of the frames the message arrived in, so it can show what the browser really sent.
#pragma once

#include <string>
#include <unordered_map>

#include "server/ws_server.hpp"

namespace ws::apps {

inline constexpr std::string_view kFrameReportProtocol = "lesson4-report";

class Echo : public server::Handler {
public:
    void on_open(server::Server&, server::Connection&) override;
    void on_message(server::Server&, server::Connection&, Opcode type, std::string_view payload) override;
    void on_frame(server::Server&, server::Connection&, const FrameHeader&, bool incoming) override;
    void on_close(server::Server&, server::Connection&, std::uint16_t, std::string_view) override;

private:
    // The data frames of the message now arriving, per connection that asked for reports.
    std::unordered_map<const server::Connection*, std::string> frames_;
};

}  // namespace ws::apps
