#!/usr/bin/env bash
# onnxc vs ONNX Runtime and OpenVINO, at 1 and 2 threads (--threads): makes bench/.venv with the
# pinned packages of bench/venv.sh (once), builds onnxc in Release into build-bench/,
# then runs bench/bench.py, which generates missing full-size models into
# bench/.cache, compiles each model of bench/models.txt with onnxc -O3
# -mcpu=native, times it against ONNX Runtime in alternating rounds and prints
# a Markdown table (docs/PERFORMANCE.md holds a recorded one).
# Usage: bench/run.sh [bench.py options, e.g. --only vit_b_16 --rounds 5]
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
PYTHON="$("$HERE/venv.sh")"

if [[ -z "${BENCH_NO_BUILD:-}" ]]; then
  cmake -S "$ROOT" -B "$ROOT/build-bench" -DCMAKE_BUILD_TYPE=Release > /dev/null
  cmake --build "$ROOT/build-bench" --target onnxc -j2 > "$HERE/.cache-build.log" 2>&1 || {
    tail -20 "$HERE/.cache-build.log" >&2
    echo "bench: building onnxc failed (log: bench/.cache-build.log)" >&2
    exit 1
  }
fi

exec "$PYTHON" "$HERE/bench.py" --onnxc "$ROOT/build-bench/onnxc" "$@"
