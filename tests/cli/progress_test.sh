#!/usr/bin/env bash
# The progress line of `onnxc compile`: on a terminal (script(1) provides one) the stages
# appear, each rewritten in place, and the line is erased at the end; with --quiet, or when
# stderr is a pipe or a file, not one byte of it.
#   progress_test.sh ONNXC MODEL.onnx
set -euo pipefail
onnxc="$1" model="$2"
tmp="$(mktemp -d /tmp/onnxc-progress-XXXXXX)"
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

TERM=xterm script -qec "'$onnxc' compile '$model' -o '$tmp/m.o'" "$tmp/tty.txt" >/dev/null
for stage in "loading the model" "passes" "lowering 0/" "LLVM optimization and code generation"; do
  grep -q "onnxc: $stage" "$tmp/tty.txt" || { cat -v "$tmp/tty.txt"; fail "no '$stage' on the terminal"; }
done
# The last thing written is the erase: carriage return, then clear to the end of the line.
grep -aq $'\r\033\[K' "$tmp/tty.txt" || fail "the line is never erased"
TERM=xterm script -qec "'$onnxc' compile '$model' -o '$tmp/m.o' --quiet" "$tmp/quiet.txt" >/dev/null
if grep -aq "onnxc:" "$tmp/quiet.txt"; then cat -v "$tmp/quiet.txt"; fail "--quiet shows progress"; fi
"$onnxc" compile "$model" -o "$tmp/m.o" 2>"$tmp/err.txt"
[[ ! -s "$tmp/err.txt" ]] || { cat -v "$tmp/err.txt"; fail "progress written to a file"; }
echo "progress line: ok"
