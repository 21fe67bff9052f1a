#!/usr/bin/env bash
# The full test run, as CI does it (.ci/run): installs the dependencies,
# builds Release into build/ and runs ctest (unit tests, CLI tests, the ONNX
# conformance suite) and the Python example (scripts/test-python-example.sh,
# which makes bench/.venv), then builds Debug with AddressSanitizer and
# UndefinedBehaviorSanitizer into build-asan/ and runs ctest there too, then
# runs the multi-threaded tests under ThreadSanitizer (scripts/tsan.sh), and
# last runs every fuzz target for ONNXC_FUZZ_SECONDS (60) in build-fuzz/.
# Exits non-zero if a build, a test or the fuzzing fails; every step runs.
# Prints the wall time of each build and test run, and the total, at the end
# (CI's budget: 90 minutes on 2 cores for everything).
# ONNXC_BUILD_DIR / ONNXC_ASAN_BUILD_DIR override the two build folders.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/install-deps.sh
jobs="$(nproc 2>/dev/null || echo 2)"
build="${ONNXC_BUILD_DIR:-build}"
asan="${ONNXC_ASAN_BUILD_DIR:-build-asan}"
failed=()
timings=()
start_all=$SECONDS
step() { # step LABEL COMMAND...: runs COMMAND, records its wall time, returns its status
  local label="$1" t0=$SECONDS rc=0
  shift
  "$@" || rc=$?
  timings+=("$(printf '%-28s %5d s%s' "$label" $((SECONDS - t0)) "$( ((rc)) && echo '  (failed)')")")
  return $rc
}

echo "== Release build in $build/"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release
step "Release build" cmake --build "$build" -j"$jobs"
step "Release ctest" bash -c "cd '$build' && ctest --output-on-failure -j$jobs" ||
  failed+=("ctest in $build/")

echo "== the Python (ctypes) example on --emit=shared objects, in the bench's venv"
step "Python example" scripts/test-python-example.sh "$build" || failed+=("scripts/test-python-example.sh")

echo "== ASan+UBSan build in $asan/"
cmake -S . -B "$asan" -DCMAKE_BUILD_TYPE=Debug -DONNXC_SANITIZE=ON
step "ASan+UBSan build" cmake --build "$asan" -j"$jobs"
step "ASan+UBSan ctest" bash -c "cd '$asan' && ASAN_OPTIONS=detect_leaks=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j$jobs" ||
  failed+=("ctest in $asan/")

echo "== ThreadSanitizer: the pool and compiled models on several threads"
step "ThreadSanitizer" scripts/tsan.sh "$build" || failed+=("scripts/tsan.sh")

# Each fuzz target for a short time, so that a regression shows (docs/FUZZING.md).
fuzz_seconds="${ONNXC_FUZZ_SECONDS:-60}"
echo "== fuzzing in ${ONNXC_FUZZ_BUILD_DIR:-build-fuzz}/, $fuzz_seconds s per target"
step "fuzz (${fuzz_seconds} s per target)" scripts/fuzz.sh "$fuzz_seconds" || failed+=("fuzzing")

echo "== wall times"
printf '  %s\n' "${timings[@]}"
printf '  %-28s %5d s\n' "total" $((SECONDS - start_all))

if ((${#failed[@]})); then
  echo "test.sh: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "test.sh: all tests passed"
