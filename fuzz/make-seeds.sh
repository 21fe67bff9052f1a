#!/usr/bin/env bash
# Seed corpora and dictionaries for the fuzz targets, made from the tree so
# that they follow it: ONNX models and tensors from the node tests and the
# tests/models fixtures, command lines from fuzz/cli_seeds.txt, the real
# weights file of fuzz_weights, and the saved inputs of tests/fuzz/.
# Dictionaries: ONNX op names (ir/ops.def) and attribute names (every
# ir_attr_*(n, "name") in the sources), each also as the protobuf field it
# is (NodeProto.op_type = field 4, AttributeProto.name = field 1, with the
# length byte); and every option, command and pass name of onnxc.
#   fuzz/make-seeds.sh BUILD_FUZZ_DIR OUT_DIR
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build="$1" out="$2"
nodes=../shared/onnx-node-tests
mkdir -p "$out"/{model,npy,tensor_pb,cli,weights}

# ---- corpora ----
i=0
for m in "$nodes"/*/model.onnx "$nodes"/extra-pytorch-converted/*/model.onnx tests/models/*/model.onnx; do
  [[ -f "$m" ]] && cp "$m" "$out/model/seed-$((i++)).onnx"
done
i=0
for p in "$nodes"/*/test_data_set_0/*.pb; do cp "$p" "$out/tensor_pb/seed-$((i++)).pb"; done
i=0
for n in tests/models/*/*.npy; do
  # The small ones: big arrays only slow the fuzzer down.
  (( $(stat -c %s "$n") <= 65536 )) && cp "$n" "$out/npy/seed-$((i++)).npy"
done
i=0
while IFS= read -r line; do
  [[ -z "$line" || "$line" == \#* ]] && continue
  # arguments separated by NUL, as fuzz_cli splits them
  name="$out/cli/seed-$i"
  i=$((i + 1))
  printf '%s' "$line" | tr ' ' '\0' > "$name"
done < fuzz/cli_seeds.txt
# Built with fuzz_weights only (scripts/fuzz.sh may run other targets alone).
if [[ -f "$build/fuzz/fz/fz.bin" ]]; then cp "$build/fuzz/fz/fz.bin" "$out/weights/seed-fz.bin"; fi
for t in model npy tensor_pb cli weights; do
  if compgen -G "tests/fuzz/$t/*" > /dev/null; then cp tests/fuzz/$t/* "$out/$t/"; fi
done

# ---- dictionaries ----
quote() { printf '"%s"\n' "$1"; }
field() { printf '"\\x%02x\\x%02x%s"\n' "$1" "${#2}" "$2"; } # tag, length, bytes
{
  for op in $(grep -o '^OP([A-Z0-9_]*, *[a-z0-9_]*, *"[^"]*"' ir/ops.def | sed 's/.*"\(.*\)"/\1/' | sort -u); do
    quote "$op"
    field 0x22 "$op"
  done
  for a in $(grep -rhoE 'ir_attr_[a-z_]+\([a-z]+, "[a-z_]+"' ops frontend passes |
             sed -E 's/.*"([a-z_]+)"/\1/' | sort -u); do
    quote "$a"
    field 0x0a "$a"
  done
  for d in ai.onnx com.microsoft onnxc; do quote "$d"; done
} > "$out/onnx.dict"
{
  "$build/onnxc" --help | grep -oE '(^| )-(-?)[a-zA-Z0-9][a-zA-Z0-9-]*' | tr -d ' ' | sort -u |
    while read -r o; do quote "$o"; done
  for c in compile dump run verify help; do quote "$c"; done
  "$build/onnxc" --passes | awk '{ print "\"" $1 "\"" }'
  for v in native generic x86-64-v3 neoverse-n1 aarch64-linux-gnu x86_64-linux-gnu obj asm llvm \
           text dot embed address +avx2 -sse2 +neon 1G 64K; do quote "$v"; done
} > "$out/cli.dict"
echo "make-seeds: $(ls "$out/model" | wc -l) models, $(ls "$out/tensor_pb" | wc -l) tensors," \
     "$(ls "$out/npy" | wc -l) npy, $(ls "$out/cli" | wc -l) command lines;" \
     "$(wc -l < "$out/onnx.dict") + $(wc -l < "$out/cli.dict") dictionary entries"
