// Global average pooling and input normalization on the GPU: the CUDA twins of
// kernels/cpu/pool.h and normalize.h, on the context's stream.
//   pool forward: a warp per (n, c) plane, summed in double (another order than the CPU's).
//   pool backward, normalize forward and backward: one elementwise launch each, bit-identical
//   to the CPU reference (IEEE division, no fused multiply-add).
#pragma once

#include <cstdint>

#include "engine/core/grad_mode.h"

namespace rp {
struct CudaHandles;
}

namespace rp::cuda {

template <typename T>
void global_avg_pool_forward(CudaHandles* h, std::int64_t n, std::int64_t c, std::int64_t hw,
                             const T* x, T* y);
template <typename T>
void global_avg_pool_backward(CudaHandles* h, std::int64_t n, std::int64_t c, std::int64_t hw,
                              const T* dy, T* dx, GradMode mode);
template <typename T>
void normalize_forward(CudaHandles* h, std::int64_t n, std::int64_t c, std::int64_t hw, const T* x,
                       const T* mean, const T* std, T* y);
template <typename T>
void normalize_backward(CudaHandles* h, std::int64_t n, std::int64_t c, std::int64_t hw, const T* x,
                        const T* dy, const T* std, T* dx, GradMode mode);

}  // namespace rp::cuda
