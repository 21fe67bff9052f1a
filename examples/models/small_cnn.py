"""
SmallCNN: a MobileNet-flavoured toy CNN used as an onnxc test fixture.

It packs the patterns the optimisation passes care about into a model that
stays a few hundred KB: Conv+BatchNorm+{ReLU, ReLU6, Hardswish} (BN folding),
a depthwise conv (group == channels), a squeeze-excite block with
Hardsigmoid, a residual Add, MaxPool and AvgPool, and an MLP head reached
through x.reshape(x.size(0), -1) so the export carries a Shape/Gather/
Concat chain (what older torchvision heads emit) instead of a Flatten.
Exported by examples/export/export_torchvision.py.
"""
import torch
from torch import nn


def conv_bn(cin, cout, k, stride=1, groups=1, act=nn.ReLU, bias=False):
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, groups=groups, bias=bias),
        nn.BatchNorm2d(cout),
        act(),
    )


class SqueezeExcite(nn.Module):
    def __init__(self, ch, squeeze):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(ch, squeeze, 1)
        self.act = nn.ReLU()
        self.fc2 = nn.Conv2d(squeeze, ch, 1)
        self.gate = nn.Hardsigmoid()

    def forward(self, x):
        s = self.gate(self.fc2(self.act(self.fc1(self.pool(x)))))
        return x * s


class SmallCNN(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.stem = conv_bn(3, 16, 3, stride=2, act=nn.ReLU)                 # 32 -> 16
        self.dw = conv_bn(16, 16, 3, groups=16, act=nn.ReLU6)                # depthwise
        self.pw = conv_bn(16, 32, 1, act=nn.Hardswish)                      # pointwise
        self.se = SqueezeExcite(32, 8)
        self.pool1 = nn.MaxPool2d(2)                                          # 16 -> 8
        self.block = conv_bn(32, 32, 3, act=nn.ReLU, bias=True)             # conv bias + BN
        self.pool2 = nn.AvgPool2d(2)                                          # 8 -> 4
        self.head = nn.Sequential(
            nn.Linear(32 * 4 * 4, 64),
            nn.ReLU(),
            nn.Dropout(0.2),
            nn.Linear(64, num_classes),
        )

    def forward(self, x):
        x = self.stem(x)
        x = self.pw(self.dw(x))
        x = self.se(x)
        x = self.pool1(x)
        x = x + self.block(x)
        x = self.pool2(x)
        x = x.reshape(x.size(0), -1)
        return self.head(x)
