#!/usr/bin/env bash
# The full test run, as CI does it (.ci/run): installs the dependencies,
# builds Release into build/ and runs ctest (unit tests, CLI tests, the ONNX
# conformance suite), then builds Debug with AddressSanitizer and
# UndefinedBehaviorSanitizer into build-asan/ and runs ctest there too.
# Exits non-zero if a build or any test fails; both test runs always happen.
# ONNXC_BUILD_DIR / ONNXC_ASAN_BUILD_DIR override the two build folders.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/install-deps.sh
jobs="$(nproc 2>/dev/null || echo 2)"
build="${ONNXC_BUILD_DIR:-build}"
asan="${ONNXC_ASAN_BUILD_DIR:-build-asan}"
failed=()

echo "== Release build in $build/"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release
cmake --build "$build" -j"$jobs"
(cd "$build" && ctest --output-on-failure -j"$jobs") || failed+=("ctest in $build/")

echo "== ASan+UBSan build in $asan/"
cmake -S . -B "$asan" -DCMAKE_BUILD_TYPE=Debug -DONNXC_SANITIZE=ON
cmake --build "$asan" -j"$jobs"
(cd "$asan" && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --output-on-failure -j"$jobs") || failed+=("ctest in $asan/")

if ((${#failed[@]})); then
  echo "test.sh: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "test.sh: all tests passed"
