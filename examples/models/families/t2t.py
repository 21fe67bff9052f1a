"""
T2T-ViT (Yuan et al., 2021): Tokens-to-Token ViT.

The T2T module alternates soft splits (nn.Unfold with kernels 7/3/3,
strides 4/2/2, paddings 2/1/1: overlapping patches become tokens of width
C*k*k) with re-structurization (a token transformer, Performer or plain
attention, then the tokens are reshaped back to an image).  The last split
is projected to the backbone width; then a class token, a fixed sinusoidal
position table and a deep-narrow stack of transformer blocks.
T2T-ViT-7: dim 256, 7 blocks, 4 heads, MLP ratio 2; T2T-ViT-14: dim 384,
14 blocks, 6 heads, MLP ratio 3; token width 64.
"""
import torch
from torch import nn

from .layers import Block, TokenTransformer, sinusoid_table


class T2TModule(nn.Module):
    def __init__(self, img, token_dim, embed_dim, performer):
        super().__init__()
        self.split0 = nn.Unfold(kernel_size=7, stride=4, padding=2)
        self.split1 = nn.Unfold(kernel_size=3, stride=2, padding=1)
        self.split2 = nn.Unfold(kernel_size=3, stride=2, padding=1)
        self.attn1 = TokenTransformer(3 * 7 * 7, token_dim, performer)
        self.attn2 = TokenTransformer(token_dim * 3 * 3, token_dim, performer)
        self.project = nn.Linear(token_dim * 3 * 3, embed_dim)
        self.sizes = (img // 4, img // 8)
        self.num_tokens = (img // 16) ** 2

    def forward(self, x):
        x = self.split0(x).transpose(1, 2)                 # (B, (H/4)^2, 147)
        x = self.attn1(x)
        b, n, c = x.shape
        s = self.sizes[0]
        x = self.split1(x.transpose(1, 2).reshape(b, c, s, s)).transpose(1, 2)
        x = self.attn2(x)
        b, n, c = x.shape
        s = self.sizes[1]
        x = self.split2(x.transpose(1, 2).reshape(b, c, s, s)).transpose(1, 2)
        return self.project(x)


class T2TViT(nn.Module):
    def __init__(self, img=224, dim=256, depth=7, heads=4, mlp_ratio=2.0, token_dim=64,
                 num_classes=1000, performer=True):
        super().__init__()
        self.t2t = T2TModule(img, token_dim, dim, performer)
        n = self.t2t.num_tokens
        self.cls_token = nn.Parameter(torch.randn(1, 1, dim) * 0.02)
        self.register_buffer("pos_embed", sinusoid_table(n + 1, dim))
        self.blocks = nn.Sequential(*[Block(dim, heads, mlp_ratio) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, x):
        x = self.t2t(x)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        x = self.norm(self.blocks(x))
        return self.head(x[:, 0])


def t2t_vit_7_full(performer=True):
    return T2TViT(dim=256, depth=7, heads=4, mlp_ratio=2.0, performer=performer)


def t2t_vit_14_full(performer=True):
    return T2TViT(dim=384, depth=14, heads=6, mlp_ratio=3.0, performer=performer)


def t2t_vit_reduced(performer=True, img=224):
    return T2TViT(img=img, dim=32, depth=2, heads=2, mlp_ratio=2.0, token_dim=16, num_classes=10,
                  performer=performer)
