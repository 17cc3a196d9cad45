#!/usr/bin/env bash
# Regenerates extra-smollm2.json and extra-gemma3.json with llama.cpp's llama-tokenize.
#
# llama.cpp is built by scripts/build-llama-cpp.sh from the llama-cpp-python sdist (the committed fixtures came
# from llama_cpp_python-0.3.36.tar.gz, its vendor/llama.cpp). Models come from scripts/fetch-test-models.sh.
#
# Usage: Tests/Fixtures/tokenizer/generate.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
cache="${LLAMA_CPP_CACHE:-$HOME/.cache/parley/llama.cpp}"
bin="$cache/build/bin/llama-tokenize"
models="${PARLEY_TEST_MODELS:-$root/.models}"
[ -x "$bin" ] || { echo "missing $bin: run scripts/build-llama-cpp.sh" >&2; exit 1; }
export LLAMA_CPP_SOURCE="$(cat "$cache/SOURCE" 2>/dev/null || echo unknown) vendor/llama.cpp, llama-tokenize"
python3 "$here/generate.py" "$bin" "$models/SmolLM2-135M-Instruct.Q4_1.gguf" "$here/extra-smollm2.json" SmolLM2-135M-Instruct.Q4_1
python3 "$here/generate.py" "$bin" "$models/gemma-3-270m-Q4_K_M.gguf" "$here/extra-gemma3.json" gemma-3-270m-Q4_K_M
python3 "$here/fuzz.py" "$bin" "$models" "$here/fuzz.json"
