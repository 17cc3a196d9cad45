#!/usr/bin/env bash
# Counts heap allocations per decoded token: runs `parley bench` decoding N and 3N tokens under a malloc-counting
# LD_PRELOAD shim and divides the difference by the extra tokens (warm-up and one measured run each).
#   scripts/count-decode-mallocs.sh [MODEL] [THREADS]
set -euo pipefail
cd "$(dirname "$0")/.."
model="${1:-.models/SmolLM2-135M-Instruct.Q4_1.gguf}"
threads="${2:-2}"
shim="$(mktemp -d)/malloc-counter.so"
cc -shared -fPIC -O2 scripts/tools/malloc-counter.c -o "$shim" -ldl
swift build -c release --product parley >/dev/null
count() { LD_PRELOAD="$shim" .build/release/parley bench -m "$model" -t "$threads" -r 1 -p 0 -n "$1" 2>&1 >/dev/null | sed -n 's/^MALLOCS //p'; }
a=$(count 16); b=$(count 48)
echo "mallocs: $a decoding 2x16 tokens, $b decoding 2x48 tokens -> $(( (b - a) / 64 )) per decoded token ($(( b - a )) over 64 tokens)"
