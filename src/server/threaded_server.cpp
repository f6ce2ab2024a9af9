#include "server/threaded_server.hpp"

#include <poll.h>

#include <csignal>
#include <thread>
#include <vector>

namespace ws::server {

ThreadedServer::ThreadedServer(const std::string& host, std::uint16_t port) : listener_(host, port) {}

void ThreadedServer::run(const Session& session, int max_connections) {
    std::vector<std::thread> threads;
    int accepted = 0;
    while (!stopping_ && (max_connections < 0 || accepted < max_connections)) {
        // Wake up every 100 ms to notice stop().
        pollfd p{listener_.fd(), POLLIN, 0};
        if (::poll(&p, 1, 100) <= 0) continue;
        net::Endpoint peer;
        net::Fd fd = listener_.accept(&peer);
        if (!fd) continue;
        ++accepted;
        threads.emplace_back(session, std::move(fd), peer, accepted);
    }
    for (auto& t : threads) t.join();
}

namespace {
std::atomic<ThreadedServer*> g_server{nullptr};
extern "C" void on_stop_signal(int) {
    if (auto* s = g_server.load()) s->stop();
}
}  // namespace

void stop_on_signals(ThreadedServer& server) {
    g_server = &server;
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGINT, &sa, nullptr);
    ::sigaction(SIGTERM, &sa, nullptr);
    std::signal(SIGPIPE, SIG_IGN);
}

}  // namespace ws::server
