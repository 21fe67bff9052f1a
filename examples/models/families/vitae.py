"""
ViTAE (Xu et al., 2021): ViT with convolutional intrinsic inductive bias.

Reduction Cells (RC) downsample: a Pyramid Reduction Module runs parallel
dilated convolutions (dilations 1/2/3/4, same kernel and stride, GELU) and
concatenates them along channels; those tokens go through token attention
(Performer or plain), and a Parallel Convolution Module (3x3 conv + BN +
SiLU stack with the same total stride) computed from the cell's input is
added before the MLP.  Normal Cells (NC) put a PCM branch (grouped convs +
BN + SiLU) beside multi-head self-attention on the spatial tokens; the
class token gets only the attention branch.  ViTAE-T: 3 RCs (strides
4/2/2, token width 64), 7 NCs of width 256 with 4 heads, MLP ratio 1.5
(chosen to land near the paper's 4.8M parameters); sinusoidal
position table.
"""
import torch
from torch import nn

from .layers import Attention, Mlp, TokenAttention, TokenPerformer, sinusoid_table


def conv_bn_silu(cin, cout, stride, groups=1):
    return [nn.Conv2d(cin, cout, 3, stride, 1, groups=groups, bias=False),
            nn.BatchNorm2d(cout), nn.SiLU()]


class ReductionCell(nn.Module):
    def __init__(self, in_ch, prm_ch, out_dim, stride, kernel, performer, mlp_ratio=1.0):
        super().__init__()
        self.prm = nn.ModuleList([
            nn.Conv2d(in_ch, prm_ch, kernel, stride, padding=(kernel - 1) // 2 * d, dilation=d)
            for d in (1, 2, 3, 4)])
        self.act = nn.GELU()
        cat = 4 * prm_ch
        self.norm1 = nn.LayerNorm(cat)
        self.attn = TokenPerformer(cat, out_dim) if performer else TokenAttention(cat, out_dim)
        layers = conv_bn_silu(in_ch, out_dim, 2)
        layers += conv_bn_silu(out_dim, out_dim, 2 if stride == 4 else 1)
        layers.append(nn.Conv2d(out_dim, out_dim, 3, 1, 1))
        self.pcm = nn.Sequential(*layers)
        self.norm2 = nn.LayerNorm(out_dim)
        self.mlp = Mlp(out_dim, int(out_dim * mlp_ratio))

    def forward(self, img):
        y = torch.cat([self.act(conv(img)) for conv in self.prm], dim=1)
        b, c, h, w = y.shape
        tokens = y.flatten(2).transpose(1, 2)
        conv = self.pcm(img).flatten(2).transpose(1, 2)
        x = self.attn(self.norm1(tokens)) + conv
        x = x + self.mlp(self.norm2(x))
        return x.transpose(1, 2).reshape(b, -1, h, w)


class NormalCell(nn.Module):
    def __init__(self, dim, heads, mlp_ratio, side, group_width=16):
        super().__init__()
        self.side = side
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads)
        g = max(1, dim // group_width)
        layers = conv_bn_silu(dim, dim, 1, g) + conv_bn_silu(dim, dim, 1, g)
        layers.append(nn.Conv2d(dim, dim, 3, 1, 1, groups=g))
        self.pcm = nn.Sequential(*layers)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x):
        b, n, c = x.shape
        img = x[:, 1:].transpose(1, 2).reshape(b, c, self.side, self.side)
        conv = self.pcm(img).flatten(2).transpose(1, 2)
        conv = torch.cat([torch.zeros_like(x[:, :1]), conv], dim=1)
        x = x + self.attn(self.norm1(x)) + conv
        return x + self.mlp(self.norm2(x))


class ViTAE(nn.Module):
    def __init__(self, img=224, token_dim=64, dim=256, depth=7, heads=4, mlp_ratio=1.5,
                 num_classes=1000, performer=True):
        super().__init__()
        self.rcs = nn.Sequential(
            ReductionCell(3, token_dim, token_dim, 4, 7, performer),
            ReductionCell(token_dim, token_dim, token_dim, 2, 3, performer),
            ReductionCell(token_dim, token_dim, dim, 2, 3, performer))
        side = img // 16
        self.cls_token = nn.Parameter(torch.randn(1, 1, dim) * 0.02)
        self.register_buffer("pos_embed", sinusoid_table(side * side + 1, dim))
        self.ncs = nn.Sequential(*[NormalCell(dim, heads, mlp_ratio, side) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, x):
        x = self.rcs(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        x = self.norm(self.ncs(x))
        return self.head(x[:, 0])


def vitae_t_full():
    return ViTAE()


def vitae_t_reduced(img=224):
    return ViTAE(img=img, token_dim=16, dim=32, depth=2, heads=2, mlp_ratio=2.0, num_classes=10)
