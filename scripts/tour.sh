#!/usr/bin/env bash
# `make tour`: every lesson's --demo in order, the whole walkthrough in one terminal.
set -euo pipefail
bin="${1:-build/bin}"
seed=2026  # the same bytes on every screen in the room
run() {
    echo
    echo "════════ $* ════════"
    "$bin/$@"
}
run lesson1-raw-tcp --demo --seed $seed
run lesson2-handshake --demo --seed $seed
run lesson3-accept-key --demo --seed $seed
run lesson4-framing --demo
run lesson5-chat --demo -v --seed $seed
echo
echo "That was the whole tour. Each lesson's README (lessons/*/README.md) says how to run it live."
