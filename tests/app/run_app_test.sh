#!/usr/bin/env bash
# End-to-end test of the CMake integration and the example application:
# configures examples/app as an OUTSIDE project, once against onnxc's build
# tree (-Donnxc_DIR=<build>) and once against an install of it
# (cmake --install; -Donnxc_DIR=<prefix>/lib/cmake/onnxc), builds it (which
# compiles the bundled model through onnxc_add_model), runs `classify` on
# the bundled image with --dump-input, and checks that its top-1 class is
# the one the reference evaluator (`onnxc run`) gives on the same input.
#   run_app_test.sh ONNXC NPY_TOP1 BUILD_DIR SOURCE_DIR
set -euo pipefail
onnxc="$1" top1_tool="$2" build="$3" src="$4"
model="$src/tests/models/cnn_small_op17/model.onnx"
image="$src/examples/app/cat.ppm"
tmp="$(mktemp -d /tmp/onnxc-app-XXXXXX)"
trap 'rm -rf "$tmp"' EXIT

# The compiled model inside the app must not be affected by sanitizer
# settings of the build that runs this test.
unset CFLAGS LDFLAGS

check_app() { # $1: label, $2: onnxc_DIR
  local label="$1" dir="$2" app="$tmp/app-$1"
  echo "== $label: configure examples/app with -Donnxc_DIR=$dir"
  cmake -S "$src/examples/app" -B "$app" -Donnxc_DIR="$dir" -DCMAKE_BUILD_TYPE=Release \
        -DONNXC_APP_MODEL="$model" >"$tmp/$label-configure.log" 2>&1 ||
    { cat "$tmp/$label-configure.log"; echo "FAIL: configure ($label)"; exit 1; }
  cmake --build "$app" >"$tmp/$label-build.log" 2>&1 ||
    { cat "$tmp/$label-build.log"; echo "FAIL: build ($label)"; exit 1; }
  "$app/classify" "$image" --dump-input "$tmp/$label-input.npy" | tee "$tmp/$label-out.txt"
  local got
  got="$(sed -n 's/^  1\. class \([0-9]*\) .*/\1/p' "$tmp/$label-out.txt")"
  [[ -n "$got" ]] || { echo "FAIL: no top-1 line in classify's output ($label)"; exit 1; }
  echo "== reference: onnxc run on the same preprocessed input"
  rm -rf "$tmp/ref"
  "$onnxc" run "$model" --input "x=$tmp/$label-input.npy" --output-dir "$tmp/ref"
  local want
  want="$("$top1_tool" "$tmp/ref/y.npy")"
  if [[ "$got" != "$want" ]]; then
    echo "FAIL: $label: classify says top-1 class $got, the reference evaluator $want"
    exit 1
  fi
  echo "ok: $label: top-1 class $got agrees with the reference evaluator"
  # More threads (onnxc::runtime's pool): the very same printout.
  for t in 2 3; do
    "$app/classify" "$image" --threads "$t" > "$tmp/$label-out-$t.txt"
    cmp -s "$tmp/$label-out.txt" "$tmp/$label-out-$t.txt" ||
      { diff "$tmp/$label-out.txt" "$tmp/$label-out-$t.txt"; echo "FAIL: $label: --threads $t differs"; exit 1; }
  done
  echo "ok: $label: --threads 2 and 3 print the same scores"
}

check_app build-tree "$build"

echo "== cmake --install $build --prefix $tmp/prefix"
cmake --install "$build" --prefix "$tmp/prefix" >"$tmp/install.log" 2>&1 ||
  { cat "$tmp/install.log"; echo "FAIL: install"; exit 1; }
[[ -x "$tmp/prefix/bin/onnxc" ]] || { echo "FAIL: bin/onnxc not installed"; exit 1; }
cfg="$(dirname "$(find "$tmp/prefix" -name onnxcConfig.cmake | head -1)")"
[[ -f "$cfg/OnnxcModel.cmake" ]] || { echo "FAIL: OnnxcModel.cmake not installed"; exit 1; }
for f in include/onnxc/onnxc_pool.h lib/libonnxc_runtime.a; do
  [[ -f "$tmp/prefix/$f" ]] || { echo "FAIL: $f not installed"; exit 1; }
done
check_app installed "$cfg"
grep -rq "$tmp/prefix/bin/onnxc" "$tmp/app-installed/CMakeFiles" ||
  { echo "FAIL: the installed package's build did not use the installed onnxc"; exit 1; }

echo "== relocatable: no build or source path in the installed text files; the prefix moved"
if grep -rlI -e "$build" -e "$src" "$tmp/prefix" --exclude=onnxc; then
  echo "FAIL: the files above name the build or source folder"; exit 1
fi
mv "$tmp/prefix" "$tmp/moved"
check_app moved "$tmp/moved/${cfg#"$tmp/prefix/"}"
grep -rq "$tmp/moved/bin/onnxc" "$tmp/app-moved/CMakeFiles" ||
  { echo "FAIL: the moved package's build did not use the moved onnxc"; exit 1; }

echo "== without CMake: examples/app/Makefile, the moved onnxc and pkg-config onnxc-runtime"
mkdir -p "$tmp/pc"
cp "$src/examples/app/"{Makefile,main.c,image.c,image.h} "$tmp/pc/"
PKG_CONFIG_PATH="$tmp/moved/lib/pkgconfig" make -C "$tmp/pc" ONNXC="$tmp/moved/bin/onnxc" \
  MODEL="$model" >"$tmp/pc/make.log" 2>&1 || { cat "$tmp/pc/make.log"; echo "FAIL: make"; exit 1; }
grep -q -- "-I$tmp/moved/lib/pkgconfig/../../include/onnxc" "$tmp/pc/make.log" ||
  { cat "$tmp/pc/make.log"; echo "FAIL: pkg-config's flags do not point into the moved prefix"; exit 1; }
"$tmp/pc/classify" "$image" --threads 2 > "$tmp/pc/out.txt"
cmp -s "$tmp/pc/out.txt" "$tmp/build-tree-out.txt" ||
  { diff "$tmp/build-tree-out.txt" "$tmp/pc/out.txt"; echo "FAIL: the Makefile build prints other scores"; exit 1; }
echo "ok: examples/app/Makefile with pkg-config's flags, same scores at 2 threads"
echo "app test: ok"
