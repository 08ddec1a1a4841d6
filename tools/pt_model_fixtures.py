#!/usr/bin/env python3
"""Model fixtures for the PyTorch checkpoint import: small networks of the field's model zoos,
saved as their own libraries save them, each with a JSON of what robustprior must infer and
PyTorch's logits on a fixed input.

Needs PyTorch and dill (`pip install dill`); not run by CI. The reference modules are copied from
the original repositories (the robustness library's cifar_models/resnet.py and
imagenet_models/resnet.py (torchvision's layout), fast_adversarial's preact_resnet.py,
RobustBench's wide_resnet.py) with a width knob so the files stay tiny.

Every JSON holds:
  arch, width, num_classes, dataset, mean, std, epoch, image_size: what the import must infer
  options: import options the logits need (e.g. an image size other than the family default)
  input: the formula of the fixed input, x[i] = ((i * 7919) % 1000) / 1000 over the flat
         NCHW index i of a batch of 2, as float32
  logits: (2, classes), computed in float64 from the stored weights in eval mode
Bad fixtures hold instead `error`: substrings the refusal must contain.

    python3 tools/pt_model_fixtures.py [--out tests/weights/fixtures]
"""
import argparse
import json
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

CIFAR_MEAN = [0.4914, 0.4822, 0.4465]  # robustness/datasets.py CIFAR
CIFAR_STD = [0.2023, 0.1994, 0.2010]
FAST_MEAN = [0.4914, 0.4822, 0.4465]  # fast_adversarial CIFAR10/utils.py
FAST_STD = [0.2471, 0.2435, 0.2616]
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]


# --- robustness/cifar_models/resnet.py (ResNet(block, num_blocks, num_classes, feat_scale, wm))
class RbBasicBlock(nn.Module):
    expansion = 1

    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, kernel_size=3, stride=stride, padding=1,
                               bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != self.expansion * planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, self.expansion * planes, kernel_size=1, stride=stride,
                          bias=False),
                nn.BatchNorm2d(self.expansion * planes))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += self.shortcut(x)
        return F.relu(out)


class RbBottleneck(nn.Module):
    expansion = 4

    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=stride, padding=1,
                               bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, self.expansion * planes, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(self.expansion * planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != self.expansion * planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, self.expansion * planes, kernel_size=1, stride=stride,
                          bias=False),
                nn.BatchNorm2d(self.expansion * planes))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        out += self.shortcut(x)
        return F.relu(out)


class RbResNet(nn.Module):
    def __init__(self, block, num_blocks, num_classes=10, feat_scale=1, wm=1):
        super().__init__()
        widths = [int(w * wm) for w in [64, 128, 256, 512]]
        self.in_planes = widths[0]
        self.conv1 = nn.Conv2d(3, self.in_planes, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(self.in_planes)
        self.layer1 = self._make_layer(block, widths[0], num_blocks[0], stride=1)
        self.layer2 = self._make_layer(block, widths[1], num_blocks[1], stride=2)
        self.layer3 = self._make_layer(block, widths[2], num_blocks[2], stride=2)
        self.layer4 = self._make_layer(block, widths[3], num_blocks[3], stride=2)
        self.linear = nn.Linear(feat_scale * widths[3] * block.expansion, num_classes)

    def _make_layer(self, block, planes, num_blocks, stride):
        layers = []
        for s in [stride] + [1] * (num_blocks - 1):
            layers.append(block(self.in_planes, planes, s))
            self.in_planes = planes * block.expansion
        return nn.Sequential(*layers)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
        out = F.avg_pool2d(out, 4)
        return self.linear(out.view(out.size(0), -1))


# --- robustness/tools/helpers.py InputNormalize and attacker.py AttackerModel / Attacker
class InputNormalize(nn.Module):
    def __init__(self, new_mean, new_std):
        super().__init__()
        self.register_buffer("new_mean", torch.tensor(new_mean)[..., None, None])
        self.register_buffer("new_std", torch.tensor(new_std)[..., None, None])

    def forward(self, x):
        x = torch.clamp(x, 0, 1)
        return (x - self.new_mean) / self.new_std


class Attacker(nn.Module):
    def __init__(self, model, mean, std):
        super().__init__()
        self.normalize = InputNormalize(mean, std)
        self.model = model


class AttackerModel(nn.Module):
    def __init__(self, model, mean, std):
        super().__init__()
        self.normalizer = InputNormalize(mean, std)
        self.model = model
        self.attacker = Attacker(model, mean, std)

    def forward(self, x):
        return self.model(self.normalizer(x))


# --- fast_adversarial CIFAR10/preact_resnet.py (channels times a width knob)
class PreActBlock(nn.Module):
    expansion = 1

    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_planes)
        self.conv1 = nn.Conv2d(in_planes, planes, kernel_size=3, stride=stride, padding=1,
                               bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=1, padding=1, bias=False)
        if stride != 1 or in_planes != self.expansion * planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, self.expansion * planes, kernel_size=1, stride=stride,
                          bias=False))

    def forward(self, x):
        out = F.relu(self.bn1(x))
        # fast_adversarial's block projects the raw input x (kuangliu's original projects out).
        shortcut = self.shortcut(x) if hasattr(self, "shortcut") else x
        out = self.conv1(out)
        out = self.conv2(F.relu(self.bn2(out)))
        out += shortcut
        return out


