// Pre-activation networks: a 3x3 stride-1 stem conv without BN, groups of pre-activation
// blocks (bn1-relu-conv1-bn2-relu-conv2, no ReLU after the sum, a 1x1 strided projection
// shortcut where the block changes the shape), then a final BN-ReLU, global average pooling
// and a linear layer. Parameter names match each original's state_dict.
//
// preact_resnet18: PreActResNet-18, the fast-adversarial-training standard
//   (locuslab/fast_adversarial, CIFAR10/preact_resnet.py). Stem 64 channels, stages
//   layer1..layer4 of 2 blocks (64, 128, 256, 512 channels times the width multiplier, int()
//   of the product), projection "shortcut.0" where the stride or the width changes, applied
//   to the block's raw input x (that file's PreActBlock: self.shortcut(x)), final BN "bn",
//   head "linear".
//
// wide_resnet28_10, wide_resnet34_10: RobustBench's WideResNet
//   (robustbench/model_zoo/architectures/wide_resnet.py; depth 28 or 34, widen factor 10).
//   Stem 16 channels (not widened), groups block1..block3 of (depth - 4) / 6 blocks named
//   "blockG.layer.J", with 16k, 32k, 64k channels (k = 10; with a width multiplier w,
//   int(16 * 10 * w) etc., so w = 1 is the original and w = 2 its widen factor 20), strides
//   1, 2, 2. The projection "convShortcut" exists only where the width changes (in != out
//   channels) and reads relu(bn1(x)); with equal widths the shortcut is the raw x. Final BN
//   "bn1", head "fc" (with bias). RobustBench pools with avg_pool2d(8), which on its 32x32
//   inputs is the global average pool used here.
#pragma once

#include <cstdint>
#include <memory>

#include "engine/nn/network.h"
#include "models/build_target.h"

namespace rp {

std::unique_ptr<Network> make_preact_resnet18(const NetworkSpec& spec, const BuildTarget& target);
std::unique_ptr<Network> make_wide_resnet(const NetworkSpec& spec, const BuildTarget& target);

}  // namespace rp
