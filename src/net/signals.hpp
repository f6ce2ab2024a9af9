// Ctrl-C and SIGTERM for servers: the handler only calls a function that must be
// async-signal-safe (the servers' stop() writes to an eventfd or sets an atomic flag).
#pragma once

namespace ws::net {

// Installs SIGINT and SIGTERM handlers that call `stop`, and ignores SIGPIPE (a client that
// hangs up mid-write must not kill the server; writes use MSG_NOSIGNAL as well).
void call_on_stop_signals(void (*stop)());
// From now on a stop signal does nothing (the servers it would stop are gone; the process is
// on its way out anyway).
void forget_stop_signals();

}  // namespace ws::net
