#!/usr/bin/env bash
# `make tour`: class 1's walkthrough, every --demo of lessons 1-5 in order, in one terminal.
# `make tour-2`: class 2's, lessons 6-10 (scripts/tour.sh BIN 2).
set -euo pipefail
bin="${1:-build/bin}"
class="${2:-1}"
seed=2026  # the same bytes on every screen in the room
# The language, as the lessons choose it (LC_ALL, then LC_MESSAGES, then LANG: zh… is Chinese);
# the lessons read it themselves, this script only says its own last lines in it.
lang="${LC_ALL:-${LC_MESSAGES:-${LANG:-}}}"
zh=false
case "$lang" in zh*) zh=true ;; esac
run() {
    echo
    echo "════════ $* ════════"
    "$bin/$@"
}
case "$class" in
1)
    run lesson1-raw-tcp --demo --seed $seed
    run lesson2-handshake --demo --seed $seed
    run lesson3-accept-key --demo --seed $seed
    run lesson4-framing --demo
    run lesson5-chat --demo -v --seed $seed
    echo
    if $zh; then
        echo "第一讲的演示到此结束；make tour-2 运行第二讲的演示。每一课的 README（lessons/*/README.zh.md）"
        echo "都说明了怎样现场运行它。"
    else
        echo "That was class 1's tour; make tour-2 runs class 2's. Each lesson's README (lessons/*/README.md)"
        echo "says how to run it live."
    fi
    ;;
2)
    run lesson6-client --demo --seed $seed
    run lesson7-wss --demo --seed $seed
    run lesson8-compression --demo --seed $seed
    run lesson9-socketio --demo --seed $seed
    run lesson10-scale-out --demo --seed $seed
    echo
    if $zh; then
        echo "第二讲的演示到此结束。每一课的 README（lessons/*/README.zh.md）都说明了怎样现场运行它。"
    else
        echo "That was class 2's tour. Each lesson's README (lessons/*/README.md) says how to run it live."
    fi
    ;;
*)
    echo "usage: scripts/tour.sh BIN [1|2]" >&2
    exit 2
    ;;
esac
