#!/usr/bin/env bash
# Side-by-side serving benchmark: parley serve vs llama.cpp's llama-server, same model, same threads, same load
# generator (scripts/loadgen.py), 128-token streamed chat replies at 1, 4 and 8 concurrent streams. The two
# servers run one after the other (never together) on loopback ports.
#
#   scripts/bench-server.sh [threads=2]
# Env: PARLEY_BIN, LLAMA_SERVER (default /root/.cache/parley/llama.cpp/build/bin/llama-server), MODEL.
set -euo pipefail
cd "$(dirname "$0")/.."
threads="${1:-2}"
bin="${PARLEY_BIN:-$(swift build -c release --show-bin-path)/parley}"
llama="${LLAMA_SERVER:-/root/.cache/parley/llama.cpp/build/bin/llama-server}"
model="${MODEL:-.models/SmolLM2-135M-Instruct.Q4_1.gguf}"
id="$(basename "$model" .gguf)"
port=18731

wait_healthy() {
  for _ in $(seq 1 300); do
    if python3 -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:$port/health', timeout=2).status == 200 else 1)" 2>/dev/null; then return 0; fi
    sleep 0.2
  done
  echo "server on $port did not become healthy" >&2; return 1
}

run_load() {
  local name="$1"
  for c in 1 4 8; do
    echo -n "$name "
    python3 scripts/loadgen.py --url "http://127.0.0.1:$port" --model "$id" --concurrency "$c" \
      --requests $((c < 2 ? 6 : 3 * c)) --max-tokens 128 --ignore-eos --time-limit 300
  done
}

stop() { kill -TERM "$1" 2>/dev/null || true; for _ in $(seq 1 50); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done; kill -KILL "$1" 2>/dev/null || true; }

echo "# $(date -u +%FT%TZ)  load before: $(cut -d' ' -f1-3 /proc/loadavg)  cores: $(nproc)  threads: $threads"
if [ -x "$llama" ]; then
  "$llama" -t "$threads" -np 8 -c 8192 -m "$model" --port "$port" --host 127.0.0.1 >/tmp/bench-llama.log 2>&1 &
  pid=$!
  trap 'stop $pid' EXIT
  wait_healthy
  run_load "llama-server"
  stop "$pid"
fi
# --no-auth: /v1 open like llama-server's; the chat app's database goes to a throwaway home.
home="$(mktemp -d)"
PARLEY_HOME="$home" "$bin" serve -m "$model" -t "$threads" --parallel 8 --ctx 1024 --port "$port" --host 127.0.0.1 --no-auth \
  >/tmp/bench-parley.log 2>&1 &
pid=$!
trap 'stop $pid; rm -rf "$home"' EXIT
wait_healthy
run_load "parley      "
stop "$pid"
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
