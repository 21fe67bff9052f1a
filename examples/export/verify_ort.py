"""
Independent check of exported fixtures with onnxruntime: for every
<dir>/*/model.onnx, runs ORT (CPU, all graph optimisations off, so ORT
executes the graph as exported) on input_0.npy and compares with the
PyTorch reference output_0.npy.  Prints a Markdown table (max abs error,
max |ref|) and exits non-zero if any case exceeds the tolerance.
Runs in a venv with onnxruntime + onnx + numpy (see docs/FIXTURES.md).
Usage: verify_ort.py DIR [DIR ...] [--tol 1e-4]
"""
import glob
import json
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort


def check(case_dir):
    path = os.path.join(case_dir, "model.onnx")
    onnx.checker.check_model(path)
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
    x = np.load(os.path.join(case_dir, "input_0.npy"))
    ref = np.load(os.path.join(case_dir, "output_0.npy"))
    (y,) = sess.run(None, {sess.get_inputs()[0].name: x})
    if y.shape != ref.shape:
        raise RuntimeError(f"shape {y.shape} != reference {ref.shape}")
    return float(np.max(np.abs(y - ref))), float(np.max(np.abs(ref)))


def main():
    tol = 1e-4
    dirs = []
    argv = sys.argv[1:]
    i = 0
    while i < len(argv):
        if argv[i] == "--tol":
            tol = float(argv[i + 1])
            i += 2
        else:
            dirs.append(argv[i])
            i += 1
    if not dirs:
        sys.exit("usage: verify_ort.py DIR [DIR ...] [--tol T]")
    failed = 0
    print(f"onnxruntime {ort.__version__}, tolerance {tol:g}\n")
    print("| case | opset | const-fold | ONNX nodes | max abs err | max abs ref |")
    print("| --- | --- | --- | --- | --- | --- |")
    for d in dirs:
        for case_dir in sorted(glob.glob(os.path.join(d, "*", ""))):
            if not os.path.exists(os.path.join(case_dir, "model.onnx")):
                continue
            meta = json.load(open(os.path.join(case_dir, "meta.json")))
            name = os.path.basename(os.path.normpath(case_dir))
            try:
                err, mag = check(case_dir)
                status = "" if err <= tol else " FAIL"
                failed += err > tol
                print(f"| {name} | {meta['opset']} | {meta['do_constant_folding']} | "
                      f"{meta['onnx_nodes']} | {err:.3g}{status} | {mag:.3g} |", flush=True)
            except Exception as e:  # report every case, then fail
                failed += 1
                print(f"| {name} | {meta['opset']} | - | - | ERROR: {e} | - |", flush=True)
    print(f"\n{failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
