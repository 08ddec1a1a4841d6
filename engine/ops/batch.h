// Building a training or evaluation batch from a dataset held on the device as uint8 (maths
// and augmentation in kernels/cpu/gather.h).
//
//   images (M, C, H, W) u8   labels (M) i32   order (N) i32, indices into the dataset
//   out_images (N, C, H, W) floating, in [0, 1]   out_labels (N) i32
//   aug: random crop with `pad` zero padding and horizontal flip, drawn from aug.rng at
//        positions aug.rng.offset + j; aug.enabled = false copies and scales only
// Indices must lie in [0, M). On a CPU context a bad index throws rp::Error naming it. On a
// CUDA context `order` lives on the device and is not read back (that would be a host round
// trip per batch): an example whose index is outside [0, M) gets an all-NaN image and label
// -1 (the loss of its step is then NaN and the divergence check names the step). The loader
// builds `order` itself, so it is always in range there.
#pragma once

#include "engine/core/context.h"
#include "engine/core/tensor.h"
#include "kernels/cpu/gather.h"

namespace rp {

using Augmentation = cpu::Augmentation;

void gather_batch(Context& ctx, const Tensor& images, const Tensor& labels, const Tensor& order,
                  const Augmentation& aug, const Tensor& out_images, const Tensor& out_labels);

}  // namespace rp
