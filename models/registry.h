// Models by name: the one place that maps an architecture string to its constructor.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/nn/network.h"
#include "engine/nn/parameters.h"

namespace rp {

// resnet18, resnet34, resnet50, preact_resnet18 (CIFAR); imagenet_resnet18, imagenet_resnet50
// (torchvision's layout); wide_resnet28_10, wide_resnet34_10 (RobustBench's WideResNet).
const std::vector<std::string>& architectures();

// A network with freshly initialized parameters (PyTorch's defaults, drawn from `seed`) on
// `device`. Throws rp::Error for an unknown architecture or a bad spec.
std::unique_ptr<Network> make_network(const NetworkSpec& spec, Device device, std::uint64_t seed);

// Every parameter and buffer (name, shape, kind) the network of `spec` holds, in registration
// order, computed without allocating them: what a checkpoint is checked against before a network
// of its metadata's size is built. Throws rp::Error as make_network does.
std::vector<ParamEntry> parameter_plan(const NetworkSpec& spec);

}  // namespace rp
