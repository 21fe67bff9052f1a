#!/usr/bin/env bash
# From a fresh checkout to a working onnxc: installs the dependencies, builds
# a Release build into build/, shows onnxc on the bundled example model
# (dump the optimized IR, run it on its sample input, verify the passes),
# compiles that model to an object file and header, and builds and runs the
# example application (examples/app) on the bundled image as an outside
# CMake project that finds onnxc with find_package.
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

# The bundled classifier: compile it by hand, then let the example's CMake
# project compile it again through onnxc_add_model().
bundled=tests/models/cnn_small_op17/model.onnx
build_abs="$(cd "$build" && pwd)"
echo
echo "== $build/onnxc compile $bundled -o $build/quickstart/model.o --name model"
mkdir -p "$build/quickstart"
"$build/onnxc" compile "$bundled" -o "$build/quickstart/model.o" --name model
echo "wrote $build/quickstart/model.o and $build/quickstart/model.h (see docs/ABI.md)"

app="$build/quickstart/app"
echo
echo "== examples/app: cmake -S examples/app -B $app -Donnxc_DIR=$build_abs"
cmake -S examples/app -B "$app" -DCMAKE_BUILD_TYPE=Release -Donnxc_DIR="$build_abs" >/dev/null
cmake --build "$app" >/dev/null
echo
echo "== $app/classify examples/app/cat.ppm"
"$app/classify" examples/app/cat.ppm
echo
echo "quickstart: done. Try '$build/onnxc --help'; run the tests with scripts/test.sh"
