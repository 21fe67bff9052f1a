#!/usr/bin/env bash
# onnxc_add_model() from an outside project (tests/cmake/model_options), against onnxc's
# build tree, with Ninja and with Unix Makefiles, then cross-compiled for aarch64 with a
# toolchain file and run under qemu.  For each generator:
#   - every option reaches onnxc (the header's Command line shows its flag), and every
#     runner's output matches the reference evaluator (`onnxc run`) on the same input;
#   - a second build does nothing; touching the model recompiles the models made from it
#     and only those; changing one model's option recompiles that model only.
#   run_test.sh ONNXC NPY_MAXDIFF BUILD_DIR SOURCE_DIR
set -euo pipefail
onnxc="$1" maxdiff="$2" build="$3" src="$4"
here="$src/tests/cmake/model_options"
tmp="$(mktemp -d /tmp/onnxc-cmake-XXXXXX)"
trap 'rm -rf "$tmp"' EXIT
unset CFLAGS LDFLAGS
mkdir "$tmp/models"
cp "$src/tests/models/cnn_small_op17/model.onnx" "$tmp/models/cnn.onnx"
cp "$src/tests/models/vit_tiny_op17_dynbatch/model.onnx" "$tmp/models/vit_dynbatch.onnx"

fail() { echo "FAIL: $*"; exit 1; }

# check_outputs BINARY_DIR [RUN_PREFIX...]: every runner against `onnxc run`.
check_outputs() {
  local bin="$1"; shift
  local runners; read -r -a runners < <(tr ';' ' ' < "$bin/runners.txt")
  for r in "${runners[@]}"; do
    local out="$bin/out-$r" model="$tmp/models/cnn.onnx" shape=()
    [[ "$r" == shaped ]] && { model="$tmp/models/vit_dynbatch.onnx"; shape=(--input-shape x=2,3,32,32); }
    rm -rf "$out" "$out-ref"; mkdir "$out"
    "$@" "$bin/run_$r" "$out" "$(cat "$bin/weights_file.txt")" > "$out/log.txt" ||
      { cat "$out/log.txt"; fail "run_$r failed"; }
    "$onnxc" run "$model" "${shape[@]}" --input "x=$out/input.npy" --output-dir "$out-ref" >/dev/null
    read -r abs ref < <("$maxdiff" "$out/output.npy" "$out-ref/y.npy")
    awk -v a="$abs" -v r="$ref" 'BEGIN { exit !(a <= 1e-4 * r) }' ||
      fail "run_$r: max abs error $abs against the reference's max $ref"
    echo "ok: run_$r matches onnxc run (max abs error $abs, max $ref)"
  done
}

# flag_in OBJ_DIR FLAG: the header was made by a command with FLAG.
flag_in() { grep -q -- "^ \* Command: .* $2\( \|$\)" "$1/model.h" || fail "$1/model.h: no $2 in its Command line"; }

# newer MARKER: the model objects written after MARKER, as "dir dir ..." (sorted).
newer() { (cd "$bin" && find . -name model.o -newer "$1" | sed 's|^\./||; s|/model.o$||' | sort | tr '\n' ' '); }

for gen in Ninja "Unix Makefiles"; do
  bin="$tmp/bin-${gen// /-}"
  echo "== $gen: configure and build"
  cmake -S "$here" -B "$bin" -G "$gen" -Donnxc_DIR="$build" -DMODELS_DIR="$tmp/models" \
    >"$bin.log" 2>&1 || { cat "$bin.log"; fail "configure ($gen)"; }
  cmake --build "$bin" >"$bin.log" 2>&1 || { cat "$bin.log"; fail "build ($gen)"; }
  flag_in "$bin/onnxc_plain" -O3
  flag_in "$bin/onnxc_weights" "--weights=$bin/onnxc_weights/cnn.weights"
  [[ -f "$bin/onnxc_weights/cnn.weights" ]] || fail "no weights file"
  flag_in "$bin/onnxc_profiled" --profile
  flag_in "$bin/onnxc_profiled" -O1
  flag_in "$bin/onnxc_extra" --reference-kernels
  flag_in "$bin/onnxc_extra" --min-task-us=50
  flag_in "$bin/shaped_model" "--input-shape x=2,3,32,32"
  flag_in "$bin/onnxc_mattr" -mattr=+avx2,+fma
  flag_in "$bin/onnxc_mattr" -mcpu=x86-64
  grep -q '#define MODEL_INPUT_0_SHAPE *{2, 3, 32, 32}' "$bin/shaped_model/model.h" ||
    fail "INPUT_SHAPE did not fix the batch"
  check_outputs "$bin"

  echo "== $gen: rebuilds"
  touch "$tmp/mark0"; sleep 1.1
  cmake --build "$bin" >"$bin.log" 2>&1 || { cat "$bin.log"; fail "rebuild ($gen)"; }
  [[ -z "$(newer "$tmp/mark0")" ]] || fail "a build with nothing changed recompiled: $(newer "$tmp/mark0")"
  touch "$tmp/models/cnn.onnx"; touch "$tmp/mark1"; sleep 1.1
  cmake --build "$bin" >"$bin.log" 2>&1 || { cat "$bin.log"; fail "rebuild ($gen)"; }
  [[ "$(newer "$tmp/mark1")" == "onnxc_extra onnxc_mattr onnxc_plain onnxc_profiled onnxc_weights " ]] ||
    fail "touching cnn.onnx recompiled: '$(newer "$tmp/mark1")'"
  touch "$tmp/mark2"; sleep 1.1
  cmake -S "$here" -B "$bin" -DPLAIN_OPT_LEVEL=2 >"$bin.log" 2>&1 || { cat "$bin.log"; fail "reconfigure"; }
  cmake --build "$bin" >"$bin.log" 2>&1 || { cat "$bin.log"; fail "rebuild ($gen)"; }
  [[ "$(newer "$tmp/mark2")" == "onnxc_plain " ]] ||
    fail "changing OPT_LEVEL of one model recompiled: '$(newer "$tmp/mark2")'"
  flag_in "$bin/onnxc_plain" -O2
  echo "ok: $gen: no-op, model and option rebuilds are exact"
done

echo "== cross-compiled for aarch64 (toolchain file), run under qemu"
bin="$tmp/bin-aarch64"
cat > "$tmp/aarch64.cmake" <<'EOT'
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
EOT
cmake -S "$here" -B "$bin" -G Ninja -DCMAKE_TOOLCHAIN_FILE="$tmp/aarch64.cmake" \
  -Donnxc_DIR="$build" -DMODELS_DIR="$tmp/models" >"$bin.log" 2>&1 || { cat "$bin.log"; fail "configure (aarch64)"; }
cmake --build "$bin" >"$bin.log" 2>&1 || { cat "$bin.log"; fail "build (aarch64)"; }
flag_in "$bin/onnxc_plain" "--target aarch64-linux-gnu"
flag_in "$bin/onnxc_plain" -mcpu=generic
readelf -h "$bin/run_plain" | grep -q "Machine: *AArch64" || fail "run_plain is not an aarch64 program"
check_outputs "$bin" qemu-aarch64 -L /usr/aarch64-linux-gnu
echo "cmake model options test: ok"
