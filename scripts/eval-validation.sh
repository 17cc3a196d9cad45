#!/usr/bin/env bash
# Full validation runs of the multiple-choice tasks on the test models (issue 10), resumable: an interrupted run
# picks up where its log ends. Summaries (score, bootstrap interval, seconds) land in results/eval/, the per-item
# logs in ~/.cache/parley/eval/validation-runs (large; not committed). Takes hours on 2 cores: run it on a quiet
# machine, or at low priority with PARLEY_NICE=19.
#   scripts/eval-validation.sh [MODEL.gguf …]     (default: both test models)
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$(swift build -c release --show-bin-path)/parley"
[ -x "$bin" ] || swift build -c release --product parley
runs="${PARLEY_VALIDATION_RUNS:-$HOME/.cache/parley/eval/validation-runs}"
mkdir -p "$runs" results/eval
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(.models/SmolLM2-135M-Instruct.Q4_1.gguf .models/gemma-3-270m-Q4_K_M.gguf)
for model in "${models[@]}"; do
  for task in arc_easy arc_challenge piqa winogrande hellaswag; do
    nice -n "${PARLEY_NICE:-0}" "$bin" eval run -m "$model" --task "$task" --runs "$runs" --json
  done
done
cp "$runs"/*.summary.json results/eval/
python3 scripts/eval-results-table.py results/eval > results/eval/README.md
echo "results/eval/README.md"
