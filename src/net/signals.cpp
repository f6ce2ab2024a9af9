#include "net/signals.hpp"

#include <atomic>
#include <csignal>

namespace ws::net {
namespace {

std::atomic<void (*)()> g_stop{nullptr};

extern "C" void on_stop_signal(int) {
    if (auto stop = g_stop.load()) stop();
}

}  // namespace

void call_on_stop_signals(void (*stop)()) {
    g_stop = stop;
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGINT, &sa, nullptr);
    ::sigaction(SIGTERM, &sa, nullptr);
    std::signal(SIGPIPE, SIG_IGN);
}

void forget_stop_signals() { g_stop = nullptr; }

}  // namespace ws::net
