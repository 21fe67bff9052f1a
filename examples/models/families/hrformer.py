"""
HRFormer (Yuan et al., 2021): High-Resolution Transformer.

HRNet's layout with transformer blocks: a stride-4 convolutional stem and
a bottleneck stage, then stages with 2, 3 and 4 parallel branches at 1/4,
1/8, 1/16, 1/32 resolution.  Every branch block is local-window MHSA
(non-overlapping w x w windows, attention inside each) followed by an FFN
of 1x1 conv, 3x3 depthwise conv and 1x1 conv (BN + GELU between), which
carries information across windows.  After each module the branches are
fused: to a lower resolution by chains of stride-2 3x3 Conv+BN, to a higher
one by 1x1 Conv+BN then nearest upsampling.  Classification head as in
HRNet: per-branch bottleneck widening, stride-2 convs merging high to low
resolution, 1x1 conv, global pool, linear.  HRFormer-T: widths
18/36/72/144, heads 1/2/4/8, window 7, MLP ratio 4, modules 1/1/3/2,
two blocks per branch.
"""
import torch
from torch import nn
import torch.nn.functional as F

from .layers import Attention


def conv_bn(cin, cout, k, stride=1, groups=1, act=True):
    layers = [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False),
              nn.BatchNorm2d(cout)]
    if act:
        layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class Bottleneck(nn.Module):
    def __init__(self, cin, mid, expansion=4):
        super().__init__()
        cout = mid * expansion
        self.body = nn.Sequential(conv_bn(cin, mid, 1), conv_bn(mid, mid, 3),
                                  conv_bn(mid, cout, 1, act=False))
        self.short = conv_bn(cin, cout, 1, act=False) if cin != cout else nn.Identity()
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(self.body(x) + self.short(x))


class WindowBlock(nn.Module):
    def __init__(self, dim, heads, window, mlp_ratio):
        super().__init__()
        self.window = window
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        hidden = int(dim * mlp_ratio)
        self.ffn = nn.Sequential(
            nn.Conv2d(dim, hidden, 1), nn.BatchNorm2d(hidden), nn.GELU(),
            nn.Conv2d(hidden, hidden, 3, 1, 1, groups=hidden), nn.BatchNorm2d(hidden), nn.GELU(),
            nn.Conv2d(hidden, dim, 1), nn.BatchNorm2d(dim))

    def forward(self, x):
        b, c, h, w = x.shape
        s = self.window
        # (B, C, H, W) -> (B * windows, s*s, C)
        t = x.reshape(b, c, h // s, s, w // s, s).permute(0, 2, 4, 3, 5, 1)
        t = t.reshape(-1, s * s, c)
        t = t + self.attn(self.norm1(t))
        t = t.reshape(b, h // s, w // s, s, s, c).permute(0, 5, 1, 3, 2, 4).reshape(b, c, h, w)
        y = self.norm2(t.flatten(2).transpose(1, 2)).transpose(1, 2).reshape(b, c, h, w)
        return t + self.ffn(y)


class HRModule(nn.Module):
    def __init__(self, widths, heads, window, mlp_ratio, blocks):
        super().__init__()
        self.branches = nn.ModuleList([
            nn.Sequential(*[WindowBlock(c, nh, window, mlp_ratio) for _ in range(blocks)])
            for c, nh in zip(widths, heads)])
        n = len(widths)
        self.fuse = nn.ModuleList()
        for i in range(n):          # target branch
            row = nn.ModuleList()
            for j in range(n):      # source branch
                if j == i:
                    row.append(nn.Identity())
                elif j > i:         # lower resolution source: 1x1 conv, upsample later
                    row.append(conv_bn(widths[j], widths[i], 1, act=False))
                else:               # higher resolution source: stride-2 convs
                    steps = []
                    for k in range(i - j):
                        last = k == i - j - 1
                        steps.append(conv_bn(widths[j], widths[i] if last else widths[j], 3, 2,
                                             act=not last))
                    row.append(nn.Sequential(*steps))
            self.fuse.append(row)
        self.act = nn.ReLU()

    def forward(self, xs):
        xs = [br(x) for br, x in zip(self.branches, xs)]
        out = []
        for i, row in enumerate(self.fuse):
            y = xs[i]
            for j, f in enumerate(row):
                if j == i:
                    continue
                z = f(xs[j])
                if j > i:
                    z = F.interpolate(z, scale_factor=2 ** (j - i), mode="nearest")
                y = y + z
            out.append(self.act(y))
        return out


class HRFormer(nn.Module):
    def __init__(self, stem=64, widths=(18, 36, 72, 144), heads=(1, 2, 4, 8), window=7,
                 mlp_ratio=4.0, modules=(1, 1, 3, 2), blocks=2, bottleneck_mid=64,
                 head_widths=(32, 64, 128, 256), final=2048, num_classes=1000):
        super().__init__()
        self.stem = nn.Sequential(conv_bn(3, stem, 3, 2), conv_bn(stem, stem, 3, 2))
        self.layer1 = nn.Sequential(*[Bottleneck(stem if i == 0 else bottleneck_mid * 4,
                                                 bottleneck_mid) for i in range(modules[0])])
        cin = bottleneck_mid * 4
        self.stages = nn.ModuleList()
        self.transitions = nn.ModuleList()
        for s in range(1, 4):
            n = s + 1
            # transition: adapt existing branches, create the new lowest one
            prev = [cin] if s == 1 else list(widths[:s])
            tr = nn.ModuleList()
            for i in range(n):
                if i < len(prev):
                    tr.append(conv_bn(prev[i], widths[i], 3) if prev[i] != widths[i]
                              else nn.Identity())
                else:
                    tr.append(conv_bn(prev[-1], widths[i], 3, 2))
            self.transitions.append(tr)
            self.stages.append(nn.Sequential(*[
                HRModule(widths[:n], heads[:n], window, mlp_ratio, blocks)
                for _ in range(modules[s])]))
        self.incre = nn.ModuleList([Bottleneck(c, hw // 4 if hw >= 4 else 1)
                                    for c, hw in zip(widths, head_widths)])
        hc = [max(1, hw // 4) * 4 for hw in head_widths]
        self.downs = nn.ModuleList([conv_bn(hc[i], hc[i + 1], 3, 2) for i in range(3)])
        self.final = conv_bn(hc[3], final, 1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(final, num_classes)

    def forward(self, x):
        x = self.layer1(self.stem(x))
        xs = [x]
        for tr, stage in zip(self.transitions, self.stages):
            xs = [t(xs[i] if i < len(xs) else xs[-1]) for i, t in enumerate(tr)]
            xs = stage(xs)
        y = self.incre[0](xs[0])
        for i in range(3):
            y = self.incre[i + 1](xs[i + 1]) + self.downs[i](y)
        y = self.pool(self.final(y))
        return self.head(torch.flatten(y, 1))


def hrformer_t_full():
    return HRFormer()


def hrformer_t_reduced():
    return HRFormer(stem=16, widths=(8, 16, 32, 64), heads=(1, 1, 2, 4), modules=(1, 1, 1, 1),
                    blocks=1, bottleneck_mid=8, head_widths=(8, 16, 32, 64), final=64,
                    mlp_ratio=2.0, num_classes=10)
