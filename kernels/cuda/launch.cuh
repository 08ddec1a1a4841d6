// What every hand-written kernel's launcher shares: grid sizing, the launch check (the op and
// its shapes named on failure; with ROBUSTPRIOR_CUDA_SYNC_DEBUG a synchronization after each
// launch, so an asynchronous fault is reported by the launch that caused it) and 16-byte
// vector access. Include only from .cu files.
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <string>

#include "engine/core/build_info.h"
#include "engine/core/cuda_check.h"
#include "engine/core/cuda_handles.h"

namespace rp::cuda {

constexpr int kBlock = 256;

// Enough blocks to fill the device several times over for grid-stride loops, never more than
// the work needs.
inline unsigned grid_for(std::int64_t work, int block = kBlock) {
  const std::int64_t blocks = (work + block - 1) / block;
  return static_cast<unsigned>(std::max<std::int64_t>(1, std::min<std::int64_t>(blocks, 65535)));
}

inline void check_launch(CudaHandles* h, const char* op, const std::string& shapes) {
  const cudaError_t launched = cudaGetLastError();
  RP_CHECK(launched == cudaSuccess, op,
           "kernel launch failed for " << shapes << ": " << cudaGetErrorName(launched) << ": "
                                       << cudaGetErrorString(launched));
  if constexpr (build_info::kCudaSyncDebug) {
    const cudaError_t ran = cudaStreamSynchronize(h->stream);
    RP_CHECK(ran == cudaSuccess, op,
             "kernel failed for " << shapes << ": " << cudaGetErrorName(ran) << ": "
                                  << cudaGetErrorString(ran));
  }
}

// float4 / double2 access when every pointer is 16-byte aligned and the per-example length is
// a multiple of the vector width; otherwise the scalar path.
template <typename T>
struct Vec;
template <>
struct Vec<float> {
  using type = float4;
  static constexpr int width = 4;
};
template <>
struct Vec<double> {
  using type = double2;
  static constexpr int width = 2;
};

inline bool aligned16(const void* p) {
  return (reinterpret_cast<std::uintptr_t>(p) & 15u) == 0;
}

// The sum over the block, returned to every thread. Needs blockDim.x a multiple of 32.
__device__ inline double block_sum(double v) {
  __shared__ double partial[32];
  for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  if (warp == 0) {
    double t = lane < static_cast<int>(blockDim.x >> 5) ? partial[lane] : 0.0;
    for (int o = 16; o > 0; o >>= 1) t += __shfl_down_sync(0xffffffffu, t, o);
    if (lane == 0) partial[0] = t;
  }
  __syncthreads();
  const double total = partial[0];
  __syncthreads();  // partial is reused by the next call
  return total;
}

}  // namespace rp::cuda
