#!/usr/bin/env bash
# The shared-object path end to end: `onnxc compile --emit=shared` on the bundled model and
# on a small ViT, checks that each .so exports only its entry points, loads each from Python
# with examples/python/run_shared.py (ctypes + numpy) in the bench's virtual environment
# (bench/venv.sh) and compares every output with ONNX Runtime.  test.sh runs it.
#   test-python-example.sh [BUILD_DIR]   (default: build)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
onnxc="$(cd "${1:-$root/build}" && pwd)/onnxc"
python="$("$root/bench/venv.sh")"
tmp="$(mktemp -d /tmp/onnxc-python-XXXXXX)"
trap 'rm -rf "$tmp"' EXIT

for model in cnn_small_op17 vit_ti_reduced_op17; do
  echo "== $model: onnxc compile --emit=shared"
  "$onnxc" compile "$root/tests/models/$model/model.onnx" --emit=shared -o "$tmp/lib$model.so" \
    --name "$model"
  exported="$(nm -D --defined-only "$tmp/lib$model.so" | awk '{print $3}' | sort | tr '\n' ' ')"
  [[ "$exported" == "${model}_run ${model}_run_parallel " ]] ||
    { echo "FAIL: lib$model.so exports: $exported"; exit 1; }
  readelf -d "$tmp/lib$model.so" | grep -q 'BIND_NOW' ||
    { echo "FAIL: lib$model.so is not linked with -z now"; exit 1; }
  "$python" "$root/examples/python/run_shared.py" "$root/tests/models/$model/model.onnx" \
    "$tmp/lib$model.so" "$tmp/lib$model.h" "$model"
done

echo "== a C compiler that does not exist: a clear error, no output left"
if CC=/nonexistent/cc "$onnxc" compile "$root/tests/models/cnn_small_op17/model.onnx" \
     --emit=shared -o "$tmp/bad.so" 2>"$tmp/err.txt"; then
  echo "FAIL: linking with a missing CC succeeded"; exit 1
fi
grep -q "cannot run the C compiler '/nonexistent/cc'" "$tmp/err.txt" ||
  { cat "$tmp/err.txt"; echo "FAIL: no clear error for a missing CC"; exit 1; }
[[ -z "$(find "$tmp" -name 'bad.*' -o -name '.onnxc-*')" ]] ||
  { find "$tmp"; echo "FAIL: files left behind"; exit 1; }
echo "python example: ok"
