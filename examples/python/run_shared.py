#!/usr/bin/env python3
"""Loads a model compiled with `onnxc compile --emit=shared` through ctypes, runs it on
random inputs with numpy, and compares every output with ONNX Runtime.
Usage: run_shared.py MODEL.onnx LIBNET.so LIBNET.h PREFIX"""
import ctypes, re, sys
import numpy as np, onnxruntime as ort

model, library, header, prefix = sys.argv[1:5]
text = open(header).read()
def macro(key):  # "#define NET_INPUT_0_SHAPE {1, 3, 32, 32}" -> "{1, 3, 32, 32}"
    return re.search(rf"^#define {prefix.upper()}_{key}\s+([^/\n]*)", text, re.M).group(1).strip()
def tensor(kind, i, fill):
    shape = [int(d) for d in macro(f"{kind}_{i}_SHAPE").strip("{}").split(",") if d.strip()]
    return fill(shape, np.dtype(macro(f"{kind}_{i}_DTYPE").strip('"')))
rng = np.random.default_rng(0)
ins = [tensor("INPUT", i, lambda s, t: rng.standard_normal(s).astype(t)) for i in range(int(macro("NUM_INPUTS")))]
outs = [tensor("OUTPUT", i, np.empty) for i in range(int(macro("NUM_OUTPUTS")))]
align = int(macro("WORKSPACE_ALIGN"))
space = np.empty(int(macro("WORKSPACE_SIZE")) + align, np.uint8)
workspace = space.ctypes.data + (-space.ctypes.data) % align
pointers = lambda arrays: (ctypes.c_void_p * len(arrays))(*[a.ctypes.data for a in arrays])
run = getattr(ctypes.CDLL(library), f"{prefix}_run")
assert run(pointers(ins), pointers(outs), ctypes.c_void_p(workspace)) == 0, "run failed"
session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
wants = session.run(None, {v.name: x for v, x in zip(session.get_inputs(), ins)})
for got, want, v in zip(outs, wants, session.get_outputs()):
    error = float(np.abs(got - want).max() / max(float(np.abs(want).max()), 1e-30))
    print(f"{v.name} {list(got.shape)}: max relative error vs ONNX Runtime {error:.2e}")
    assert got.shape == want.shape and error <= 1e-4, f"{v.name}: differs from ONNX Runtime"
