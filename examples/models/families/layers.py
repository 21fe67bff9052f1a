"""
Building blocks shared by the family definitions in this package: the
pre-norm transformer block (multi-head self-attention + GELU MLP), the
single-head "token" attention/transformer whose output width differs from
its input (T2T-ViT, ViTAE reduction cells), its Performer variant with
positive random features, and the fixed sinusoidal position table.
Attention is written with plain matmul/softmax (no einsum, no
scaled_dot_product_attention) so the export is the classic op pattern.
"""
import math

import torch
from torch import nn


class Mlp(nn.Module):
    def __init__(self, dim, hidden, out=None):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, out or dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Attention(nn.Module):
    """Multi-head self-attention over (B, N, C) tokens."""

    def __init__(self, dim, heads):
        super().__init__()
        assert dim % heads == 0
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, n, c = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = (q @ k.transpose(-2, -1)) * self.scale
        attn = attn.softmax(dim=-1)
        x = (attn @ v).transpose(1, 2).reshape(b, n, c)
        return self.proj(x)


class Block(nn.Module):
    """Pre-norm transformer encoder block."""

    def __init__(self, dim, heads, mlp_ratio=4.0):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class TokenAttention(nn.Module):
    """Single-head attention mapping width `dim` to `out_dim`.

    The soft split makes the token width (C*k*k) differ from the width the
    next stage wants, so the residual goes around the projection from v
    instead of around the whole attention (T2T-ViT, Sec. 3.1).
    """

    def __init__(self, dim, out_dim):
        super().__init__()
        self.scale = out_dim ** -0.5
        self.qkv = nn.Linear(dim, out_dim * 3)
        self.proj = nn.Linear(out_dim, out_dim)
        self.out_dim = out_dim

    def forward(self, x):
        q, k, v = self.qkv(x).split(self.out_dim, dim=-1)
        attn = ((q @ k.transpose(-2, -1)) * self.scale).softmax(dim=-1)
        return v + self.proj(attn @ v)


class TokenPerformer(nn.Module):
    """Performer-style linear attention with positive random features.

    phi(x) = exp(w x - |x|^2 / 2) / sqrt(m) with m = out_dim * ratio fixed
    orthogonal random directions (a non-trainable parameter); attention is
    phi(q) (phi(k)^T v) normalised by phi(q) . sum_n phi(k_n), so the
    N x N matrix is never formed.
    """

    def __init__(self, dim, out_dim, kernel_ratio=0.5):
        super().__init__()
        self.out_dim = out_dim
        self.m = max(1, int(out_dim * kernel_ratio))
        self.kqv = nn.Linear(dim, out_dim * 3)
        self.proj = nn.Linear(out_dim, out_dim)
        w = torch.randn(self.m, out_dim)
        w = torch.linalg.qr(w.t())[0].t() if self.m <= out_dim else w
        self.w = nn.Parameter(w * math.sqrt(out_dim), requires_grad=False)

    def features(self, x):
        xd = (x * x).sum(dim=-1, keepdim=True) / 2
        wtx = x @ self.w.t()
        return torch.exp(wtx - xd) / math.sqrt(self.m)

    def forward(self, x):
        k, q, v = self.kqv(x).split(self.out_dim, dim=-1)
        kp, qp = self.features(k), self.features(q)             # (B, N, m)
        d = qp @ kp.sum(dim=1).unsqueeze(-1)                    # (B, N, 1)
        kptv = v.transpose(1, 2) @ kp                           # (B, C, m)
        y = (qp @ kptv.transpose(1, 2)) / (d + 1e-8)            # (B, N, C)
        return v + self.proj(y)


class TokenTransformer(nn.Module):
    """Re-structurization block of T2T: token attention + MLP, width dim->out."""

    def __init__(self, dim, out_dim, performer, mlp_ratio=1.0):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = TokenPerformer(dim, out_dim) if performer else TokenAttention(dim, out_dim)
        self.norm2 = nn.LayerNorm(out_dim)
        self.mlp = Mlp(out_dim, int(out_dim * mlp_ratio))

    def forward(self, x):
        x = self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


def sinusoid_table(n, dim):
    """(1, n, dim) fixed sine/cosine position table (Vaswani et al.)."""
    pos = torch.arange(n, dtype=torch.float64).unsqueeze(1)
    i = torch.arange(dim, dtype=torch.float64).unsqueeze(0)
    angle = pos / torch.pow(10000.0, 2 * torch.div(i, 2, rounding_mode="floor") / dim)
    table = torch.where(i.long() % 2 == 0, torch.sin(angle), torch.cos(angle))
    return table.float().unsqueeze(0)