class PreActResNet(nn.Module):
    def __init__(self, block, num_blocks, num_classes=10, wm=1):
        super().__init__()
        widths = [int(w * wm) for w in [64, 128, 256, 512]]
        self.in_planes = widths[0]
        self.conv1 = nn.Conv2d(3, widths[0], kernel_size=3, stride=1, padding=1, bias=False)
        self.layer1 = self._make_layer(block, widths[0], num_blocks[0], stride=1)
        self.layer2 = self._make_layer(block, widths[1], num_blocks[1], stride=2)
        self.layer3 = self._make_layer(block, widths[2], num_blocks[2], stride=2)
        self.layer4 = self._make_layer(block, widths[3], num_blocks[3], stride=2)
        self.bn = nn.BatchNorm2d(widths[3] * block.expansion)
        self.linear = nn.Linear(widths[3] * block.expansion, num_classes)

    def _make_layer(self, block, planes, num_blocks, stride):
        layers = []
        for s in [stride] + [1] * (num_blocks - 1):
            layers.append(block(self.in_planes, planes, s))
            self.in_planes = planes * block.expansion
        return nn.Sequential(*layers)

    def forward(self, x):
        out = self.conv1(x)
        out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
        out = F.relu(self.bn(out))
        out = F.avg_pool2d(out, 4)
        return self.linear(out.view(out.size(0), -1))


# --- torchvision/models/resnet.py, as robustness/imagenet_models/resnet.py uses it
def conv3x3(in_planes, out_planes, stride=1):
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1, bias=False)


def conv1x1(in_planes, out_planes, stride=1):
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class TvBasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        return self.relu(out + identity)


class TvBottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = conv1x1(inplanes, planes)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, planes, stride)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = conv1x1(planes, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        return self.relu(out + identity)


class TvResNet(nn.Module):
    def __init__(self, block, layers, num_classes=1000, wm=1):
        super().__init__()
        widths = [int(w * wm) for w in [64, 128, 256, 512]]
        self.inplanes = widths[0]
        self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, widths[0], layers[0])
        self.layer2 = self._make_layer(block, widths[1], layers[1], stride=2)
        self.layer3 = self._make_layer(block, widths[2], layers[2], stride=2)
        self.layer4 = self._make_layer(block, widths[3], layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(widths[3] * block.expansion, num_classes)

    def _make_layer(self, block, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(conv1x1(self.inplanes, planes * block.expansion, stride),
                                       nn.BatchNorm2d(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes))
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = torch.flatten(self.avgpool(x), 1)
        return self.fc(x)


# --- robustbench/model_zoo/architectures/wide_resnet.py (widen_factor times a width knob)
class WrnBasicBlock(nn.Module):
    def __init__(self, in_planes, out_planes, stride):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_planes)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1,
                               bias=False)
        self.bn2 = nn.BatchNorm2d(out_planes)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(out_planes, out_planes, kernel_size=3, stride=1, padding=1,
                               bias=False)
        self.equalInOut = in_planes == out_planes
        self.convShortcut = (not self.equalInOut) and nn.Conv2d(
            in_planes, out_planes, kernel_size=1, stride=stride, padding=0, bias=False) or None

    def forward(self, x):
        if not self.equalInOut:
            x = self.relu1(self.bn1(x))
        else:
            out = self.relu1(self.bn1(x))
        out = self.relu2(self.bn2(self.conv1(out if self.equalInOut else x)))
        out = self.conv2(out)
        return torch.add(x if self.equalInOut else self.convShortcut(x), out)


