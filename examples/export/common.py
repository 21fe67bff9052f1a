"""
Shared helpers for the onnxc fixture exporters (examples/export/*.py).

Seeding, giving every normalisation layer non-trivial statistics (no
pretrained weights can be fetched, and identity BatchNorms would let a wrong
BN fold pass unnoticed), running torch.onnx.export with fixed settings, and
writing model.onnx + input_0.npy + output_0.npy + meta.json for one case.
Run with Debian's /usr/bin/python3 (torch 1.13, torchvision 0.14, onnx 1.12).
"""
import json
import os
import sys

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models"))


def seed_all(seed):
    torch.manual_seed(seed)
    np.random.seed(seed)


def randomize_norms(model, gen):
    """Non-trivial BN/LN parameters and running stats; replaces all-zero params.

    torchvision zero-initialises ViT's head and class token and every Linear
    bias; a zero tensor hides transposed or misplaced operands, so those get
    small random values too.
    """
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                n = m.num_features
                m.weight.copy_(torch.rand(n, generator=gen) + 0.5)
                m.bias.copy_(torch.randn(n, generator=gen) * 0.2)
                m.running_mean.copy_(torch.randn(n, generator=gen) * 0.3)
                m.running_var.copy_(torch.rand(n, generator=gen) * 1.5 + 0.5)
            elif isinstance(m, nn.LayerNorm) and m.elementwise_affine:
                m.weight.copy_(torch.rand(m.weight.shape, generator=gen) + 0.5)
                m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.2)
        for _, p in model.named_parameters():
            if p.is_floating_point() and torch.count_nonzero(p) == 0:
                p.copy_(torch.randn(p.shape, generator=gen) * 0.1)


def onnx_summary(path):
    import onnx
    m = onnx.load(path)
    ops = {}
    for n in m.graph.node:
        ops[n.op_type] = ops.get(n.op_type, 0) + 1
    return len(m.graph.node), dict(sorted(ops.items()))


def export_case(model, x, out_dir, opset, fold, dynamic_batch=False, seed=0, write_meta=True,
                keep_bn=False):
    """Exports model(x) to out_dir and stores the eval-mode reference output.

    torch's eval-mode export fuses Conv+BatchNorm itself (whatever
    do_constant_folding says); keep_bn exports with TrainingMode.PRESERVE on
    the eval-mode model, which keeps inference BatchNormalization nodes (and
    the Identity-on-initializer nodes that mode adds) as other exporters do.
    """
    os.makedirs(out_dir, exist_ok=True)
    model.eval()
    with torch.no_grad():
        y = model(x)
    path = os.path.join(out_dir, "model.onnx")
    dyn = {"x": {0: "batch"}, "y": {0: "batch"}} if dynamic_batch else None
    torch.onnx.export(model, (x,), path, opset_version=opset, do_constant_folding=fold,
                      input_names=["x"], output_names=["y"], dynamic_axes=dyn,
                      training=(torch.onnx.TrainingMode.PRESERVE if keep_bn
                                else torch.onnx.TrainingMode.EVAL))
    np.save(os.path.join(out_dir, "input_0.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(out_dir, "output_0.npy"), y.numpy().astype(np.float32))
    nodes, ops = onnx_summary(path)
    meta = {
        "opset": opset,
        "torch_version": torch.__version__,
        "do_constant_folding": fold,
        "training_mode": "PRESERVE" if keep_bn else "EVAL",
        "seed": seed,
        "input_name": "x",
        "input_shape": list(x.shape),
        "onnx_input_shape": (["batch"] + list(x.shape[1:])) if dynamic_batch else list(x.shape),
        "output_name": "y",
        "output_shape": list(y.shape),
        "model_bytes": os.path.getsize(path),
        "onnx_nodes": nodes,
        "onnx_ops": ops,
    }
    if write_meta:
        with open(os.path.join(out_dir, "meta.json"), "w") as f:
            json.dump(meta, f, indent=1)
            f.write("\n")
    return meta
