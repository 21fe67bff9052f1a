"""
PyTorch definitions of the CNN-Transformer model families used as onnxc
test and benchmark models (ViT/DeiT, T2T-ViT, ViTAE, Next-ViT, HRFormer).
Written from the papers' descriptions; seeded random weights only.
Each module exposes <family>_full() and <family>_reduced() constructors;
examples/export/export_families.py exports them (see docs/MODELS.md).
"""