class NetworkBlock(nn.Module):
    def __init__(self, nb_layers, in_planes, out_planes, stride):
        super().__init__()
        self.layer = nn.Sequential(*[
            WrnBasicBlock(i == 0 and in_planes or out_planes, out_planes, i == 0 and stride or 1)
            for i in range(int(nb_layers))
        ])

    def forward(self, x):
        return self.layer(x)


class WideResNet(nn.Module):
    def __init__(self, depth=28, num_classes=10, widen_factor=10, wm=1):
        super().__init__()
        n_channels = [16, int(16 * widen_factor * wm), int(32 * widen_factor * wm),
                      int(64 * widen_factor * wm)]
        n = (depth - 4) / 6
        self.conv1 = nn.Conv2d(3, n_channels[0], kernel_size=3, stride=1, padding=1, bias=False)
        self.block1 = NetworkBlock(n, n_channels[0], n_channels[1], 1)
        self.block2 = NetworkBlock(n, n_channels[1], n_channels[2], 2)
        self.block3 = NetworkBlock(n, n_channels[2], n_channels[3], 2)
        self.bn1 = nn.BatchNorm2d(n_channels[3])
        self.relu = nn.ReLU(inplace=True)
        self.fc = nn.Linear(n_channels[3], num_classes)
        self.nChannels = n_channels[3]

    def forward(self, x):
        out = self.block3(self.block2(self.block1(self.conv1(x))))
        out = self.relu(self.bn1(out))
        out = F.avg_pool2d(out, 8)
        return self.fc(out.view(-1, self.nChannels))


# --- weights, statistics, input


