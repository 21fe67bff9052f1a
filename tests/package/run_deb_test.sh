#!/usr/bin/env bash
# The Debian package: `cpack -G DEB` on the build, then checks its name, its dependencies
# (LLVM 19 and protobuf-c runtime libraries, from dpkg-shlibdeps) and its file list, unpacks
# it with `dpkg-deb -x` into an empty folder and, with the unpacked files only, compiles the
# bundled model and builds examples/app (as installed under share/doc) twice: with CMake
# (find_package(onnxc) from the unpacked tree) and with its Makefile and pkg-config.  The
# top-1 class of both must be the reference evaluator's.
#   run_deb_test.sh BUILD_DIR SOURCE_DIR NPY_TOP1
set -euo pipefail
build="$1" src="$2" top1_tool="$3"
tmp="$(mktemp -d /tmp/onnxc-deb-XXXXXX)"
trap 'rm -rf "$tmp"' EXIT
unset CFLAGS LDFLAGS
fail() { echo "FAIL: $*"; exit 1; }

echo "== cpack -G DEB"
(cd "$build" && cpack -G DEB -B "$tmp/pkg") >"$tmp/cpack.log" 2>&1 || { cat "$tmp/cpack.log"; fail "cpack"; }
version="$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")"
deb="$tmp/pkg/onnxc_${version}_$(dpkg --print-architecture).deb"
[[ -f "$deb" ]] || { ls "$tmp/pkg"; fail "no $deb"; }
echo "$(basename "$deb"): $(du -k "$deb" | cut -f1) KiB"
depends="$(dpkg-deb -f "$deb" Depends)"
echo "Depends: $depends"
for lib in libllvm19 libprotobuf-c1 libc6; do
  [[ "$depends" == *"$lib"* ]] || fail "Depends lacks $lib"
done
dpkg-deb -c "$deb" | awk '{print $6}' > "$tmp/contents.txt"
for f in ./usr/bin/onnxc ./usr/include/onnxc/onnxc_pool.h ./usr/lib/libonnxc_runtime.a \
         ./usr/lib/cmake/onnxc/onnxcConfig.cmake ./usr/lib/cmake/onnxc/OnnxcModel.cmake \
         ./usr/lib/pkgconfig/onnxc-runtime.pc ./usr/share/man/man1/onnxc.1 \
         ./usr/share/doc/onnxc/README.md ./usr/share/doc/onnxc/examples/app/Makefile \
         ./usr/share/doc/onnxc/examples/python/run_shared.py; do
  grep -qxF "$f" "$tmp/contents.txt" || fail "the package lacks $f"
done

echo "== dpkg-deb -x into an empty folder; the unpacked files only"
dpkg-deb -x "$deb" "$tmp/root"
usr="$tmp/root/usr"
model="$src/tests/models/cnn_small_op17/model.onnx"
image="$usr/share/doc/onnxc/examples/app/cat.ppm"
"$usr/bin/onnxc" --version | grep -q "^LLVM 19" || fail "the unpacked onnxc does not run"

cp -r "$usr/share/doc/onnxc/examples/app" "$tmp/make-app"
PKG_CONFIG_PATH="$usr/lib/pkgconfig" make -C "$tmp/make-app" ONNXC="$usr/bin/onnxc" MODEL="$model" \
  >"$tmp/make.log" 2>&1 || { cat "$tmp/make.log"; fail "make"; }
"$tmp/make-app/classify" "$image" --dump-input "$tmp/input.npy" > "$tmp/make-out.txt"

cmake -S "$usr/share/doc/onnxc/examples/app" -B "$tmp/cmake-app" -Donnxc_DIR="$usr/lib/cmake/onnxc" \
  -DONNXC_APP_MODEL="$model" >"$tmp/cmake.log" 2>&1 || { cat "$tmp/cmake.log"; fail "cmake configure"; }
cmake --build "$tmp/cmake-app" >"$tmp/cmake.log" 2>&1 || { cat "$tmp/cmake.log"; fail "cmake build"; }
grep -rq "$usr/bin/onnxc" "$tmp/cmake-app/CMakeFiles" || fail "the CMake build did not use the unpacked onnxc"
"$tmp/cmake-app/classify" "$image" --threads 2 > "$tmp/cmake-out.txt"
cmp -s "$tmp/make-out.txt" "$tmp/cmake-out.txt" || { diff "$tmp/make-out.txt" "$tmp/cmake-out.txt"; fail "the two builds differ"; }

"$usr/bin/onnxc" run "$model" --input "x=$tmp/input.npy" --output-dir "$tmp/ref" >/dev/null
got="$(sed -n 's/^  1\. class \([0-9]*\) .*/\1/p' "$tmp/make-out.txt")"
want="$("$top1_tool" "$tmp/ref/y.npy")"
[[ -n "$got" && "$got" == "$want" ]] || fail "classify says top-1 class '$got', the reference evaluator $want"
echo "ok: built from the unpacked package with make+pkg-config and with CMake; top-1 class $got as the reference"
echo "deb test: ok"
