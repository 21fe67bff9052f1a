#!/usr/bin/env bash
# Regenerates the parts of the docs that a program can produce, so that
# their numbers and examples are the code's, not a memory of it:
#
#   docs/CLI.md       the pass table (onnxc --passes), the dump and
#                     verify --each examples
#   docs/ABI.md       the header example (a real compile, -mcpu=x86-64-v3)
#   docs/FIXTURES.md  the case count and list (meta.json), and what onnxc
#                     does with every case (dump, run against PyTorch)
#   docs/MODELS.md    workspace and liveness lower bound of every fixture
#
# Each part sits between "<!-- BEGIN GENERATED: NAME ... -->" and
# "<!-- END GENERATED: NAME -->" lines; everything else is hand-written.
# With --check nothing is written: the script exits 1 and shows the diff
# when a committed part is stale (ctest -R docs_current).  Only
# CPU-independent output is used (the reference evaluator; a named CPU for
# compiles), so the text is the same on every machine.
#   scripts/gen-docs.sh [--check] [BUILD_DIR]      (default: build)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$PWD"
check=0
if [[ "${1:-}" == "--check" ]]; then check=1; shift; fi
build="$(cd "${1:-build}" && pwd)"
onnxc="$build/onnxc"
maxdiff="$build/tests/onnxc_npy_maxdiff"
for tool in "$onnxc" "$maxdiff"; do
  [[ -x "$tool" ]] || { echo "gen-docs: $tool is not built" >&2; exit 2; }
done
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
conv=../shared/onnx-node-tests/test_conv_with_strides_padding/model.onnx
# Examples run in $work/repo, laid out like the source tree (tests/ and
# ../shared), so that they show the same relative paths as the docs.
repo="$work/repo"
mkdir "$repo"
ln -s "$root/tests" "$repo/tests"
ln -s "$root/../shared" "$work/shared"

