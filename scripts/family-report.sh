#!/usr/bin/env bash
# Prints a markdown table, one row per model folder given (each holding
# model.onnx and meta.json as tests/models/* do, optionally input_0.npy and
# output_0.npy): opset, ONNX nodes, nodes after the pipeline, fused-op
# counts, compile time, .o size, workspace vs liveness lower bound, and the
# compiled model's max error against PyTorch's output.  A documentation
# tool (docs/MODELS.md), not a test; needs /usr/bin/python3 with numpy.
#   scripts/family-report.sh [-b BUILD] DIR...
set -euo pipefail
build=build
if [[ "${1:-}" == "-b" ]]; then build="$2"; shift 2; fi
onnxc="$build/onnxc"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cat > "$work/harness.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include "m.h"
int main(int argc, char **argv) {
  float *in = malloc(sizeof(float) * M_INPUT_0_SIZE), *out = malloc(sizeof(float) * M_OUTPUT_0_SIZE);
  void *ws = aligned_alloc(64, (M_WORKSPACE_SIZE + 64) / 64 * 64);
  FILE *f = fopen(argv[1], "rb");
  if (argc != 3 || !f || fread(in, 4, M_INPUT_0_SIZE, f) != M_INPUT_0_SIZE) return 2;
  fclose(f);
  const void *ins[1] = {in}; void *outs[1] = {out};
  if (m_run(ins, outs, ws)) return 3;
  f = fopen(argv[2], "wb");
  fwrite(out, 4, M_OUTPUT_0_SIZE, f);
  return fclose(f) != 0;
}
C
meta() { /usr/bin/python3 -c "import json,sys; m=json.load(open(sys.argv[1])); print($2)" "$1"; }
echo "| model | opset | ONNX nodes | after passes | FusedConv | FusedMatMul | LayerNorm | Gelu | Attention | BatchNorm left | compile s | .o MB | workspace / bound | max err / max\|ref\| | argmax |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
for d in "$@"; do
  name="$(basename "$d")"
  spec="$(meta "$d/meta.json" "m['input_name']+'='+','.join(str(x) for x in m['input_shape'])")"
  opset="$(meta "$d/meta.json" "m.get('opset','?')")"
  onnx_nodes="$(meta "$d/meta.json" "m.get('onnx_nodes','?')")"
  "$onnxc" dump "$d/model.onnx" --input-shape "$spec" > "$work/ir.txt"
  after="$(grep -E '^  %[^=]+ = [A-Za-z]' "$work/ir.txt" | grep -vc ' = const ' || true)"
  count() { grep -c "$1" "$work/ir.txt" || true; }
  t0=$(date +%s.%N)
  "$onnxc" compile "$d/model.onnx" --input-shape "$spec" -o "$work/m.o" --header "$work/m.h" --name m \
      --print-memory-plan 2> "$work/plan.txt"
  t1=$(date +%s.%N)
  ws="$(grep -o 'workspace size: [0-9]*' "$work/plan.txt" | grep -o '[0-9]*$')"
  lb="$(grep -o 'peak live): [0-9]*' "$work/plan.txt" | grep -o '[0-9]*$')"
  err="-"; arg="-"
  if [[ -f "$d/input_0.npy" && -f "$d/output_0.npy" ]]; then
    (cd "$work" && cc -O1 -o h harness.c m.o -lm)
    /usr/bin/python3 -c "import numpy as np,sys; np.load(sys.argv[1]).astype('float32').tofile(sys.argv[2])" "$d/input_0.npy" "$work/in.bin"
    "$work/h" "$work/in.bin" "$work/out.bin"
    read -r err arg < <(/usr/bin/python3 -c "
import numpy as np,sys
r=np.load(sys.argv[1]).astype('float32'); g=np.fromfile(sys.argv[2],dtype='float32').reshape(r.shape)
e=np.abs(g-r).max()/max(np.abs(r).max(),1e-30)
same=(g.reshape(-1,r.shape[-1]).argmax(-1)==r.reshape(-1,r.shape[-1]).argmax(-1)).all()
print('%.1e'%e, 'equal' if same else 'DIFFERENT')" "$d/output_0.npy" "$work/out.bin")
  fi
  printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %.1f | %.2f | %s / %s | %s | %s |\n' \
    "$name" "$opset" "$onnx_nodes" "$after" "$(count 'onnxc.FusedConv ')" "$(count 'onnxc.FusedMatMul ')" \
    "$(count ' LayerNormalization ')" "$(count 'Gelu')" "$(count 'onnxc.Attention ')" \
    "$(count ' BatchNormalization ')" "$(echo "$t1 - $t0" | bc)" \
    "$(echo "scale=2; $(stat -c %s "$work/m.o") / 1048576" | bc)" "$ws" "$lb" "$err" "$arg"
done
