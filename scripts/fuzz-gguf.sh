#!/usr/bin/env bash
# Fuzzes the GGUF reader with mutated and truncated headers of the two test models (10,000 cases unless told).
# Usage: scripts/fuzz-gguf.sh [--cases N] [--seed S] [--case N] [MODEL.gguf ...]
set -euo pipefail
cd "$(dirname "$0")/.."
[ -s .models/SmolLM2-135M-Instruct.Q4_1.gguf ] || scripts/fetch-test-models.sh
exec swift run -c release parley fuzz-gguf "$@"
