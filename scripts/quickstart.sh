#!/usr/bin/env bash
# From a fresh checkout to a working onnxc: installs the dependencies, builds
# a Release build into build/, and shows onnxc on the bundled example model
# (dump the optimized IR, run it on its sample input, verify the passes).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/install-deps.sh
build="${ONNXC_BUILD_DIR:-build}"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release
cmake --build "$build" -j"$(nproc 2>/dev/null || echo 2)"

example=tests/models/cnn_small_op13
if [[ -f "$example/model.onnx" ]]; then
  model="$example/model.onnx"
else
  model=../shared/onnx-node-tests/test_conv_with_strides_padding/model.onnx
fi

echo
echo "== $build/onnxc dump $model"
"$build/onnxc" dump "$model"
if [[ -f "$example/input_0.npy" && "$model" == "$example/model.onnx" ]]; then
  echo
  echo "== $build/onnxc run $model --input x=$example/input_0.npy"
  "$build/onnxc" run "$model" --input "x=$example/input_0.npy"
fi
echo
echo "== $build/onnxc verify $model"
"$build/onnxc" verify "$model"
echo
echo "quickstart: done. Try '$build/onnxc --help'; run the tests with scripts/test.sh"
