#include "server/threaded_server.hpp"

#include "net/signals.hpp"
#include "print/print.hpp"

#include <poll.h>

#include <cstring>

#include <fmt/format.h>
#include <thread>

namespace ws::server {

ThreadedServer::ThreadedServer(const std::string& host, std::uint16_t port) : listener_(host, port) {}

void ThreadedServer::run(const Session& session, int max_connections) {
    int accepted = 0;
    while (!stopping_ && (max_connections < 0 || accepted < max_connections)) {
        // Wake up every 100 ms to notice stop().
        pollfd p{listener_.fd(), POLLIN, 0};
        if (::poll(&p, 1, 100) <= 0) continue;
        net::Endpoint peer;
        int error = 0;
        net::Fd fd = listener_.accept(&peer, &error);
        if (error) {
            print::err(fmt::format("warning: cannot accept a connection: {}", std::strerror(error)));
            std::this_thread::sleep_for(std::chrono::milliseconds(100));  // e.g. out of descriptors
            continue;
        }
        if (!fd) continue;
        ++accepted;
        // A thread per client is a lesson's shortcut, so it gets a cap: past it a client is
        // told to come back later instead of the server running out of threads.
        if (active_ >= kMaxSessions) {
            std::string_view busy = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
            net::write_all(fd.get(), busy, net::after(std::chrono::milliseconds(100)));
            continue;
        }
        ++active_;
        try {
            std::thread([this, session, fd = std::move(fd), peer, accepted]() mutable {
                session(std::move(fd), peer, accepted);
                std::lock_guard lock(mutex_);
                --active_;
                done_.notify_all();
            }).detach();
        } catch (const std::system_error& e) {
            --active_;
            print::err(fmt::format("warning: cannot start a thread for a client: {}", e.what()));
        }
    }
    // Every session checks stopping() between reads; wait for the last to finish.
    std::unique_lock lock(mutex_);
    done_.wait(lock, [this] { return active_ == 0; });
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