def randomize(net, seed, image_size):
    """Non-trivial weights and BN statistics: affine parameters drawn around 1 and 0, running
    statistics measured on random batches (so activations keep a sane scale through the depth)
    and then perturbed, num_batches_tracked set."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.copy_(torch.rand(m.weight.shape, generator=g) + 0.5)
                m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)
                m.momentum = None  # a cumulative average over the calibration batches
                m.reset_running_stats()
            elif isinstance(m, nn.Linear) and m.bias is not None:
                m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)
        net.train()
        for _ in range(2):
            net(torch.rand(8, 3, image_size, image_size, generator=g))
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.momentum = 0.1
                m.running_mean.mul_(torch.rand(m.running_mean.shape, generator=g) * 0.4 + 0.8)
                m.running_var.mul_(torch.rand(m.running_var.shape, generator=g) * 0.4 + 0.8)
                m.num_batches_tracked.fill_(int(torch.randint(1, 1000, (1,), generator=g)))
    net.eval()


def fixed_input(image_size):
    n = 2 * 3 * image_size * image_size
    i = torch.arange(n, dtype=torch.int64)
    x = ((i * 7919) % 1000).to(torch.float64) / 1000
    return x.to(torch.float32).view(2, 3, image_size, image_size)


def reference_logits(net, mean, std, image_size):
    """Logits in float64 from the weights as stored (clamp, normalize, network; eval mode)."""
    import copy
    ref = copy.deepcopy(net).double().eval()
    x = fixed_input(image_size).double()
    m = torch.tensor(mean, dtype=torch.float64).view(1, 3, 1, 1)
    s = torch.tensor(std, dtype=torch.float64).view(1, 3, 1, 1)
    with torch.no_grad():
        return ref((x.clamp(0, 1) - m) / s).tolist()


def sgd_step(net, seed):
    """One SGD step with momentum so the optimizer state holds momentum buffers."""
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    schedule = torch.optim.lr_scheduler.StepLR(opt, step_size=50, gamma=0.1)
    g = torch.Generator().manual_seed(seed)
    net.train()
    loss = net(torch.rand(4, 3, 32, 32, generator=g)).square().mean()
    loss.backward()
    opt.step()
    schedule.step()
    net.eval()
    return opt, schedule


CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                   "ship", "truck"]


LEGACY = {"_use_new_zipfile_serialization": False}  # torch < 1.6's format, and smaller files


def write(out, name, obj, meta, **save_kw):
    path = os.path.join(out, name + ".pt")
    torch.save(obj, path, **save_kw)
    with open(os.path.join(out, name + ".json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
    return os.path.getsize(path)


def expected(arch, width, classes, dataset, mean, std, epoch, image_size, logits, options=None):
    return {"arch": arch, "width": width, "num_classes": classes, "dataset": dataset,
            "mean": mean, "std": std, "epoch": epoch, "image_size": image_size,
            "options": options or {},
            "input": "x[i] = ((i * 7919) % 1000) / 1000, flat NCHW index, batch 2, float32",
            "logits_dtype": "float64", "logits": logits}


def robustness_checkpoint(net, seed, epoch, mean, std):
    """What robustness/train.py saves: the DataParallel-wrapped AttackerModel's state dict, the
    optimizer, the schedule and the epoch, pickled with dill."""
    opt, schedule = sgd_step(net, seed)
    dp = nn.DataParallel(AttackerModel(net, mean, std))
    return {"model": dp.state_dict(), "optimizer": opt.state_dict(),
            "schedule": schedule.state_dict(), "epoch": epoch}


def make_model_fixtures(out):
    import dill  # the robustness library pickles its checkpoints with dill

    out = os.path.join(out, "pt_models")
    os.makedirs(out, exist_ok=True)
    sizes = {}
    torch.manual_seed(0)

    # The robustness library's CIFAR ResNet-50 (legacy serialization, as torch < 1.6 wrote
    # the library's published files) and ResNet-18 (zip serialization).
    net = RbResNet(RbBottleneck, [3, 4, 6, 3], wm=1 / 64)
    randomize(net, 1, 32)
    ckpt = robustness_checkpoint(net, 2, 90, CIFAR_MEAN, CIFAR_STD)
    sizes["robustness_resnet50_legacy"] = write(
        out, "robustness_resnet50_legacy", ckpt,
        expected("resnet50", 1 / 64, 10, "cifar10", CIFAR_MEAN, CIFAR_STD, 90, 32,
                 reference_logits(net, CIFAR_MEAN, CIFAR_STD, 32)), pickle_module=dill,
        _use_new_zipfile_serialization=False)

    net = RbResNet(RbBasicBlock, [2, 2, 2, 2], wm=1 / 64)
    randomize(net, 3, 32)
    ckpt = robustness_checkpoint(net, 4, 7, CIFAR_MEAN, CIFAR_STD)
    # Training scripts often save their arguments beside the model: an object the reader keeps
    # opaque, which must not stop the load.
    ckpt["args"] = argparse.Namespace(arch="resnet18", eps=0.5, constraint="2")
    sizes["robustness_resnet18_zip"] = write(
        out, "robustness_resnet18_zip", ckpt,
        expected("resnet18", 1 / 64, 10, "cifar10", CIFAR_MEAN, CIFAR_STD, 7, 32,
                 reference_logits(net, CIFAR_MEAN, CIFAR_STD, 32)), pickle_module=dill)

    # fast_adversarial's PreActResNet-18: a plain state dict.
    net = PreActResNet(PreActBlock, [2, 2, 2, 2], wm=1 / 64)
    randomize(net, 6, 32)
    sizes["fast_preact_resnet18"] = write(
        out, "fast_preact_resnet18", net.state_dict(),
        expected("preact_resnet18", 1 / 64, 10, "cifar10", FAST_MEAN, FAST_STD, 0, 32,
                 reference_logits(net, FAST_MEAN, FAST_STD, 32)))

    # torchvision-layout ImageNet ResNets at 64x64: a RestrictedImageNet ResNet-18 (9 classes)
    # trained under DataParallel, saved as {'state_dict': module.*}; a 10-class ResNet-50 under
    # {'net': ...}.
    net = TvResNet(TvBasicBlock, [2, 2, 2, 2], num_classes=9, wm=1 / 64)
    randomize(net, 7, 64)
    sizes["torchvision_resnet18"] = write(
        out, "torchvision_resnet18", {"state_dict": nn.DataParallel(net).state_dict(), "epoch": 3},
        expected("imagenet_resnet18", 1 / 64, 9, "restricted_imagenet", IMAGENET_MEAN,
                 IMAGENET_STD, 3, 224, reference_logits(net, IMAGENET_MEAN, IMAGENET_STD, 64),
                 {"image_size": 64}))

    net = TvResNet(TvBottleneck, [3, 4, 6, 3], num_classes=10, wm=1 / 64)
    randomize(net, 8, 64)
    sizes["torchvision_resnet50"] = write(
        out, "torchvision_resnet50", {"net": net.state_dict()},
        expected("imagenet_resnet50", 1 / 64, 10, "cifar10", IMAGENET_MEAN, IMAGENET_STD, 0,
                 224, reference_logits(net, IMAGENET_MEAN, IMAGENET_STD, 64), {"image_size": 64}),
        **LEGACY)

    # RobustBench's WRN-28 with fp16 weights (as some of its model files are), no normalization;
    # the logits come from the fp16 values.
    net = WideResNet(depth=28, widen_factor=10, wm=1 / 40)
    randomize(net, 9, 32)
    net = net.half()
    none_mean, none_std = [0.0, 0.0, 0.0], [1.0, 1.0, 1.0]
    sizes["robustbench_wrn28_fp16"] = write(
        out, "robustbench_wrn28_fp16", net.state_dict(),
        expected("wide_resnet28_10", 1 / 40, 10, "cifar10", none_mean, none_std, 0, 32,
                 reference_logits(net, none_mean, none_std, 32)), **LEGACY)

    # Bad files, each refused naming the culprit: three plain PreActResNet-18 state dicts and a
    # robustness-library checkpoint whose attacker copy differs from the model.
    net = PreActResNet(PreActBlock, [2, 2, 2, 2], wm=1 / 64)
    randomize(net, 10, 32)
    sd = net.state_dict()

    renamed = {(k.replace("layer2.1.bn2.", "layer2.1.bn_2.") if "layer2.1.bn2." in k else k): v
               for k, v in sd.items()}
    sizes["bad_renamed_key"] = write(out, "bad_renamed_key", renamed, {
        "error": ["layer2.1.bn2.weight", "layer2.1.bn_2.weight"]}, **LEGACY)

    extra = dict(sd)
    extra["layer4.1.conv22.weight"] = torch.randn(8, 8, 1, 1)
    sizes["bad_extra_key"] = write(out, "bad_extra_key", extra, {
        "error": ["layer4.1.conv22.weight", "layer4.1.conv2.weight"]}, **LEGACY)

    nan = dict(sd)
    nan["layer3.0.conv2.weight"] = sd["layer3.0.conv2.weight"].clone()
    nan["layer3.0.conv2.weight"].view(-1)[5] = float("nan")
    sizes["bad_nan_weight"] = write(out, "bad_nan_weight", nan, {
        "error": ["layer3.0.conv2.weight", "non-finite"]}, **LEGACY)

    net = RbResNet(RbBasicBlock, [2, 2, 2, 2], wm=1 / 64)
    randomize(net, 11, 32)
    dp = nn.DataParallel(AttackerModel(net, CIFAR_MEAN, CIFAR_STD))
    differs = dp.state_dict()
    key = "module.attacker.model.layer1.0.bn1.running_var"
    differs[key] = differs[key].clone()
    differs[key][0] += 0.5
    sizes["bad_attacker_differs"] = write(
        out, "bad_attacker_differs", {"model": differs, "epoch": 1},
        {"error": ["module.attacker.model.layer1.0.bn1.running_var", "differs"]},
        pickle_module=dill, **LEGACY)
    return sizes


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default=os.path.join(here, "..", "tests", "weights", "fixtures"))
    args = p.parse_args()
    sizes = make_model_fixtures(args.out)
    for name, size in sizes.items():
        print(f"{name}.pt: {size} bytes")
    print(f"total {sum(sizes.values())} bytes")


if __name__ == "__main__":
    main()
