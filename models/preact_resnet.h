// PreActResNet-18, the fast-adversarial-training standard (locuslab/fast_adversarial,
// preact_resnet.py): a 3x3 stem conv without BN, pre-activation blocks
// (bn-relu-conv-bn-relu-conv, shortcut from the first activation when the shape changes,
// no ReLU after the sum), then bn-relu, global average pooling and a linear layer.
// Parameter names match that file's state_dict; the final BN is "bn".
#pragma once

#include <cstdint>
#include <memory>

#include "engine/nn/network.h"

namespace rp {

std::unique_ptr<Network> make_preact_resnet18(const NetworkSpec& spec, Device device,
                                              std::uint64_t seed);

}  // namespace rp
