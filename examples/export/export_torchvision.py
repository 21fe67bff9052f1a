"""
Exports the small committed ONNX fixtures under tests/models/ (or the
directory given as argv[1]).

Three models -- a reduced torchvision VisionTransformer (same graph as
vit_b_16, tiny dims), a reduced torchvision SwinTransformer (same graph as
swin_t) and SmallCNN from examples/models -- each at opset 13 and 17, with
torch's default do_constant_folding=True and with False (which keeps the
Shape/Gather/Concat chains real exports contain), plus one ViT with a
dynamic batch axis and two SmallCNNs that keep their BatchNormalization
nodes (torch fuses them into Conv otherwise).  Seeded random weights; every case gets model.onnx,
input_0.npy, output_0.npy (PyTorch eval output) and meta.json.
Usage: /usr/bin/python3 examples/export/export_torchvision.py [OUT_DIR]
"""
import os
import sys

import torch
import torchvision
from torchvision.models.swin_transformer import SwinTransformer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import export_case, randomize_norms, seed_all  # noqa: E402
from small_cnn import SmallCNN  # noqa: E402

MAX_BYTES = 2 * 1024 * 1024


def make_vit():
    return torchvision.models.VisionTransformer(
        image_size=32, patch_size=8, num_layers=2, num_heads=2, hidden_dim=32, mlp_dim=64,
        num_classes=10)


def make_swin():
    return SwinTransformer(patch_size=[4, 4], embed_dim=16, depths=[2, 2], num_heads=[2, 4],
                           window_size=[4, 4], num_classes=10)


MODELS = [
    # name, constructor, input shape, seed
    ("vit_tiny", make_vit, (1, 3, 32, 32), 1),
    ("swin_tiny", make_swin, (1, 3, 32, 32), 2),
    ("cnn_small", SmallCNN, (1, 3, 32, 32), 3),
]


def build(ctor, seed):
    seed_all(seed)
    model = ctor()
    gen = torch.Generator().manual_seed(seed + 1000)
    randomize_norms(model, gen)
    return model.eval()


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out_root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "tests", "models")
    total = 0
    for name, ctor, shape, seed in MODELS:
        for opset in (13, 17):
            for fold in (True, False):
                model = build(ctor, seed)
                x = torch.randn(shape, generator=torch.Generator().manual_seed(seed + 2000))
                case = f"{name}_op{opset}" + ("" if fold else "_nofold")
                meta = export_case(model, x, os.path.join(out_root, case), opset, fold, seed=seed)
                total += meta["model_bytes"]
                print(f"{case:24s} {meta['model_bytes']:8d} bytes {meta['onnx_nodes']:5d} nodes")
                if meta["model_bytes"] > MAX_BYTES:
                    sys.exit(f"{case}: model.onnx is {meta['model_bytes']} bytes (> 2 MB)")
    # BatchNormalization kept as nodes, for the Conv+BN folding in onnxc.
    for opset in (13, 17):
        model = build(SmallCNN, 3)
        x = torch.randn((1, 3, 32, 32), generator=torch.Generator().manual_seed(2003))
        case = f"cnn_small_op{opset}_keepbn"
        meta = export_case(model, x, os.path.join(out_root, case), opset, True, seed=3,
                           keep_bn=True)
        total += meta["model_bytes"]
        print(f"{case:24s} {meta['model_bytes']:8d} bytes {meta['onnx_nodes']:5d} nodes")
    # Dynamic batch axis: the stored input uses batch 2 so a compiler that
    # silently assumes batch 1 fails; run with --input-shape x=2,3,32,32.
    model = build(make_vit, 1)
    x = torch.randn((2, 3, 32, 32), generator=torch.Generator().manual_seed(2001))
    meta = export_case(model, x, os.path.join(out_root, "vit_tiny_op17_dynbatch"), 17, True,
                       dynamic_batch=True, seed=1)
    total += meta["model_bytes"]
    print(f"{'vit_tiny_op17_dynbatch':24s} {meta['model_bytes']:8d} bytes {meta['onnx_nodes']:5d} nodes")
    print(f"total {total} bytes")


if __name__ == "__main__":
    main()
