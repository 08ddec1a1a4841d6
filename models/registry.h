// Models by name: the one place that maps an architecture string to its constructor.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/nn/network.h"

namespace rp {

// resnet18, resnet34, resnet50, preact_resnet18 (CIFAR); imagenet_resnet18, imagenet_resnet50
// (torchvision's layout); wide_resnet28_10, wide_resnet34_10 (RobustBench's WideResNet).
const std::vector<std::string>& architectures();

// A network with freshly initialized parameters (PyTorch's defaults, drawn from `seed`) on
// `device`. Throws rp::Error for an unknown architecture or a bad spec.
std::unique_ptr<Network> make_network(const NetworkSpec& spec, Device device, std::uint64_t seed);

}  // namespace rp
