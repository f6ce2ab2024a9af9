#include "server/threaded_server.hpp"

#include "net/signals.hpp"
#include "print/print.hpp"

#include <poll.h>

#include <fmt/format.h>
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

void stop_on_signals(ThreadedServer& server) {
    static ThreadedServer* target = nullptr;
    target = &server;
    net::call_on_stop_signals([] { target->stop(); });
}

int ThreadedServer::run_demo(const Session& session, int connections, const std::function<void()>& client) {
    bool failed = false;
    std::thread thread([&] {
        try {
            client();
        } catch (const std::exception& e) {
            print::err(fmt::format("error: demo client: {}", e.what()));
            failed = true;
            stop();  // the server would otherwise wait for connections that never come
        }
    });
    run(session, connections);
    thread.join();
    return failed ? 1 : 0;
}

}  // namespace ws::server
