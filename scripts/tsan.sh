#!/usr/bin/env bash
# ThreadSanitizer run of everything that runs on several threads: the pool
# (tests/unit/test_pool.c built with clang-19 -fsanitize=thread) and
# compiled models running in parallel (test_cg_parallel with
# ONNXC_TEST_TSAN=1: the generated code is instrumented with
# --sanitize=thread, the pool and the harnesses with -fsanitize=thread).
# Usage: scripts/tsan.sh [BUILD_DIR]   (a built tree; default build/)
# Called by scripts/test.sh.  Exits non-zero on any report or failure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build="${1:-build}"
out="$build/tsan"
mkdir -p "$out"
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 ${TSAN_OPTIONS:-}"

echo "== ThreadSanitizer: the pool (test_pool)"
clang-19 -std=c11 -D_POSIX_C_SOURCE=200809L -O1 -g -fsanitize=thread -I. \
  tests/unit/test_pool.c runtime/onnxc_pool.c -lcmocka -pthread -o "$out/test_pool"
"$out/test_pool"

echo "== ThreadSanitizer: compiled models on several threads (test_cg_parallel)"
ONNXC_TEST_TSAN=1 "$build/tests/test_cg_parallel"
echo "tsan.sh: no reports"
