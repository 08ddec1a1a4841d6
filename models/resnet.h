// CIFAR ResNets as the robustness library defines them (cifar_models/resnet.py): a 3x3
// stride-1 stem (conv1, bn1), no max-pool, four stages of residual blocks (64, 128, 256, 512
// channels times the width multiplier; stride 2 from the second stage on), global average
// pooling (the 4x4 average pool on 32x32 inputs) and a linear layer.
//
//   resnet18  BasicBlock [2, 2, 2, 2]     resnet34  BasicBlock [3, 4, 6, 3]
//   resnet50  Bottleneck [3, 4, 6, 3] (expansion 4)
//
// Parameter names match the library's state_dict without its "module.model." prefix.
#pragma once

#include <cstdint>
#include <memory>

#include "engine/nn/network.h"

namespace rp {

std::unique_ptr<Network> make_resnet(const NetworkSpec& spec, Device device, std::uint64_t seed);

}  // namespace rp
