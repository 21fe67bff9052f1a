"""
Exports the CNN-Transformer family models of examples/models/families/
(ViT-Ti, DeiT-Ti, T2T-ViT in Performer and transformer variants, ViTAE-T,
Next-ViT-S, HRFormer-T) to ONNX with seeded random weights.

Debian torch 1.13 (/usr/bin/python3), default mode:
  export_families.py [--fixtures DIR] [--fullsize DIR]
    --fixtures: reduced variants, opset 13 and 17, into
                DIR/<family>_reduced_op<N>/ (default tests/models)
    --fullsize: full-size models at 1x3x224x224, opset 13 and 17, into
                DIR/<family>_op<N>/ (not committed; for benchmarks)
Current PyPI torch (its default exporter, dynamo when that is the default):
  export_families.py --newtorch DIR [--only NAME,...]
    reduced variants into DIR/<family>_reduced_newtorch/
onnxc status of exported cases (no torch needed by this mode):
  export_families.py --check-onnxc ONNXC DIR [DIR ...]
    `onnxc run` (pass: max abs err <= 1e-4 * max|ref| and equal argmax),
    `onnxc verify --each` on the stored input, node count after the
    pipeline; prints a Markdown table, exits 1 if any case fails.
Every case gets model.onnx, input_0.npy, output_0.npy (PyTorch eval output
for the seeded input) and meta.json, the layout of docs/FIXTURES.md.
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "examples"))
from common import onnx_summary, randomize_norms, seed_all  # noqa: E402
from models.families import hrformer, nextvit, t2t, vit, vitae  # noqa: E402

MAX_FIXTURE_BYTES = 2 * 1024 * 1024
MAX_TOTAL_BYTES = 12 * 1024 * 1024

# name, reduced constructor, reduced input side, full-size constructors {suffix: ctor}, seed.
# Reduced inputs are 112x112 where the structure allows it (keeps fixtures
# small); Next-ViT keeps 224 so its E-MHSA pools (sr 8/4/2) see the real
# 56/28/14 maps, HRFormer keeps 224 = 7 * 32 so every branch is whole 7x7
# windows.
FAMILIES = [
    ("vit_ti", vit.vit_ti_reduced, 112, {"vit_ti16": vit.vit_ti_full}, 11),
    ("deit_ti", vit.deit_ti_reduced, 112, {"deit_ti": vit.deit_ti_full}, 12),
    ("t2t_performer", lambda img: t2t.t2t_vit_reduced(True, img), 112,
     {"t2t_vit7_performer": lambda: t2t.t2t_vit_7_full(True),
      "t2t_vit14_performer": lambda: t2t.t2t_vit_14_full(True)}, 13),
    ("t2t_transformer", lambda img: t2t.t2t_vit_reduced(False, img), 112,
     {"t2t_vit7_transformer": lambda: t2t.t2t_vit_7_full(False),
      "t2t_vit14_transformer": lambda: t2t.t2t_vit_14_full(False)}, 14),
    ("vitae_t", vitae.vitae_t_reduced, 112, {"vitae_t": vitae.vitae_t_full}, 15),
    ("nextvit_s", lambda img: nextvit.nextvit_s_reduced(), 224, {"nextvit_s": nextvit.nextvit_s_full}, 16),
    ("hrformer_t", lambda img: hrformer.hrformer_t_reduced(), 224, {"hrformer_t": hrformer.hrformer_t_full},
     17),
]


def build(ctor, seed, *args):
    seed_all(seed)
    model = ctor(*args)
    randomize_norms(model, torch.Generator().manual_seed(seed + 1000))
    return model.eval()


def make_input(side, seed):
    return torch.randn(1, 3, side, side, generator=torch.Generator().manual_seed(seed + 2000))


def write_case(out_dir, path, x, y, opset, exporter, seed, fold=True):
    np.save(os.path.join(out_dir, "input_0.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(out_dir, "output_0.npy"), y.numpy().astype(np.float32))
    nodes, ops = onnx_summary(path)
    meta = {
        "opset": opset,
        "torch_version": torch.__version__,
        "exporter": exporter,
        "do_constant_folding": fold,
        "training_mode": "EVAL",
        "seed": seed,
        "input_name": "x",
        "input_shape": list(x.shape),
        "onnx_input_shape": list(x.shape),
        "output_name": "y",
        "output_shape": list(y.shape),
        "model_bytes": os.path.getsize(path),
        "onnx_nodes": nodes,
        "onnx_ops": ops,
    }
    with open(os.path.join(out_dir, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
    return meta


def export_legacy(model, x, out_dir, opset, seed):
    """torch 1.13's TorchScript exporter, eval mode, constant folding on."""
    os.makedirs(out_dir, exist_ok=True)
    with torch.no_grad():
        y = model(x)
    path = os.path.join(out_dir, "model.onnx")
    torch.onnx.export(model, (x,), path, opset_version=opset, do_constant_folding=True,
                      input_names=["x"], output_names=["y"],
                      training=torch.onnx.TrainingMode.EVAL)
    return write_case(out_dir, path, x, y, opset, "torchscript", seed)


