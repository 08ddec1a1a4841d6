// Softmax cross-entropy on the GPU: the CUDA twin of kernels/cpu/cross_entropy.h. A warp per
// example computes the row's max and sum of exponentials in double; the mean is a second,
// single-block launch. Labels are not read back to the host (no synchronization inside an
// op): an example whose label is outside [0, k) gets a NaN loss and NaN gradients, which the
// training loop's divergence check reports with its step.
#pragma once

#include <cstdint>

#include "engine/core/grad_mode.h"

namespace rp {
struct CudaHandles;
}

namespace rp::cuda {

template <typename T>
void cross_entropy_forward(CudaHandles* h, std::int64_t n, std::int64_t k, const T* logits,
                           const std::int32_t* labels, T* losses, T* mean);
template <typename T>
void cross_entropy_backward(CudaHandles* h, std::int64_t n, std::int64_t k, const T* logits,
                            const std::int32_t* labels, const T* dlosses, T* dlogits,
                            GradMode mode);

}  // namespace rp::cuda
