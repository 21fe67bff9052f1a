#!/usr/bin/env bash
# Installs what onnxc needs to build and test, on Debian 12 (bookworm), and
# only what is missing: a second run changes nothing and needs no network.
# Uses sudo when not run as root.  Called by quickstart.sh and test.sh.
set -euo pipefail

# libc6-dev-arm64-cross: aarch64 libc headers for the aarch64 kernel bitcode
# (--target aarch64-...); gcc-aarch64-linux-gnu and qemu-user let
# test_cg_cross link and run the cross-compiled objects.
# libclang-rt-19-dev: libFuzzer and the sanitizer runtimes of clang-19 for
# scripts/fuzz.sh (ONNXC_FUZZ) and scripts/tsan.sh (ThreadSanitizer), which
# test.sh runs too.  ninja-build: the outside-project tests of onnxc_add_model()
# use Ninja and Makefiles; python3-venv: the bench's venv, in which test.sh
# runs the Python (ctypes) example.
packages=(cmake ninja-build build-essential pkg-config python3-venv llvm-19-dev clang-19 libprotobuf-c-dev protobuf-c-compiler
          libcmocka-dev libc6-dev-arm64-cross gcc-aarch64-linux-gnu qemu-user libclang-rt-19-dev)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if ((${#missing[@]} == 0)); then
  echo "install-deps: all dependencies are installed"
  exit 0
fi

sudo=()
if [[ "$(id -u)" -ne 0 ]]; then
  command -v sudo >/dev/null ||
    { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
echo "install-deps: installing ${missing[*]}"
"${sudo[@]}" apt-get update
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