def export_newtorch(model, x, out_dir, seed):
    """The installed torch's default torch.onnx.export (dynamo in torch >= 2.9)."""
    import onnx
    os.makedirs(out_dir, exist_ok=True)
    with torch.no_grad():
        y = model(x)
    path = os.path.join(out_dir, "model.onnx")
    torch.onnx.export(model, (x,), path, input_names=["x"], output_names=["y"])
    # keep weights inline (the dynamo exporter may write external data for
    # large models; reduced ones fit, but make sure it is one file)
    m = onnx.load(path)
    onnx.save_model(m, path, save_as_external_data=False)
    for extra in os.listdir(out_dir):
        if extra.startswith("model.onnx") and extra != "model.onnx":
            os.remove(os.path.join(out_dir, extra))
    opset = next((o.version for o in m.opset_import if o.domain in ("", "ai.onnx")), None)
    major, minor = (int(v) for v in torch.__version__.split(".")[:2])
    exporter = "dynamo (default)" if (major, minor) >= (2, 9) else "torchscript (default)"
    # the dynamo exporter has no do_constant_folding; it runs its own optimizer
    return write_case(out_dir, path, x, y, opset, exporter, seed, fold="optimize")


def last_line(text):
    lines = [l for l in text.strip().splitlines() if l.strip()]
    return lines[-1][:300] if lines else "(no message)"


def check_onnxc_case(onnxc, d):
    meta = json.load(open(os.path.join(d, "meta.json")))
    model = os.path.join(d, "model.onnx")
    inp = f"{meta['input_name']}={os.path.join(d, 'input_0.npy')}"
    shape = []  # symbolic input dims (dynamic-batch cases) are fixed from meta.json
    if any(isinstance(v, str) for v in meta["onnx_input_shape"]):
        shape = ["--input-shape",
                 f"{meta['input_name']}=" + ",".join(str(v) for v in meta["input_shape"])]
    row = {"case": os.path.basename(os.path.normpath(d)), "opset": meta["opset"],
           "onnx_nodes": meta["onnx_nodes"], "ok": True}
    p = subprocess.run([onnxc, "dump", model] + shape, capture_output=True, text=True)
    if p.returncode != 0:
        row.update(ok=False, status="load: " + last_line(p.stderr))
        return row
    # IR lines look like "  %a, %b = Op(...)"; constants print as "= const"
    ops = [l.split("=", 1)[1].split()[0].split("(")[0] for l in p.stdout.splitlines()
           if l.startswith("  %") and "=" in l]
    row["nodes"] = sum(1 for o in ops if o != "const")
    with tempfile.TemporaryDirectory() as out:
        p = subprocess.run([onnxc, "run", model, "--input", inp, "--output-dir", out] + shape,
                           capture_output=True, text=True)
        if p.returncode != 0:
            row.update(ok=False, status="run: " + last_line(p.stderr))
            return row
        got = np.load(os.path.join(out, meta["output_name"] + ".npy"))
    ref = np.load(os.path.join(d, "output_0.npy"))
    if got.shape != ref.shape:
        row.update(ok=False, status=f"run: shape {got.shape} != {ref.shape}")
        return row
    row["err"] = float(np.max(np.abs(got.astype(np.float64) - ref)))
    row["ref"] = float(np.max(np.abs(ref)))
    row["argmax"] = int(got.argmax()) == int(ref.argmax())
    row["ok"] = row["err"] <= 1e-4 * row["ref"] and row["argmax"]
    p = subprocess.run([onnxc, "verify", "--each", model, "--input", inp] + shape,
                       capture_output=True, text=True)
    row["verify"] = "ok" if p.returncode == 0 else "FAIL: " + last_line(p.stdout + p.stderr)
    row["ok"] = row["ok"] and p.returncode == 0
    row["status"] = "ok" if row["ok"] else "FAIL"
    return row


