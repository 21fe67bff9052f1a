"""
Runs a built onnxc on exported fixture cases and reports, per case: does
it load, how many nodes remain after the pass pipeline (from `onnxc dump`),
which shape-computation ops (Shape, Size, ConstantOfShape, Range) survive,
and whether `onnxc run` reproduces output_0.npy (max abs error).  Cases
with a symbolic input dim get --input-shape from meta.json.  Status
report only (the exporters' reference outputs are the oracle); exits 1 if
any case fails to load/run or exceeds the tolerance.
Usage: check_onnxc.py ONNXC DIR [DIR ...] [--tol 1e-4] [--no-run]
"""
import glob
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

SHAPE_OPS = ("Shape", "Size", "ConstantOfShape", "Range")
NODE_RE = re.compile(r"^\s+%\S+(?:\s*,\s*%\S+)*\s*=\s*([A-Za-z_][A-Za-z0-9_]*)\b")


def first_error(text):
    lines = [l for l in text.strip().splitlines() if l.strip()]
    return lines[-1][:200] if lines else "(no message)"


def run_case(onnxc, case_dir, tol, do_run):
    meta = json.load(open(os.path.join(case_dir, "meta.json")))
    model = os.path.join(case_dir, "model.onnx")
    flags = []
    if any(isinstance(d, str) for d in meta["onnx_input_shape"]):
        flags.append(f"--input-shape={meta['input_name']}=" +
                     ",".join(str(d) for d in meta["input_shape"]))
    row = {"case": os.path.basename(os.path.normpath(case_dir)), "onnx_nodes": meta["onnx_nodes"]}
    t0 = time.time()
    p = subprocess.run([onnxc, "dump", model] + flags, capture_output=True, text=True,
                       timeout=1200)
    row["dump_s"] = time.time() - t0
    if p.returncode != 0:
        row["error"] = "dump: " + first_error(p.stderr)
        return row
    ops = {}
    for line in p.stdout.splitlines():
        m = NODE_RE.match(line)
        if m and m.group(1) != "const":
            ops[m.group(1)] = ops.get(m.group(1), 0) + 1
    row["nodes"] = sum(ops.values())
    row["shape_ops"] = {k: ops[k] for k in SHAPE_OPS if k in ops}
    if not do_run:
        return row
    with tempfile.TemporaryDirectory() as out:
        inp = os.path.join(case_dir, "input_0.npy")
        t0 = time.time()
        p = subprocess.run([onnxc, "run", model, "--input", f"{meta['input_name']}={inp}",
                            "--output-dir", out] + flags, capture_output=True, text=True,
                           timeout=3600)
        row["run_s"] = time.time() - t0
        if p.returncode != 0:
            row["error"] = "run: " + first_error(p.stderr)
            return row
        got_path = os.path.join(out, meta["output_name"] + ".npy")
        if not os.path.exists(got_path):
            row["error"] = "run: no " + meta["output_name"] + ".npy written"
            return row
        got = np.load(got_path)
        ref = np.load(os.path.join(case_dir, "output_0.npy"))
        if got.shape != ref.shape:
            row["error"] = f"run: output shape {got.shape} != {ref.shape}"
            return row
        row["err"] = float(np.max(np.abs(got.astype(np.float64) - ref)))
        if not row["err"] <= tol:
            row["error"] = f"max abs err {row['err']:.3g} > {tol:g}"
    return row


def main():
    argv = sys.argv[1:]
    tol, do_run, pos = 1e-4, True, []
    i = 0
    while i < len(argv):
        if argv[i] == "--tol":
            tol = float(argv[i + 1])
            i += 1
        elif argv[i] == "--no-run":
            do_run = False
        else:
            pos.append(argv[i])
        i += 1
    if len(pos) < 2:
        sys.exit("usage: check_onnxc.py ONNXC DIR [DIR ...] [--tol T] [--no-run]")
    onnxc, dirs = pos[0], pos[1:]
    print("| case | ONNX nodes | loads | nodes after pipeline | Shape/Size/ConstantOfShape/Range left | run max abs err | dump s | run s |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    bad = 0
    for d in dirs:
        for case_dir in sorted(glob.glob(os.path.join(d, "*", ""))):
            if not os.path.exists(os.path.join(case_dir, "meta.json")):
                continue
            try:
                r = run_case(onnxc, case_dir, tol, do_run)
            except subprocess.TimeoutExpired as e:
                r = {"case": os.path.basename(os.path.normpath(case_dir)), "onnx_nodes": "?",
                     "error": f"timeout after {e.timeout}s"}
            loads = "yes" if "nodes" in r else "NO"
            left = ", ".join(f"{k} {v}" for k, v in r.get("shape_ops", {}).items()) or \
                ("none" if "nodes" in r else "-")
            err = f"{r['err']:.3g}" if "err" in r else "-"
            if "error" in r:
                bad += 1
                err += f" ({r['error']})"
            print(f"| {r['case']} | {r['onnx_nodes']} | {loads} | {r.get('nodes', '-')} | {left} | "
                  f"{err} | {r.get('dump_s', 0):.2f} | {r.get('run_s', 0):.2f} |", flush=True)
    print(f"\n{bad} failed")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
