"""
Exports the LARGE torchvision ViTs, vit_l_16 (~304M parameters, ~1.2 GB) and
vit_h_14 (~632M parameters, ~2.5 GB), with seeded random weights (no
download) at opset 17 into OUT_DIR, for checking onnxc on models near and
over protobuf's 2 GiB limit.  Not committed.  Same per-case layout as
tests/models/ (model.onnx, input_0.npy, output_0.npy, meta.json); batch 1,
3x224x224, do_constant_folding=True.

A model over 2 GB cannot be one protobuf: torch 1.13's exporter then writes
every initializer to its own file beside model.onnx.  This script exports
into a temporary folder and, in that case, re-saves the model with all
tensors in ONE file, OUT_DIR/<case>/model.onnx.data (onnx external data,
tensors under 1 KiB stay inline); smaller models are a single model.onnx.
Memory: the reference output is computed first (no_grad, eval); the torch
model is deleted before the ONNX model is loaded for re-saving.
Usage: /usr/bin/python3 examples/export/export_large.py OUT_DIR
           [--models vit_l_16,vit_h_14] [--no-fold]
"""
import gc
import json
import os
import shutil
import sys

import numpy as np
import torch
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import randomize_norms, seed_all  # noqa: E402

OPSET = 17
DATA_FILE = "model.onnx.data"
MODELS = {
    "vit_l_16": (torchvision.models.vit_l_16, 21),
    "vit_h_14": (torchvision.models.vit_h_14, 22),
}


def parse_args(argv):
    out, models, fold = None, list(MODELS), True
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--models" and i + 1 < len(argv):
            models = [m for m in argv[i + 1].split(",") if m]
            i += 1
        elif a.startswith("--models="):
            models = [m for m in a.split("=", 1)[1].split(",") if m]
        elif a == "--no-fold":
            fold = False
        elif a.startswith("-") or out is not None:
            sys.exit("usage: export_large.py OUT_DIR [--models vit_l_16,vit_h_14] [--no-fold]")
        else:
            out = a
        i += 1
    if out is None:
        sys.exit("usage: export_large.py OUT_DIR [--models vit_l_16,vit_h_14] [--no-fold]")
    bad = [m for m in models if m not in MODELS]
    if bad or not models:
        sys.exit(f"unknown model(s) {bad}; choose from {','.join(MODELS)}")
    return out, models, fold


def peak_rss_mb():
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def export_large_case(name, out_root, fold):
    import onnx

    ctor, seed = MODELS[name]
    case = f"{name}_op{OPSET}" + ("" if fold else "_nofold")
    out_dir = os.path.join(out_root, case)
    tmp_dir = os.path.join(out_dir, ".export_tmp")
    shutil.rmtree(tmp_dir, ignore_errors=True)
    os.makedirs(tmp_dir)
    for f in ("model.onnx", DATA_FILE):  # a stale data file would be read by nobody but mislead
        if os.path.exists(os.path.join(out_dir, f)):
            os.remove(os.path.join(out_dir, f))

    seed_all(seed)
    model = ctor(weights=None)
    randomize_norms(model, torch.Generator().manual_seed(seed + 1000))
    model.eval()
    params = sum(p.numel() for p in model.parameters())
    x = torch.randn((1, 3, 224, 224), generator=torch.Generator().manual_seed(seed + 2000))
    with torch.no_grad():
        y = model(x)
    np.save(os.path.join(out_dir, "input_0.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(out_dir, "output_0.npy"), y.numpy().astype(np.float32))
    output_shape = list(y.shape)
    del y

    tmp_path = os.path.join(tmp_dir, "model.onnx")
    # Not under no_grad: there, eval-mode nn.MultiheadAttention takes its fast path,
    # aten::_native_multi_head_attention, which torch 1.13 cannot export.
    torch.onnx.export(model, (x,), tmp_path, opset_version=OPSET, do_constant_folding=fold,
                      input_names=["x"], output_names=["y"],
                      training=torch.onnx.TrainingMode.EVAL)
    del model
    gc.collect()

    path = os.path.join(out_dir, "model.onnx")
    external = len(os.listdir(tmp_dir)) > 1  # torch wrote the initializers to their own files
    if external:
        m = onnx.load(tmp_path)  # reads every tensor file of tmp_dir
        shutil.rmtree(tmp_dir)
        onnx.save_model(m, path, save_as_external_data=True, all_tensors_to_one_file=True,
                        location=DATA_FILE, size_threshold=1024)
        del m
        gc.collect()
    else:
        os.replace(tmp_path, path)
        shutil.rmtree(tmp_dir)

    g = onnx.load(path, load_external_data=False).graph
    ops = {}
    for n in g.node:
        ops[n.op_type] = ops.get(n.op_type, 0) + 1
    data_path = os.path.join(out_dir, DATA_FILE)
    meta = {
        "opset": OPSET,
        "torch_version": torch.__version__,
        "do_constant_folding": fold,
        "training_mode": "EVAL",
        "seed": seed,
        "input_name": "x",
        "input_shape": list(x.shape),
        "onnx_input_shape": list(x.shape),
        "output_name": "y",
        "output_shape": output_shape,
        "params": params,
        "model_bytes": os.path.getsize(path),
        "external_data": DATA_FILE if external else None,
        "external_data_bytes": os.path.getsize(data_path) if external else 0,
        "onnx_nodes": len(g.node),
        "onnx_initializers": len(g.initializer),
        "onnx_ops": dict(sorted(ops.items())),
    }
    with open(os.path.join(out_dir, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
    return case, meta


def main():
    out_root, models, fold = parse_args(sys.argv[1:])
    for name in models:
        case, meta = export_large_case(name, out_root, fold)
        total = meta["model_bytes"] + meta["external_data_bytes"]
        print(f"{case:20s} {meta['params']:10d} params {total:11d} bytes"
              f"{' (external data)' if meta['external_data'] else ''}"
              f" {meta['onnx_nodes']:5d} nodes  peak RSS so far {peak_rss_mb():.0f} MB",
              flush=True)
        gc.collect()


if __name__ == "__main__":
    main()
