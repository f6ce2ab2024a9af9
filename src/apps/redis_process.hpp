// Lesson 10 without --redis: Debian's redis-server, started by the lesson on a free port in a
// temporary directory (nothing saved to disk), and stopped when the lesson ends.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace ws::apps {

class RedisProcess {
public:
    // Starts redis-server and waits until it answers PING; throws std::runtime_error with a
    // sentence (redis-server not installed, did not start) otherwise.
    RedisProcess();
    ~RedisProcess();  // SIGTERM, then SIGKILL after 2 s; the directory is removed
    RedisProcess(const RedisProcess&) = delete;
    RedisProcess& operator=(const RedisProcess&) = delete;

    std::uint16_t port() const { return port_; }
    pid_t pid() const { return pid_; }
    // Stops it now (the lesson's tests and --demo: "Redis restarts").
    void stop();
    // Starts it again on the same port (empty: it saved nothing).
    void restart();

private:
    void launch();

    std::string dir_;
    std::uint16_t port_ = 0;
    pid_t pid_ = -1;
};

}  // namespace ws::apps
