"""The engine's architectures in PyTorch, with its parameter names, shapes and counts.

- ResNet-18/34/50: the robustness library's CIFAR ResNet (cifar_models/resnet.py): conv1 3x3
  stride 1, bn1, layer1..layer4 of BasicBlock/Bottleneck, global average pooling, `linear`;
  projection shortcuts as `shortcut.0` (1x1 conv) and `shortcut.1` (BN).
- PreActResNet-18: fast_adversarial's (preact_resnet.py): conv1, layer1..layer4 of PreActBlock
  (bn1, conv1, bn2, conv2, shortcut.0 without BN), a final `bn`, `linear`.

Both start with the robustness library's input normalizer (clamp to [0, 1], then
(x - mean) / std), registered first as buffers `normalizer.new_mean` / `normalizer.new_std` of
shape (3,) as the engine stores them (the library's are (3, 1, 1)). Buffers are not parameters:
parameter counts exclude them, as the engine's num_parameters() does.

`width` scales the stage widths 64/128/256/512 to int(c * width) (truncation), the library's
`wm` argument and the engine's rounding (models/resnet.cpp, models/preact_resnet.cpp).

R(x), the representation, is the post-ReLU pooled feature vector that feeds `linear`:
forward(x, with_logits=False) returns it.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

CIFAR_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR_STD = (0.2023, 0.1994, 0.2010)
ARCHS = ("resnet18", "resnet34", "resnet50", "preact_resnet18")


def scaled(channels, width):
    c = int(channels * width)
    if c < 1:
        raise ValueError(f"width {width} leaves no channels in a stage of {channels}")
    return c


class InputNormalizer(nn.Module):
    def __init__(self, mean=CIFAR_MEAN, std=CIFAR_STD):
        super().__init__()
        self.register_buffer("new_mean", torch.tensor(mean, dtype=torch.float32))
        self.register_buffer("new_std", torch.tensor(std, dtype=torch.float32))

    def forward(self, x):
        x = torch.clamp(x, 0, 1)
        return (x - self.new_mean.view(1, -1, 1, 1)) / self.new_std.view(1, -1, 1, 1)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes * self.expansion:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, planes * self.expansion, 1, stride, bias=False),
                nn.BatchNorm2d(planes * self.expansion))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out = out + self.shortcut(x)
        return F.relu(out)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * self.expansion, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes * self.expansion:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, planes * self.expansion, 1, stride, bias=False),
                nn.BatchNorm2d(planes * self.expansion))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        out = out + self.shortcut(x)
        return F.relu(out)


class ResNet(nn.Module):
    def __init__(self, block, num_blocks, num_classes=10, width=1.0):
        super().__init__()
        self.normalizer = InputNormalizer()
        widths = [scaled(c, width) for c in (64, 128, 256, 512)]
        self.in_planes = widths[0]
        self.conv1 = nn.Conv2d(3, widths[0], 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.layer1 = self._make_layer(block, widths[0], num_blocks[0], 1)
        self.layer2 = self._make_layer(block, widths[1], num_blocks[1], 2)
        self.layer3 = self._make_layer(block, widths[2], num_blocks[2], 2)
        self.layer4 = self._make_layer(block, widths[3], num_blocks[3], 2)
        self.linear = nn.Linear(widths[3] * block.expansion, num_classes)

    def _make_layer(self, block, planes, blocks, stride):
        layers = []
        for s in [stride] + [1] * (blocks - 1):
            layers.append(block(self.in_planes, planes, s))
            self.in_planes = planes * block.expansion
        return nn.Sequential(*layers)

    def forward(self, x, with_logits=True):
        out = F.relu(self.bn1(self.conv1(self.normalizer(x))))
        out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
        rep = F.adaptive_avg_pool2d(out, 1).flatten(1)  # = avg_pool2d(out, 4) at 32x32
        return self.linear(rep) if with_logits else rep


class PreActBlock(nn.Module):
    expansion = 1

    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_planes)
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(nn.Conv2d(in_planes, planes, 1, stride, bias=False))

    def forward(self, x):
        out = F.relu(self.bn1(x))
        # fast_adversarial's PreActBlock projects the raw input, not relu(bn1(x)).
        shortcut = self.shortcut(x) if hasattr(self, "shortcut") else x
        out = self.conv1(out)
        out = self.conv2(F.relu(self.bn2(out)))
        return out + shortcut


class PreActResNet(nn.Module):
    def __init__(self, num_blocks=(2, 2, 2, 2), num_classes=10, width=1.0):
        super().__init__()
        self.normalizer = InputNormalizer()
        widths = [scaled(c, width) for c in (64, 128, 256, 512)]
        self.in_planes = widths[0]
        self.conv1 = nn.Conv2d(3, widths[0], 3, 1, 1, bias=False)
        self.layer1 = self._make_layer(widths[0], num_blocks[0], 1)
        self.layer2 = self._make_layer(widths[1], num_blocks[1], 2)
        self.layer3 = self._make_layer(widths[2], num_blocks[2], 2)
        self.layer4 = self._make_layer(widths[3], num_blocks[3], 2)
        self.bn = nn.BatchNorm2d(widths[3])
        self.linear = nn.Linear(widths[3], num_classes)

    def _make_layer(self, planes, blocks, stride):
        layers = []
        for s in [stride] + [1] * (blocks - 1):
            layers.append(PreActBlock(self.in_planes, planes, s))
            self.in_planes = planes
        return nn.Sequential(*layers)

    def forward(self, x, with_logits=True):
        out = self.conv1(self.normalizer(x))
        out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
        out = F.relu(self.bn(out))
        rep = F.adaptive_avg_pool2d(out, 1).flatten(1)
        return self.linear(rep) if with_logits else rep


def make_model(arch, width=1.0, num_classes=10):
    if arch == "resnet18":
        return ResNet(BasicBlock, (2, 2, 2, 2), num_classes, width)
    if arch == "resnet34":
        return ResNet(BasicBlock, (3, 4, 6, 3), num_classes, width)
    if arch == "resnet50":
        return ResNet(Bottleneck, (3, 4, 6, 3), num_classes, width)
    if arch == "preact_resnet18":
        return PreActResNet((2, 2, 2, 2), num_classes, width)
    raise ValueError(f"unknown architecture '{arch}' ({', '.join(ARCHS)})")


def num_parameters(model):
    return sum(p.numel() for p in model.parameters())
