#!/usr/bin/env bash
# OpenAI conformance suite: starts `parley serve` on a free loopback port with the SmolLM2 test model, waits for
# /health, runs Tests/conformance with the official `openai` Python package, and stops the server.
#
#   scripts/conformance.sh [pytest args...]
# Env: PARLEY_BIN (default: the release build's parley), PARLEY_TEST_MODELS (model directory, default .models).
set -euo pipefail
cd "$(dirname "$0")/.."

bin="${PARLEY_BIN:-$(swift build -c release --show-bin-path)/parley}"
[ -x "$bin" ] || { echo "conformance: no parley binary at $bin (build first: swift build -c release)" >&2; exit 1; }
model="${PARLEY_TEST_MODELS:-.models}/SmolLM2-135M-Instruct.Q4_1.gguf"
[ -f "$model" ] || { echo "conformance: missing $model (scripts/fetch-test-models.sh)" >&2; exit 1; }

venv=.venv-conformance
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import openai, pytest" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q openai pytest
fi

port="$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
key="conformance-$RANDOM$RANDOM"
ctx=1024
log="$(mktemp)"
# Accounts are on (the default): /v1 takes the static --api-key. The chat app's database goes to a throwaway home.
home="$(mktemp -d)"
PARLEY_HOME="$home" "$bin" serve -m "$model" --host 127.0.0.1 --port "$port" --parallel 8 --ctx "$ctx" -t 2 \
  --api-key "$key" --queue 4 --max-body 65536 >"$log" 2>&1 &
server=$!
cleanup() {
  kill -TERM "$server" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$server" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$server" 2>/dev/null || true
  rm -f "$log"
  rm -rf "$home"
}
trap cleanup EXIT

ready=0
for _ in $(seq 1 600); do
  if ! kill -0 "$server" 2>/dev/null; then echo "conformance: server exited" >&2; cat "$log" >&2; exit 1; fi
  if "$venv/bin/python" -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:$port/health', timeout=2).status == 200 else 1)" 2>/dev/null; then
    ready=1; break
  fi
  sleep 0.2
done
[ "$ready" = 1 ] || { echo "conformance: server not healthy after 120 s" >&2; cat "$log" >&2; exit 1; }

PARLEY_URL="http://127.0.0.1:$port" PARLEY_MODEL="SmolLM2-135M-Instruct.Q4_1" PARLEY_API_KEY="$key" PARLEY_CTX="$ctx" \
  timeout 900 "$venv/bin/python" -m pytest -q -p no:cacheprovider Tests/conformance "$@"
