#!/usr/bin/env bash
# Bit-identity of PREFIX_run_parallel on the full-size models: each model is
# compiled as a user would (-O3, the default grain) and linked into
# tests/support/parallel_harness.c, which runs it serially and then through
# onnxc_pool at 1, 2, 3 and 8 threads, with tasks in reverse and shuffled
# order, and through the OpenMP adapter, and fails unless every output has
# the serial run's bits.  Not timed: it may run on a busy machine.
# Usage: bench/determinism.sh [MODEL.onnx ...]
#   (default: every full-size model bench/run.sh generated in bench/.cache)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
ONNXC="${ONNXC:-$ROOT/build/onnxc}"
models=("$@")
if ((${#models[@]} == 0)); then
  mapfile -t models < <(ls "$HERE"/.cache/fullsize/*_op17/model.onnx "$HERE"/.cache/families/*_op17/model.onnx 2>/dev/null)
fi
((${#models[@]})) || { echo "determinism: no models (run bench/run.sh first)" >&2; exit 1; }
work="$(mktemp -d /tmp/onnxc-determinism-XXXXXX)"
trap 'rm -rf "$work"' EXIT
failed=0
for m in "${models[@]}"; do
  label="$(basename "$(dirname "$m")")"
  if ! "$ONNXC" compile "$m" -o "$work/m.o" --header "$work/m.h" --name m -O3 2>"$work/compile.err"; then
    echo "| $label | compile failed: $(tail -1 "$work/compile.err") |"
    failed=1
    continue
  fi
  if cc -O1 -fopenmp -I"$work" -I"$ROOT/runtime" -o "$work/ph" "$ROOT/tests/support/parallel_harness.c" \
       "$work/m.o" "$ROOT/runtime/onnxc_pool.c" -pthread -lm 2>"$work/cc.err" &&
     out="$("$work/ph" 2>&1)"; then
    echo "| $label | ${out#ok: } |"
  else
    echo "| $label | FAILED: ${out:-$(tail -3 "$work/cc.err")} |"
    failed=1
  fi
done
exit $failed
