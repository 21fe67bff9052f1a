#!/usr/bin/env bash
# Builds the libFuzzer targets (clang-19, -fsanitize=fuzzer,address,undefined;
# build-fuzz/, or ONNXC_FUZZ_BUILD_DIR) and runs each for SECONDS (default
# 60) on one core, with a seed corpus and dictionaries made from the tree
# (fuzz/make-seeds.sh).  Every input must be handled within 2 GB and 10 s.
# The corpus grows in build-fuzz/corpus/<target>/; findings (crash-*,
# leak-*, timeout-*, oom-*) land in build-fuzz/findings/<target>/ and make
# the script fail: minimize one with `fuzz_<target> -minimize_crash=1 FILE`,
# fix it, and save the input in tests/fuzz/<target>/ as a regression test.
#   scripts/fuzz.sh [SECONDS] [TARGET...]     (targets: model npy tensor_pb cli weights)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
seconds="${1:-60}"
shift || true
targets=("$@")
((${#targets[@]})) || targets=(model npy tensor_pb cli weights)
build="${ONNXC_FUZZ_BUILD_DIR:-build-fuzz}"

CC=clang-19 CXX=clang++-19 cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DONNXC_FUZZ=ON \
  -DONNXC_BUILD_TESTS=OFF -DONNXC_BUILD_EXAMPLES=OFF > /dev/null
cmake --build "$build" -j"${ONNXC_FUZZ_JOBS:-2}" --target onnxc $(printf 'fuzz_%s ' "${targets[@]}")

seeds="$build/seeds"
rm -rf "$seeds"
fuzz/make-seeds.sh "$build" "$seeds"
failed=()
for t in "${targets[@]}"; do
  corpus="$build/corpus/$t" findings="$build/findings/$t"
  mkdir -p "$corpus" "$findings"
  dict="$seeds/onnx.dict"
  [[ $t == cli ]] && dict="$seeds/cli.dict"
  [[ $t == npy || $t == weights ]] && dict=""
  echo "== fuzz_$t for ${seconds} s"
  # -max_len: the fixtures go up to 1 MB; mutating more than 256 KB at once
  # mostly slows the search down.
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$build/fuzz/fuzz_$t" "$corpus" "$seeds/$t" ${dict:+-dict="$dict"} \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048 \
      -max_len=262144 -print_final_stats=1 \
      -artifact_prefix="$findings/" 2>&1 | tee "$build/fuzz_$t.log" |
      grep -E 'INITED|DONE|^stat::|ERROR|SUMMARY|Test unit written' || true
  if compgen -G "$findings/*" > /dev/null; then failed+=("$t"); fi
done
if ((${#failed[@]})); then
  echo "fuzz.sh: findings for ${failed[*]} in $build/findings/" >&2
  exit 1
fi
echo "fuzz.sh: no findings (${targets[*]}, ${seconds} s each)"
