// The DLR loss and the margin on the GPU: the CUDA twins of kernels/cpu/dlr.h, with its
// definitions and the same per-example arithmetic (kernels/attack_math.h), a thread per
// example (k is the number of classes: a short row). Classes are not read back to the host
// (no synchronization inside an op): an example whose class or target lies outside [0, k) gets
// a NaN value and a NaN gradient row, as cross_entropy does for a bad label.
#pragma once

#include <cstdint>

#include "engine/core/grad_mode.h"

namespace rp {
struct CudaHandles;
}

namespace rp::cuda {

template <typename T>
void dlr_forward(CudaHandles* h, std::int64_t n, std::int64_t k, const T* z, const std::int32_t* y,
                 const std::int32_t* t, T* values);
template <typename T>
void dlr_backward(CudaHandles* h, std::int64_t n, std::int64_t k, const T* z, const std::int32_t* y,
                  const std::int32_t* t, const T* upstream, T* dz, GradMode mode);
template <typename T>
void margin_forward(CudaHandles* h, std::int64_t n, std::int64_t k, const T* z,
                    const std::int32_t* y, T* values);

}  // namespace rp::cuda
