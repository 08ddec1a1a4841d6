// ResNets in two layouts that share their blocks (BasicBlock; Bottleneck with expansion 4 and
// its stride on the 3x3 conv2): four stages of residual blocks (64, 128, 256, 512 channels
// times the width multiplier, int(64 * width) etc.; stride 2 from the second stage on), a
// projection shortcut (1x1 strided conv + BN) where the shape changes, global average pooling
// and a linear layer.
//
// CIFAR, as the robustness library defines them (cifar_models/resnet.py): a 3x3 stride-1 stem
// (conv1, bn1), no max-pool, shortcut "shortcut.0/1", head "linear" (the 4x4 average pool on
// 32x32 inputs is the global one). Names match the library's state_dict without its
// "module.model." prefix.
//   resnet18  BasicBlock [2, 2, 2, 2]     resnet34  BasicBlock [3, 4, 6, 3]
//   resnet50  Bottleneck [3, 4, 6, 3]
//
// ImageNet, torchvision's layout (which the robustness library's imagenet_models/resnet.py
// keeps): conv1 7x7 stride 2 pad 3, bn1, relu, maxpool 3x3 stride 2 pad 1, shortcut
// "downsample.0/1", adaptive average pooling, head "fc". Names match torchvision's state_dict.
//   imagenet_resnet18  BasicBlock [2, 2, 2, 2]   imagenet_resnet50  Bottleneck [3, 4, 6, 3]
#pragma once

#include <cstdint>
#include <memory>

#include "engine/nn/network.h"
#include "models/build_target.h"

namespace rp {

std::unique_ptr<Network> make_resnet(const NetworkSpec& spec, const BuildTarget& target);

}  // namespace rp
