"""
Exports FULL-SIZE torchvision vit_b_16 and swin_t (seeded random weights,
no download) at opset 13 and 17 into OUT_DIR, for benchmarks and for
checking onnxc on real-size graphs.  Not committed: ~330 MB / ~110 MB each.
Same per-case layout as tests/models/ (model.onnx, input_0.npy,
output_0.npy, meta.json); batch 1, 3x224x224, do_constant_folding=True.
Usage: /usr/bin/python3 examples/export/export_fullsize.py OUT_DIR [--no-fold]
"""
import os
import sys

import torch
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import export_case, randomize_norms, seed_all  # noqa: E402

MODELS = [
    ("vit_b_16", torchvision.models.vit_b_16, 11),
    ("swin_t", torchvision.models.swin_t, 12),
]


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 1:
        sys.exit("usage: export_fullsize.py OUT_DIR [--no-fold]")
    fold = "--no-fold" not in sys.argv
    out_root = args[0]
    for name, ctor, seed in MODELS:
        for opset in (13, 17):
            seed_all(seed)
            model = ctor(weights=None)
            randomize_norms(model, torch.Generator().manual_seed(seed + 1000))
            model.eval()
            x = torch.randn((1, 3, 224, 224), generator=torch.Generator().manual_seed(seed + 2000))
            case = f"{name}_op{opset}" + ("" if fold else "_nofold")
            meta = export_case(model, x, os.path.join(out_root, case), opset, fold, seed=seed)
            print(f"{case:20s} {meta['model_bytes']:10d} bytes {meta['onnx_nodes']:5d} nodes",
                  flush=True)


if __name__ == "__main__":
    main()
