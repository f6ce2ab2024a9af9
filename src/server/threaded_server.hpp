// The simplest server that can talk to several clients: one thread per connection, blocking
// reads with deadlines. Lessons 1 and 2 use it because it reads top to bottom; lesson 4 and 5
// replace it with the epoll loop of src/server/ws_server.hpp, which scales to thousands.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "net/socket.hpp"
#include "net/tls.hpp"
#include "net/transport.hpp"

namespace ws::server {

class ThreadedServer {
public:
    // At most `max_sessions` threads at once; past it a client gets 503 (a thread per client is a
    // lesson's shortcut, and shortcuts get a cap).
    ThreadedServer(const std::string& host, std::uint16_t port, std::size_t max_sessions = kMaxSessions);
    ~ThreadedServer();  // a stop signal after this finds no server
    ThreadedServer(const ThreadedServer&) = delete;
    ThreadedServer& operator=(const ThreadedServer&) = delete;
    net::Endpoint local() const { return listener_.local(); }

    using Session = std::function<void(net::Transport, net::Endpoint peer, int connection_number)>;
    // Runs `session` on its own thread for each client until stop(), or until `max_connections`
    // clients have come and gone (for --demo); waits for every session before returning.
    void run(const Session& session, int max_connections = -1);
    // For --demo: runs `client` on its own thread against this server while serving
    // `connections` clients. Returns 0, or 1 when the client failed (its error printed).
    int run_demo(const Session& session, int connections, const std::function<void()>& client);
    // Waits until `n` sessions have ended (a demo tells its story in order with it); false if
    // that did not happen within `timeout`.
    bool wait_for_sessions(int n, std::chrono::milliseconds timeout = std::chrono::seconds(30));
    // Safe from a signal handler. Sessions should check stopping() between reads.
    void stop() { stopping_ = true; }
    bool stopping() const { return stopping_; }

    // --tls: each client's TLS handshake runs on its thread first (within 10 s); a failed one is
    // one line, and the session never sees that client.
    void use_tls(std::shared_ptr<net::TlsContext> tls) { tls_ = std::move(tls); }

    static constexpr std::size_t kMaxSessions = 64;

private:
    std::shared_ptr<net::TlsContext> tls_;
    void session_ended();

    net::Listener listener_;
    std::size_t max_sessions_;
    std::atomic<bool> stopping_{false};
    std::mutex ended_mutex_;
    std::condition_variable ended_changed_;
    int ended_ = 0;
};

// Ctrl-C and SIGTERM call server.stop(); SIGPIPE is ignored.
void stop_on_signals(ThreadedServer&);

}  // namespace ws::server
