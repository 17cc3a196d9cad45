#!/usr/bin/env bash
# The web UI's tests: the JavaScript unit tests (node --test: Markdown renderer, event-stream parser, tree
# helpers), then the browser tests (Tests/browser, pytest + Selenium driving headless Chromium) against a real
# `parley serve` with the SmolLM2 test model: the chat app, credits, wellbeing, and the arena (test_arena.py: a
# second `parley serve` with a key stands in for a provider; blind battle, vote, reveal, leaderboard).
#
#   scripts/browser-test.sh [pytest args...]
#
# On a fresh Debian 12 machine (as root) it installs chromium and chromium-driver with apt-get, and makes the
# venv .venv-browser with selenium and pytest from PyPI. The driver is Debian's chromedriver, passed to
# Selenium explicitly (Selenium Manager never downloads anything).
# Env: PARLEY_BIN (default: the release build's parley), PARLEY_TEST_MODELS (model directory, default .models),
#      PARLEY_ARTIFACTS (screenshots, server log; default .artifacts), SKIP_NODE_TESTS=1, SKIP_BROWSER_TESTS=1.
set -euo pipefail
cd "$(dirname "$0")/.."

artifacts="${PARLEY_ARTIFACTS:-.artifacts}"
mkdir -p "$artifacts/browser"

# --- JavaScript unit tests (pure modules; no browser, no server)
if [ "${SKIP_NODE_TESTS:-0}" != 1 ]; then
  if command -v node >/dev/null 2>&1; then
    for f in Sources/ParleyServer/Resources/ui/*.js; do node --check "$f"; done
    node --test Tests/browser/js/*.test.mjs
  else
    echo "browser-test: node not found; skipping the JavaScript unit tests" >&2
  fi
fi
[ "${SKIP_BROWSER_TESTS:-0}" = 1 ] && exit 0

# --- Browser and driver from Debian
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
if [ "${#need[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then echo "browser-test: install ${need[*]} (apt-get, as root)" >&2; exit 1; fi
  echo "browser-test: installing ${need[*]}" >&2
  DEBIAN_FRONTEND=noninteractive apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}"
fi
chromium_bin="$(command -v chromium)"
chromedriver_bin="$(command -v chromedriver)"

# --- Python venv with selenium + pytest
venv=.venv-browser
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import selenium, pytest" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check selenium pytest
fi

# --- The server command; the test starts, restarts and stops it itself
bin="${PARLEY_BIN:-$(swift build -c release --show-bin-path)/parley}"
[ -x "$bin" ] || { echo "browser-test: no parley binary at $bin (build first: swift build -c release)" >&2; exit 1; }
model="${PARLEY_TEST_MODELS:-.models}/SmolLM2-135M-Instruct.Q4_1.gguf"
[ -f "$model" ] || { echo "browser-test: missing $model (scripts/fetch-test-models.sh)" >&2; exit 1; }
port="$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
home="$(mktemp -d)"
trap 'rm -rf "$home"' EXIT

export PARLEY_HOME="$home"
export PARLEY_URL="http://127.0.0.1:$port"
export PARLEY_SERVE_CMD="$(printf '%q ' "$bin" serve -m "$model" --ctx 2048 -t 2 --host 127.0.0.1 --port "$port")"
export PARLEY_ARTIFACTS="$artifacts"
export PARLEY_EMBEDDING_MODEL_DIR="${PARLEY_TEST_MODELS:-.models}/all-MiniLM-L6-v2"  # test_memory.py's server
export CHROMIUM="$chromium_bin" CHROMEDRIVER="$chromedriver_bin"
export SE_OFFLINE=true  # Selenium Manager must not reach the network
unset PARLEY_API_KEY

timeout 600 "$venv/bin/python" -m pytest -q -p no:cacheprovider Tests/browser "$@"
