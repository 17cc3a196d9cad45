#!/usr/bin/env bash
# Builds llama.cpp (the reference implementation Parley is checked against) OUTSIDE the repository.
#
# Source: the llama-cpp-python sdist from PyPI, which vendors llama.cpp under vendor/llama.cpp.
# Cache:  ${LLAMA_CPP_CACHE:-$HOME/.cache/parley/llama.cpp}
# Result: $CACHE/build/bin/{llama-tokenize,llama-bench,llama-server,llama-cli}
#
# Usage: scripts/build-llama-cpp.sh            (idempotent; reuses the unpacked source and build dir)
#        LLAMA_CPP_PYTHON_VERSION=0.3.16 scripts/build-llama-cpp.sh   (pin a version)
#        JOBS=4 scripts/build-llama-cpp.sh
set -euo pipefail

CACHE="${LLAMA_CPP_CACHE:-$HOME/.cache/parley/llama.cpp}"
JOBS="${JOBS:-2}"
mkdir -p "$CACHE"

if ! command -v cmake >/dev/null 2>&1; then
    echo "cmake missing: installing with apt-get" >&2
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update && $SUDO apt-get install -y cmake
fi

SRC="$CACHE/src"
if [ ! -f "$SRC/CMakeLists.txt" ]; then
    DL="$CACHE/sdist"
    mkdir -p "$DL"
    spec="llama-cpp-python"
    [ -n "${LLAMA_CPP_PYTHON_VERSION:-}" ] && spec="llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION"
    python3 -m pip download --no-deps --no-binary :all: "$spec" -d "$DL"
    tarball="$(ls -t "$DL"/llama_cpp_python-*.tar.gz | head -1)"
    rm -rf "$CACHE/unpack" && mkdir -p "$CACHE/unpack"
    tar -xzf "$tarball" -C "$CACHE/unpack"
    top="$(ls "$CACHE/unpack" | head -1)"
    rm -rf "$SRC"
    mv "$CACHE/unpack/$top/vendor/llama.cpp" "$SRC"
    basename "$tarball" > "$CACHE/SOURCE"
    rm -rf "$CACHE/unpack"
fi
echo "llama.cpp source: $SRC (from $(cat "$CACHE/SOURCE" 2>/dev/null || echo unknown))"

cd "$SRC"
cmake -B "$CACHE/build" -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF -DGGML_NATIVE=ON -DLLAMA_BUILD_TESTS=OFF

# Keep only the targets this llama.cpp version knows.
targets=()
help="$(cmake --build "$CACHE/build" --target help 2>/dev/null || true)"
for t in llama-tokenize llama-bench llama-server llama-cli; do
    if grep -qE "(^|[ .:])$t(\$|[ :])" <<<"$help"; then targets+=("$t"); else echo "target $t not in this version: skipped" >&2; fi
done
cmake --build "$CACHE/build" -j"$JOBS" --target "${targets[@]}"
echo "built: $CACHE/build/bin"
ls -1 "$CACHE/build/bin"
