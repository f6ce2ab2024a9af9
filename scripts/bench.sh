#!/usr/bin/env bash
# `make bench`: the protocol core's speed (Google Benchmark), then the servers under load from
# ws_load (bench/ws_load.cpp): echo, handshakes per server CPU-second, chat broadcast, and memory
# per idle connection (RSS growth and peak RSS growth, handshakes included), over ws:// and wss://.
set -euo pipefail
bin="${1:-build/bin}"
seconds="${BENCH_SECONDS:-5}"

if [[ -x "$bin/bench_proto" ]]; then
    echo "== protocol core (bytes_per_second: compare each with BM_Memcpy of the same size)"
    "$bin/bench_proto" --benchmark_min_time=0.2
else
    echo "bench_proto was not built: install libbenchmark-dev"
fi

# Runs a server command that picks a free port and prints `listening on …` first; sets
# $server_pid and $server_port.
start_command() {
    local out; out="$(mktemp)"
    "$@" > "$out" &
    server_pid=$!
    for _ in $(seq 50); do
        if grep -q '^listening on' "$out"; then break; fi
        sleep 0.1
    done
    server_port="$(sed -n 's|^listening on https\{0,1\}://.*:\([0-9]*\)/$|\1|p' "$out" | head -1)"
    rm -f "$out"
}
# A lesson's server on a free port.
start() { start_command "$bin/$1" "${@:2}" --port 0 --color never; }
stop() { kill -TERM "$server_pid"; wait "$server_pid" || true; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

echo
echo "== lesson4-framing serve: echo"
start lesson4-framing serve
"$bin/ws_load" --port "$server_port" echo --connections 64 --inflight 16 --size 32 --seconds "$seconds"
"$bin/ws_load" --port "$server_port" echo --connections 8 --inflight 4 --size 65536 --seconds "$seconds"
stop
start lesson4-framing serve
"$bin/ws_load" --port "$server_port" handshakes --pid "$server_pid" --path / --seconds "$seconds"
stop
for n in 1000 10000; do
    start lesson4-framing serve
    "$bin/ws_load" --port "$server_port" idle --connections "$n" --pid "$server_pid" --path /
    stop
done

echo
echo "== lesson4-framing serve --tls: the same over wss:// (TLS 1.3, a self-signed P-256 certificate)"
start lesson4-framing serve --tls
"$bin/ws_load" --port "$server_port" --tls echo --connections 64 --inflight 16 --size 32 --seconds "$seconds"
"$bin/ws_load" --port "$server_port" --tls echo --connections 8 --inflight 4 --size 65536 --seconds "$seconds"
stop
start lesson4-framing serve --tls
"$bin/ws_load" --port "$server_port" --tls handshakes --pid "$server_pid" --path / --seconds "$seconds"
stop
start lesson4-framing serve --tls
"$bin/ws_load" --port "$server_port" --tls idle --connections 1000 --pid "$server_pid" --path /
stop

echo
echo "== lesson5-chat: broadcast"
start lesson5-chat
"$bin/ws_load" --port "$server_port" chat --receivers 1000 --inflight 16 --size 64 --seconds "$seconds"
stop
for n in 1000 10000; do
    start lesson5-chat
    "$bin/ws_load" --port "$server_port" idle --connections "$n" --pid "$server_pid" --path /ws
    stop
done

echo
echo "== permessage-deflate (lesson 8): chat-like text, compressed both ways"
echo "   (the servers' default: no context takeover, one compressed frame per broadcast)"
start lesson4-framing serve
"$bin/ws_load" --port "$server_port" --deflate echo --connections 1000 --inflight 4 --size 256 --seconds "$seconds"
"$bin/ws_load" --port "$server_port" --deflate echo --connections 64 --inflight 16 --size 32 --seconds "$seconds"
stop
start lesson4-framing serve --deflate-takeover
echo "   --deflate-takeover (each side keeps its window):"
"$bin/ws_load" --port "$server_port" --deflate echo --connections 1000 --inflight 4 --size 256 --seconds "$seconds"
stop
start lesson5-chat
"$bin/ws_load" --port "$server_port" --deflate chat --receivers 1000 --inflight 16 --size 64 --seconds "$seconds"
stop
start lesson5-chat --deflate-takeover
echo "   --deflate-takeover (every receiver compresses each message itself):"
"$bin/ws_load" --port "$server_port" --deflate chat --receivers 1000 --inflight 16 --size 64 --seconds "$seconds"
stop
for setting in "" "--deflate-takeover" "--deflate-takeover --deflate-window 12 --deflate-mem-level 5" \
               "--deflate-takeover --deflate-window 9 --deflate-mem-level 1"; do
    # shellcheck disable=SC2086
    start lesson4-framing serve $setting
    echo "   idle, after one 1 KiB message each way: ${setting:-the default}"
    "$bin/ws_load" --port "$server_port" --deflate idle --talk --connections 1000 --pid "$server_pid" --path /
    stop
done

echo
echo "== lesson9-socketio: socket.io chat over the WebSocket transport (each message in 42[\"message\",…])"
start lesson9-socketio -q
"$bin/ws_load" --port "$server_port" --socketio chat --receivers 1000 --inflight 16 --size 64 --seconds "$seconds"
stop

echo
echo "== lesson10-scale-out: the chat room over Redis pub/sub (1000 receivers; one server, then two)"
if ! command -v redis-server >/dev/null 2>&1; then
    echo "   skipped: no redis-server (scripts/install-deps.sh installs it)"
else
    redis_dir="$(mktemp -d)"
    redis_port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
    redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --dir "$redis_dir" \
        --logfile "$redis_dir/log" --daemonize no &
    redis_pid=$!
    for _ in $(seq 50); do
        if redis-cli -p "$redis_port" ping >/dev/null 2>&1; then break; fi
        sleep 0.1
    done
    start lesson10-scale-out --redis "127.0.0.1:$redis_port"
    a_pid=$server_pid; a_port=$server_port
    echo "   one server (every delivery through Redis and back); CPU of redis-server (pid $redis_pid), then A:"
    "$bin/ws_load" --port "$a_port" chat --receivers 1000 --inflight 16 --size 64 --seconds "$seconds" \
        --cpu-of "$redis_pid" --cpu-of "$a_pid"
    start lesson10-scale-out --redis "127.0.0.1:$redis_port"
    b_pid=$server_pid; b_port=$server_port
    echo "   two servers, 500 receivers on each; CPU of redis-server, A, B:"
    "$bin/ws_load" --port "$a_port" chat --receivers 1000 --inflight 16 --size 64 --seconds "$seconds" \
        --spread "$b_port" --cpu-of "$redis_pid" --cpu-of "$a_pid" --cpu-of "$b_pid"
    server_pid=$b_pid; stop
    server_pid=$a_pid; stop
    kill -TERM "$redis_pid"; wait "$redis_pid" || true
    rm -rf "$redis_dir"
fi
echo
echo "== the same against Node's socket.io 4 server (npm socket.io@4.8.1, bench/socketio_peer.cjs): a peer, not ours"
here="$(cd "$(dirname "$0")/.." && pwd)"
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "   skipped: no node/npm (scripts/install-deps.sh --browser installs them)"
else
    if [[ ! -d "$here/bench/node_modules/socket.io" ]]; then
        echo "   installing socket.io@4.8.1 (npm) into bench/node_modules"
        (cd "$here/bench" && npm install --no-audit --no-fund --no-package-lock --no-save --silent "socket.io@4.8.1")
    fi
    start_command node "$here/bench/socketio_peer.cjs" --port 0
    "$bin/ws_load" --port "$server_port" --socketio chat --receivers 1000 --inflight 16 --size 64 --seconds "$seconds"
    stop
fi