# ---- helpers ---------------------------------------------------------------
meta_int() { grep -o "\"$2\": [0-9]*" "$1/meta.json" | grep -o '[0-9]*$'; }
meta_str() { grep -o "\"$2\": \"[^\"]*\"" "$1/meta.json" | sed 's/.*: "//; s/"$//'; }
# A list field of meta.json as "1,3,32,32" (symbolic dims keep their name).
meta_list() {
  awk -v key="\"$2\": \\[" '
    $0 ~ key { on = 1; sub(".*\\[", ""); }
    on { line = line $0; if ($0 ~ /\]/) { on = 0 } }
    END { gsub(/[][ "]/, "", line); sub(/,$/, "", line); print line }' "$1/meta.json"
}
# --input-shape for cases whose export has a symbolic dim.
shape_flag() {
  if [[ "$(meta_list "$1" onnx_input_shape)" =~ [a-z] ]]; then
    echo "--input-shape $(meta_str "$1" input_name)=$(meta_list "$1" input_shape)"
  fi
}
# Node count and ops of an `onnxc dump` text on stdin ("const" excluded).
count_nodes() { awk '/^  %/ && / = / { op = $0; sub(/^[^=]*= /, "", op); sub(/ .*/, "", op);
                                        if (op != "const") n++ } END { print n + 0 }'; }
shape_ops() { awk '/^  %/ && / = / { op = $0; sub(/^[^=]*= /, "", op); sub(/ .*/, "", op);
                                     if (op ~ /^(Shape|Size|ConstantOfShape|Range)$/) c[op]++ }
                   END { s = ""; for (k in c) s = s (s ? ", " : "") k " " c[k]; print s ? s : "none" }'; }

# ---- the generated parts ---------------------------------------------------
gen_passes() {
  echo "| pass | what it does |"
  echo "| ---- | ------------ |"
  "$onnxc" --passes | sed -E 's/^([^ ]+) +(.*)$/| `\1` | \2 |/'
}

gen_dump_example() {
  echo '```'
  echo "\$ onnxc dump $conv"
  (cd "$repo" && "$onnxc" dump "$conv")
  echo '```'
}

gen_verify_example() {
  echo '```'
  echo "\$ onnxc verify $conv --each"
  (cd "$repo" && "$onnxc" verify "$conv" --each)
  echo '```'
}

gen_header_example() {
  local cmd="compile tests/models/cnn_small_op17/model.onnx -o net.o --name net -mcpu=x86-64-v3"
  (cd "$repo" && "$onnxc" $cmd)
  local h="$repo/net.h"
  echo '```c'
  head -4 "$h"
  echo " * ... (the contract of net_run, as below) ..."
  echo " */"
  grep -E '^#define NET_(NUM|WORKSPACE)' "$h"
  echo
  grep -E '^#define NET_INPUT_0_' "$h"
  echo "/* ... NET_OUTPUT_0_* likewise ... */"
  echo
  grep -E '^int net_run\(' "$h"
  echo '```'
}

fixture_dirs() { ls -d "$root"/tests/models/*/ | sed 's:/$::'; }

gen_fixtures_summary() {
  local n=0 bytes=0 largest=0 b
  for d in $(fixture_dirs); do
    b=$(stat -c %s "$d/model.onnx")
    n=$((n + 1)); bytes=$((bytes + b)); ((b > largest)) && largest=$b
  done
  awk -v n="$n" -v t="$bytes" -v l="$largest" 'BEGIN {
    printf "%d cases; their model.onnx files take %.1f MB together, the largest %.2f MB.\n",
           n, t / 1e6, l / 1e6 }'
}

gen_fixtures_cases() {
  echo "| case | opset | exported by torch | ONNX nodes | input | ONNX input | model.onnx bytes |"
  echo "| --- | --- | --- | --- | --- | --- | --- |"
  for d in $(fixture_dirs); do
    printf '| %s | %s | %s | %s | %s=[%s] | [%s] | %s |\n' "$(basename "$d")" \
      "$(meta_int "$d" opset)" "$(meta_str "$d" torch_version)" "$(meta_int "$d" onnx_nodes)" \
      "$(meta_str "$d" input_name)" "$(meta_list "$d" input_shape)" \
      "$(meta_list "$d" onnx_input_shape)" "$(stat -c %s "$d/model.onnx")"
  done
}

gen_fixtures_onnxc() {
  echo "| case | ONNX nodes | loads | nodes after pipeline | shape ops left | run: max abs err | max abs ref |"
  echo "| --- | --- | --- | --- | --- | --- | --- |"
  local d flags out
  for d in $(fixture_dirs); do
    flags="$(shape_flag "$d")"
    out="$work/run-$(basename "$d")"
    if ! "$onnxc" dump "$d/model.onnx" $flags > "$work/ir.txt" 2>/dev/null; then
      printf '| %s | %s | **no** | - | - | - | - |\n' "$(basename "$d")" "$(meta_int "$d" onnx_nodes)"
      continue
    fi
    "$onnxc" run "$d/model.onnx" $flags --input "$(meta_str "$d" input_name)=$d/input_0.npy" \
      --output-dir "$out" > /dev/null
    read -r err ref < <("$maxdiff" "$out/$(meta_str "$d" output_name).npy" "$d/output_0.npy")
    printf '| %s | %s | yes | %s | %s | %s | %s |\n' "$(basename "$d")" \
      "$(meta_int "$d" onnx_nodes)" "$(count_nodes < "$work/ir.txt")" \
      "$(shape_ops < "$work/ir.txt")" "$err" "$ref"
  done
}

gen_workspace() {
  echo "| fixture | workspace bytes | lower bound (peak live) bytes | ratio |"
  echo "| --- | --- | --- | --- |"
  local d
  for d in $(fixture_dirs); do
    "$onnxc" compile "$d/model.onnx" $(shape_flag "$d") --print-memory-plan --emit=llvm -O0 \
      -mcpu=x86-64-v3 -o /dev/null --header /dev/null 2> "$work/plan.txt"
    awk -v name="$(basename "$d")" '
      /^; workspace size:/ { ws = $4 }
      /^; lower bound/ { lb = $6; r = $9; sub(/\)$/, "", r) }
      END { printf "| %s | %s | %s | %s |\n", name, ws, lb, r }' "$work/plan.txt"
  done
}

# ---- splicing --------------------------------------------------------------
# splice FILE NAME GENERATOR: replaces the lines between NAME's markers.
splice() {
  local file="$1" name="$2" gen="$3" target
  target="$([[ $check == 1 ]] && echo "$work/docs/$(basename "$file")" || echo "$file")"
  "$gen" > "$work/part.txt"
  grep -q "^<!-- BEGIN GENERATED: $name " "$target" ||
    { echo "gen-docs: $file has no block '$name'" >&2; exit 2; }
  awk -v name="$name" -v part="$work/part.txt" '
    index($0, "<!-- BEGIN GENERATED: " name " ") == 1 {
      print; while ((getline line < part) > 0) print line; skip = 1; next }
    index($0, "<!-- END GENERATED: " name " ") == 1 { skip = 0 }
    !skip { print }' "$target" > "$work/spliced.txt"
  cat "$work/spliced.txt" > "$target"
}

mkdir -p "$work/docs"
cp docs/*.md "$work/docs/"
splice docs/CLI.md passes gen_passes
splice docs/CLI.md dump-example gen_dump_example
splice docs/CLI.md verify-example gen_verify_example
splice docs/ABI.md header-example gen_header_example
splice docs/FIXTURES.md fixtures-summary gen_fixtures_summary
splice docs/FIXTURES.md fixtures-cases gen_fixtures_cases
splice docs/FIXTURES.md fixtures-onnxc gen_fixtures_onnxc
splice docs/MODELS.md workspace gen_workspace

if [[ $check == 1 ]]; then
  stale=0
  for f in docs/*.md; do
    diff -u "$f" "$work/docs/$(basename "$f")" || stale=1
  done
  if ((stale)); then
    echo "gen-docs: the generated parts of docs/ are stale: run scripts/gen-docs.sh $build" >&2
    exit 1
  fi
  echo "gen-docs: docs are current"
fi
