"""
ViT (Dosovitskiy et al., 2021) and DeiT (Touvron et al., 2021).

Patch embedding by a stride-p convolution, a class token (DeiT adds a
distillation token), learned position embedding, pre-norm encoder blocks,
final LayerNorm, linear head on the class token.  DeiT's distilled model
has a second head on the distillation token; at inference the two
predictions are averaged.  ViT-Ti/16 and DeiT-Ti: dim 192, 12 blocks,
3 heads, MLP ratio 4.
"""
import torch
from torch import nn

from .layers import Block


class VisionTransformer(nn.Module):
    def __init__(self, img=224, patch=16, dim=192, depth=12, heads=3, mlp_ratio=4.0,
                 num_classes=1000, distilled=False):
        super().__init__()
        self.patch_embed = nn.Conv2d(3, dim, patch, stride=patch)
        n = (img // patch) ** 2
        self.distilled = distilled
        extra = 2 if distilled else 1
        self.cls_token = nn.Parameter(torch.randn(1, 1, dim) * 0.02)
        self.dist_token = nn.Parameter(torch.randn(1, 1, dim) * 0.02) if distilled else None
        self.pos_embed = nn.Parameter(torch.randn(1, n + extra, dim) * 0.02)
        self.blocks = nn.Sequential(*[Block(dim, heads, mlp_ratio) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, num_classes)
        self.head_dist = nn.Linear(dim, num_classes) if distilled else None

    def forward(self, x):
        x = self.patch_embed(x).flatten(2).transpose(1, 2)
        b = x.shape[0]
        toks = [self.cls_token.expand(b, -1, -1)]
        if self.distilled:
            toks.append(self.dist_token.expand(b, -1, -1))
        x = torch.cat(toks + [x], dim=1) + self.pos_embed
        x = self.norm(self.blocks(x))
        if self.distilled:
            return (self.head(x[:, 0]) + self.head_dist(x[:, 1])) / 2
        return self.head(x[:, 0])


def vit_ti_full():
    return VisionTransformer()


def deit_ti_full():
    return VisionTransformer(distilled=True)


def vit_ti_reduced(img=224):
    return VisionTransformer(img=img, dim=32, depth=2, heads=2, mlp_ratio=2.0, num_classes=10)


def deit_ti_reduced(img=224):
    return VisionTransformer(img=img, dim=32, depth=2, heads=2, mlp_ratio=2.0, num_classes=10,
                             distilled=True)
