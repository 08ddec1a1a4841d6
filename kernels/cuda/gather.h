// Gathering a batch from the uint8 dataset resident on the GPU: the CUDA twin of
// kernels/cpu/gather.h, with its definitions. A block per example draws the crop offsets and
// the flip from the same Philox block (rng.offset + j) through the shared augment_draw, and
// divides by 255 as the CPU does, so the batch is bit-identical to the CPU reference's.
// `order` is not read back to the host (no synchronization per batch): an example whose index
// lies outside [0, m) gets an all-NaN image and label -1 instead of reading out of bounds, so
// the loss of the step that uses it is NaN and the divergence check reports the step.
#pragma once

#include <cstdint>

#include "kernels/cpu/gather.h"

namespace rp {
struct CudaHandles;
}

namespace rp::cuda {

using cpu::Augmentation;
using cpu::GatherShape;

template <typename T>
void gather_batch(CudaHandles* h, const GatherShape& s, const std::uint8_t* images,
                  const std::int32_t* labels, const std::int32_t* order, const Augmentation& aug,
                  T* out_images, std::int32_t* out_labels);

}  // namespace rp::cuda
