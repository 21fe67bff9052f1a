"""
Next-ViT (Li et al., 2022): convolution/transformer hybrid for deployment.

Conv stem (four 3x3 Conv+BN+ReLU, /4), then four stages; each block may
start with a patch embedding (2x2 average pool for stride 2, then 1x1
Conv+BN when the width changes).  Next Convolution Block (NCB): residual
multi-head convolutional attention (grouped 3x3 conv, one group per head,
+ BN + ReLU + 1x1 projection), then BN and a residual 1x1-conv MLP.  Next
Transformer Block (NTB): efficient MHSA whose keys/values come from an
average-pooled (sr x sr) copy of the tokens + BN, its output projected to
a narrower map that gets an MHCA branch, the two concatenated on channels
(shrink ratio 0.75 of the width goes to the MHSA part), then BN + MLP.
BatchNorm and ReLU throughout.  Stages are (NCB x N + NTB x 1) x L.
Next-ViT-S: widths 96 / 192,256 / 384,512 / 768,1024, depths 3/4/10/3.
"""
import torch
from torch import nn


def conv_bn_relu(cin, cout, stride):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU())


class PatchEmbed(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.pool = nn.AvgPool2d(2, 2, ceil_mode=True, count_include_pad=False) \
            if stride == 2 else nn.Identity()
        self.conv = nn.Sequential(nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout)) \
            if cin != cout else nn.Identity()

    def forward(self, x):
        return self.conv(self.pool(x))


class MHCA(nn.Module):
    def __init__(self, ch, head_dim):
        super().__init__()
        self.conv = nn.Conv2d(ch, ch, 3, 1, 1, groups=ch // head_dim, bias=False)
        self.norm = nn.BatchNorm2d(ch)
        self.act = nn.ReLU()
        self.proj = nn.Conv2d(ch, ch, 1, bias=False)

    def forward(self, x):
        return self.proj(self.act(self.norm(self.conv(x))))


class ConvMlp(nn.Module):
    def __init__(self, ch, ratio, out=None):
        super().__init__()
        hidden = int(ch * ratio)
        self.fc1 = nn.Conv2d(ch, hidden, 1)
        self.act = nn.ReLU()
        self.fc2 = nn.Conv2d(hidden, out or ch, 1)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class NCB(nn.Module):
    def __init__(self, cin, cout, stride, head_dim, mlp_ratio=3.0):
        super().__init__()
        self.patch_embed = PatchEmbed(cin, cout, stride)
        self.mhca = MHCA(cout, head_dim)
        self.norm = nn.BatchNorm2d(cout)
        self.mlp = ConvMlp(cout, mlp_ratio)

    def forward(self, x):
        x = self.patch_embed(x)
        x = x + self.mhca(x)
        return x + self.mlp(self.norm(x))


class EMHSA(nn.Module):
    """MHSA on (B, N, C) tokens of an h x w map; k/v from its sr x sr average pool."""

    def __init__(self, dim, head_dim, sr):
        super().__init__()
        self.heads = dim // head_dim
        self.scale = head_dim ** -0.5
        self.q = nn.Linear(dim, dim)
        self.k = nn.Linear(dim, dim)
        self.v = nn.Linear(dim, dim)
        self.proj = nn.Linear(dim, dim)
        self.sr = sr
        if sr > 1:
            self.pool = nn.AvgPool2d(sr, sr)
            self.norm = nn.BatchNorm2d(dim)

    def forward(self, x, h, w):
        b, n, c = x.shape
        hd = c // self.heads
        q = self.q(x).reshape(b, n, self.heads, hd).transpose(1, 2)
        kv = x
        if self.sr > 1:
            kv = x.transpose(1, 2).reshape(b, c, h, w)
            kv = self.norm(self.pool(kv)).flatten(2).transpose(1, 2)
        m = kv.shape[1]
        k = self.k(kv).reshape(b, m, self.heads, hd).permute(0, 2, 3, 1)
        v = self.v(kv).reshape(b, m, self.heads, hd).transpose(1, 2)
        attn = ((q @ k) * self.scale).softmax(dim=-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(b, n, c))


class NTB(nn.Module):
    def __init__(self, cin, cout, stride, head_dim, sr, shrink=0.75, mlp_ratio=2.0):
        super().__init__()
        self.mhsa_ch = max(head_dim, int(cout * shrink) // head_dim * head_dim)
        self.mhca_ch = cout - self.mhsa_ch
        self.patch_embed = PatchEmbed(cin, self.mhsa_ch, stride)
        self.norm1 = nn.BatchNorm2d(self.mhsa_ch)
        self.e_mhsa = EMHSA(self.mhsa_ch, head_dim, sr)
        self.projection = PatchEmbed(self.mhsa_ch, self.mhca_ch, 1)
        self.mhca = MHCA(self.mhca_ch, head_dim)
        self.norm2 = nn.BatchNorm2d(cout)
        self.mlp = ConvMlp(cout, mlp_ratio)

    def forward(self, x):
        x = self.patch_embed(x)
        b, c, h, w = x.shape
        t = self.norm1(x).flatten(2).transpose(1, 2)
        x = x + self.e_mhsa(t, h, w).transpose(1, 2).reshape(b, c, h, w)
        out = self.projection(x)
        out = out + self.mhca(out)
        x = torch.cat([x, out], dim=1)
        return x + self.mlp(self.norm2(x))


class NextViT(nn.Module):
    def __init__(self, stem=(64, 32, 64), widths=(96, 192, 256, 384, 512, 768, 1024),
                 ncb_per_stage=(3, 3, 4, 2), repeats=(1, 1, 2, 1), head_dim=32,
                 sr_ratios=(8, 4, 2, 1), num_classes=1000):
        super().__init__()
        s0, s1, s2 = stem
        self.stem = nn.Sequential(conv_bn_relu(3, s0, 2), conv_bn_relu(s0, s1, 1),
                                  conv_bn_relu(s1, s2, 1), conv_bn_relu(s2, s2, 2))
        # stage i: NCB width and NTB width (stage 0 has no NTB)
        stage_widths = [(widths[0], None), (widths[1], widths[2]), (widths[3], widths[4]),
                        (widths[5], widths[6])]
        blocks, cin = [], s2
        for i, (wc, wt) in enumerate(stage_widths):
            stride = 1 if i == 0 else 2
            for _ in range(repeats[i]):
                for _ in range(ncb_per_stage[i]):
                    blocks.append(NCB(cin, wc, stride, head_dim))
                    cin, stride = wc, 1
                if wt is not None:
                    blocks.append(NTB(cin, wt, stride, head_dim, sr_ratios[i]))
                    cin, stride = wt, 1
        self.features = nn.Sequential(*blocks)
        self.norm = nn.BatchNorm2d(cin)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(cin, num_classes)

    def forward(self, x):
        x = self.norm(self.features(self.stem(x)))
        return self.head(torch.flatten(self.pool(x), 1))


def nextvit_s_full():
    return NextViT()


def nextvit_s_reduced():
    return NextViT(stem=(16, 8, 16), widths=(16, 24, 32, 32, 48, 48, 64),
                   ncb_per_stage=(1, 1, 1, 1), repeats=(1, 1, 1, 1), head_dim=8,
                   num_classes=10)
