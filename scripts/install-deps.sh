#!/usr/bin/env bash
# Installs what the lessons and their tests need, from Debian's packages (and npm for
# the browser test's driver). Safe to run again: it only installs what is missing.
#   scripts/install-deps.sh           build + unit/end-to-end test dependencies
#   scripts/install-deps.sh --browser also Chromium and playwright-core for the browser test, and
#                                     socket.io-client for lesson 9's page
#   scripts/install-deps.sh --fuzz    also clang with libFuzzer
set -euo pipefail

want_browser=0
want_fuzz=0
[[ "${1:-}" == "--browser" ]] && want_browser=1
[[ "${1:-}" == "--fuzz" ]] && want_fuzz=1

packages=(cmake make g++ pkg-config libcli11-dev libfmt-dev libssl-dev libgtest-dev libbenchmark-dev
          nlohmann-json3-dev python3 python3-websockets openssl zlib1g-dev
          python3-socketio python3-engineio python3-requests python3-websocket
          libhiredis-dev redis-server)
(( want_browser )) && packages+=(chromium nodejs npm)
(( want_fuzz )) && packages+=(clang libclang-rt-14-dev)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# nodejs/npm may come from elsewhere (nvm, a tarball): a working `npm` is enough.
if (( want_browser )) && command -v npm >/dev/null 2>&1; then
    missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
    read -ra missing <<< "${missing[*]}"
fi

if (( ${#missing[@]} )); then
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "error: missing packages (${missing[*]}) and no apt-get here." >&2
        echo "       This script knows Debian 12 / Ubuntu; install the equivalents by hand." >&2
        exit 1
    fi
    sudo=""
    if (( EUID != 0 )); then
        command -v sudo >/dev/null 2>&1 || { echo "error: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
        sudo="sudo"
    fi
    echo "installing: ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if (( want_browser )); then
    here="$(cd "$(dirname "$0")/.." && pwd)"
    if [[ ! -d "$here/tests/browser/node_modules/playwright-core" ]]; then
        # playwright-core drives Debian's chromium; it downloads no browser. Its current
        # releases need Node.js 20; Debian 12's own Node.js is 18, which 1.49 still supports.
        node_major="$(node -p 'process.versions.node.split(".")[0]')"
        version=1.65.1
        (( node_major < 20 )) && version=1.49.1
        echo "installing playwright-core@$version (npm)"
        (cd "$here/tests/browser" && npm install --no-audit --no-fund --no-package-lock --no-save --silent "playwright-core@$version")
    fi
    # Lesson 9 serves socket.io's own browser client to the blog's page (and the browser test
    # loads it there).
    if [[ ! -f "$here/tests/browser/node_modules/socket.io-client/dist/socket.io.js" ]]; then
        echo "installing socket.io-client@4.8.1 (npm)"
        (cd "$here/tests/browser" && npm install --no-audit --no-fund --no-package-lock --no-save --silent "socket.io-client@4.8.1")
    fi
fi
