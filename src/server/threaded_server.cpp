#include "i18n/i18n.hpp"
#include "server/threaded_server.hpp"

#include "net/signals.hpp"
#include "print/print.hpp"

#include <poll.h>

#include <atomic>
#include <cstring>

#include <fmt/format.h>
#include <memory>
#include <thread>
#include <vector>

namespace ws::server {

// Non-blocking: the accepted sockets are too, and every blocking read and write waits with a
// deadline (net/transport.hpp).
ThreadedServer::ThreadedServer(const std::string& host, std::uint16_t port, std::size_t max_sessions)
    : listener_(host, port, true), max_sessions_(max_sessions) {}

void ThreadedServer::run(const Session& session, int max_connections) {
    // Each session's thread, and a flag it sets when done. Finished threads are joined (not
    // detached), so none is still tearing down when the lesson exits.
    struct Running {
        std::thread thread;
        std::shared_ptr<std::atomic<bool>> done;
    };
    std::vector<Running> running;
    auto reap = [&running] {
        for (auto it = running.begin(); it != running.end();) {
            if (it->done->load()) {
                it->thread.join();
                it = running.erase(it);
            } else {
                ++it;
            }
        }
    };

    int accepted = 0;
    while (!stopping_ && (max_connections < 0 || accepted < max_connections)) {
        reap();
        // Wake up every 100 ms to notice stop().
        pollfd p{listener_.fd(), POLLIN, 0};
        if (::poll(&p, 1, 100) <= 0) continue;
        net::Endpoint peer;
        int error = 0;
        net::Fd fd = listener_.accept(&peer, &error);
        if (error) {
            print::err(trf("warning: cannot accept a connection: {}", std::strerror(error)));
            std::this_thread::sleep_for(std::chrono::milliseconds(100));  // e.g. out of descriptors
            continue;
        }
        if (!fd) continue;
        ++accepted;
        // A thread per client is a lesson's shortcut, so it gets a cap: past it a client is
        // told to come back later instead of the server running out of threads.
        reap();
        if (running.size() >= max_sessions_) {
            std::string_view busy = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
            net::Transport t(std::move(fd));
            net::write_all(t, busy, net::after(std::chrono::milliseconds(100)));
            continue;
        }
        auto done = std::make_shared<std::atomic<bool>>(false);
        try {
            std::thread thread([this, session, fd = std::move(fd), peer, accepted, done]() mutable {
                // A thread must not end the program with an exception: say it, end the session.
                try {
                    if (!tls_) {
                        session(net::Transport(std::move(fd)), peer, accepted);
                    } else {
                        net::Transport t = tls_->wrap(std::move(fd));
                        try {
                            net::handshake_blocking(t, net::after(std::chrono::seconds(10)));
                        } catch (const std::exception& e) {
                            print::out(fmt::format("#{} from {}: {}\n", accepted, peer.str(), e.what()));
                            t = {};
                        }
                        if (t) session(std::move(t), peer, accepted);
                    }
                } catch (const std::exception& e) {
                    print::err(trf("error: connection #{}: {}", accepted, e.what()));
                } catch (...) {
                    print::err(trf("error: connection #{}: an unknown failure", accepted));
                }
                session_ended();
                done->store(true);
            });
            running.push_back({std::move(thread), done});
        } catch (const std::system_error& e) {
            print::err(trf("warning: cannot start a thread for a client: {}", e.what()));
        }
    }
    // Every session checks stopping() between reads; wait for the last to finish.
    for (auto& r : running) r.thread.join();
}

void ThreadedServer::session_ended() {
    {
        std::lock_guard lock(ended_mutex_);
        ++ended_;
    }
    ended_changed_.notify_all();
}

bool ThreadedServer::wait_for_sessions(int n, std::chrono::milliseconds timeout) {
    std::unique_lock lock(ended_mutex_);
    return ended_changed_.wait_for(lock, timeout, [&] { return ended_ >= n; });
}

namespace {
std::atomic<ThreadedServer*> g_signal_target{nullptr};
}  // namespace

ThreadedServer::~ThreadedServer() {
    ThreadedServer* self = this;
    g_signal_target.compare_exchange_strong(self, nullptr);
}

void stop_on_signals(ThreadedServer& server) {
    g_signal_target = &server;
    net::call_on_stop_signals([] {
        if (ThreadedServer* target = g_signal_target.load()) target->stop();
    });
}

int ThreadedServer::run_demo(const Session& session, int connections, const std::function<void()>& client) {
    bool failed = false;
    std::thread thread([&] {
        try {
            client();
        } catch (const std::exception& e) {
            print::err(trf("error: demo client: {}", e.what()));
            failed = true;
            stop();  // the server would otherwise wait for connections that never come
        } catch (...) {
            print::err(tr("error: demo client: an unknown failure"));
            failed = true;
            stop();
        }
    });
    run(session, connections);
    thread.join();
    return failed ? 1 : 0;
}

}  // namespace ws::server
