// What every hand-written kernel's launcher shares: grid sizing, the launch check (the op and
// its shapes named on failure; with ROBUSTPRIOR_CUDA_SYNC_DEBUG a synchronization after each
// launch, so an asynchronous fault is reported by the launch that caused it) and 16-byte
// vector access. Include only from .cu files.
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <type_traits>

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

// ---- elementwise maps ------------------------------------------------------------------------
// out[e] = f(a[e], b[e], c[e], out[e]) over n elements. Any input may be null (it reads as 0);
// out is read only when ReadsOut (accumulating gradients). Float and double run on 16-byte
// vectors when every pointer is aligned and n is a multiple of the width; the rest scalar.

template <bool ReadsOut, typename T, typename F>
__global__ void map_scalar(std::int64_t n, const T* a, const T* b, const T* c, T* out, F f) {
  for (std::int64_t e = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; e < n;
       e += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    out[e] = f(a != nullptr ? a[e] : T(0), b != nullptr ? b[e] : T(0), c != nullptr ? c[e] : T(0),
               ReadsOut ? out[e] : T(0));
  }
}

template <bool ReadsOut, typename T, typename F>
__global__ void map_vector(std::int64_t count, const typename Vec<T>::type* a,
                           const typename Vec<T>::type* b, const typename Vec<T>::type* c,
                           typename Vec<T>::type* out, F f) {
  using V = typename Vec<T>::type;
  for (std::int64_t e = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; e < count;
       e += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const V va = a != nullptr ? a[e] : V{}, vb = b != nullptr ? b[e] : V{};
    const V vc = c != nullptr ? c[e] : V{}, vo = ReadsOut ? out[e] : V{};
    const T* sa = reinterpret_cast<const T*>(&va);
    const T* sb = reinterpret_cast<const T*>(&vb);
    const T* sc = reinterpret_cast<const T*>(&vc);
    const T* so = reinterpret_cast<const T*>(&vo);
    V r;
    T* sr = reinterpret_cast<T*>(&r);
#pragma unroll
    for (int k = 0; k < Vec<T>::width; ++k) sr[k] = f(sa[k], sb[k], sc[k], so[k]);
    out[e] = r;
  }
}

template <bool ReadsOut, typename T, typename F>
void launch_map(CudaHandles* h, const char* op, const std::string& shape, std::int64_t n,
                const T* a, const T* b, const T* c, T* out, F f) {
  if (n == 0) return;
  bool vector = false;
  if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
    const auto ok = [](const void* p) { return p == nullptr || aligned16(p); };
    vector = n % Vec<T>::width == 0 && ok(a) && ok(b) && ok(c) && aligned16(out);
    if (vector) {
      using V = typename Vec<T>::type;
      const std::int64_t count = n / Vec<T>::width;
      map_vector<ReadsOut, T><<<grid_for(count), kBlock, 0, h->stream>>>(
          count, reinterpret_cast<const V*>(a), reinterpret_cast<const V*>(b),
          reinterpret_cast<const V*>(c), reinterpret_cast<V*>(out), f);
    }
  }
  if (!vector) map_scalar<ReadsOut, T><<<grid_for(n), kBlock, 0, h->stream>>>(n, a, b, c, out, f);
  check_launch(h, op, shape);
}

}  // namespace rp::cuda
