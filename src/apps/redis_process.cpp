#include "apps/redis_process.hpp"

#include "i18n/i18n.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "apps/redis_bus.hpp"
#include "net/socket.hpp"

extern char** environ;

namespace ws::apps {

using namespace std::chrono_literals;

namespace {

// A port nobody listens on now: the kernel picks one for a socket of ours, which is closed
// again for redis-server to take (it is told the port; it cannot be handed a socket).
std::uint16_t free_port() {
    net::Listener probe("127.0.0.1", 0);
    return probe.local().port;
}

}  // namespace

RedisProcess::RedisProcess() {
    char pattern[] = "/tmp/ws-lesson10-redis-XXXXXX";
    if (!::mkdtemp(pattern)) throw std::runtime_error(trf("cannot make a directory for redis-server: {}", std::strerror(errno)));
    dir_ = pattern;
    port_ = free_port();
    launch();
}

void RedisProcess::launch() {
    std::string port = std::to_string(port_);
    std::vector<std::string> args = {"redis-server", "--port",        port,   "--bind",     "127.0.0.1", "--dir", dir_,
                                     "--save",       "",              "--appendonly", "no", "--daemonize", "no",
                                     "--loglevel",   "warning",       "--logfile", dir_ + "/redis.log"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    // In a process group of its own: Ctrl-C in the terminal stops the lesson, which stops
    // Redis after its servers have said goodbye to it (not Redis first, under them).
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    int rc = ::posix_spawnp(&pid_, "redis-server", nullptr, &attr, argv.data(), environ);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
        pid_ = -1;
        throw std::runtime_error(rc == ENOENT ? tr("redis-server is not installed: apt install redis-server "
                                                "(scripts/install-deps.sh does), or give --redis HOST:PORT")
                                              : trf("cannot start redis-server: {}", std::strerror(rc)));
    }
    RedisAddress address{"127.0.0.1", port_};
    std::string problem;
    for (int i = 0; i < 100; ++i) {  // up to 5 s
        std::this_thread::sleep_for(50ms);
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            throw std::runtime_error(trf("redis-server stopped at once (see {}/redis.log)", dir_));
        }
        problem = check_redis(address, 200ms);
        if (problem.empty()) return;
    }
    stop();
    throw std::runtime_error(trf("redis-server did not answer on port {} within 5 s: {}", port_, problem));
}

void RedisProcess::stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 40; ++i) {
        if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
            pid_ = -1;
            return;
        }
        std::this_thread::sleep_for(50ms);
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
}

void RedisProcess::restart() {
    stop();
    launch();
}

RedisProcess::~RedisProcess() {
    stop();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
}

}  // namespace ws::apps