def check_onnxc(onnxc, dirs):
    print("| case | opset | ONNX nodes | onnxc nodes after pipeline | run max abs err "
          "| max abs ref | argmax | verify --each | status |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    bad = 0
    for root in dirs:
        for meta in sorted(glob.glob(os.path.join(root, "*", "meta.json"))):
            r = check_onnxc_case(onnxc, os.path.dirname(meta))
            bad += not r["ok"]
            err = f"{r['err']:.3g}" if "err" in r else "-"
            ref = f"{r['ref']:.3g}" if "ref" in r else "-"
            am = ("equal" if r["argmax"] else "DIFFERS") if "argmax" in r else "-"
            print(f"| {r['case']} | {r['opset']} | {r['onnx_nodes']} | {r.get('nodes', '-')} | "
                  f"{err} | {ref} | {am} | {r.get('verify', '-')} | {r['status']} |", flush=True)
    print(f"\n{bad} failed")
    return bad


def dir_bytes(d):
    return sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fixtures", default=None)
    ap.add_argument("--fullsize", default=None)
    ap.add_argument("--newtorch", default=None)
    ap.add_argument("--only", default=None, help="comma-separated family names")
    ap.add_argument("--check-onnxc", nargs="+", metavar=("ONNXC", "DIR"), default=None)
    args = ap.parse_args()
    if args.check_onnxc:
        if len(args.check_onnxc) < 2:
            sys.exit("--check-onnxc ONNXC DIR [DIR ...]")
        sys.exit(1 if check_onnxc(args.check_onnxc[0], args.check_onnxc[1:]) else 0)
    if not (args.fixtures or args.fullsize or args.newtorch):
        args.fixtures = os.path.join(ROOT, "tests", "models")
    only = set(args.only.split(",")) if args.only else None
    total = 0
    for name, reduced, side, fulls, seed in FAMILIES:
        if only and name not in only:
            continue
        if args.fixtures:
            for opset in (13, 17):
                d = os.path.join(args.fixtures, f"{name}_reduced_op{opset}")
                meta = export_legacy(build(reduced, seed, side), make_input(side, seed), d, opset, seed)
                size = dir_bytes(d)
                total += size
                print(f"{name}_reduced_op{opset}: {meta['onnx_nodes']} nodes, "
                      f"model {meta['model_bytes']} B, case {size} B", flush=True)
                if meta["model_bytes"] > MAX_FIXTURE_BYTES:
                    sys.exit(f"{d}: model.onnx larger than {MAX_FIXTURE_BYTES} bytes")
        if args.newtorch:
            d = os.path.join(args.newtorch, f"{name}_reduced_newtorch")
            meta = export_newtorch(build(reduced, seed, side), make_input(side, seed), d, seed)
            size = dir_bytes(d)
            total += size
            print(f"{name}_reduced_newtorch: opset {meta['opset']}, {meta['onnx_nodes']} nodes, "
                  f"model {meta['model_bytes']} B, case {size} B", flush=True)
        if args.fullsize:
            for suffix, ctor in fulls.items():
                for opset in (13, 17):
                    d = os.path.join(args.fullsize, f"{suffix}_op{opset}")
                    meta = export_legacy(build(ctor, seed), make_input(224, seed), d, opset, seed)
                    print(f"{suffix}_op{opset}: {meta['onnx_nodes']} nodes, "
                          f"{meta['model_bytes']} B", flush=True)
    if args.fixtures or args.newtorch:
        print(f"total written to fixture dirs: {total} B")
        if total > MAX_TOTAL_BYTES:
            sys.exit(f"fixtures total {total} B exceeds {MAX_TOTAL_BYTES} B")


if __name__ == "__main__":
    main()
