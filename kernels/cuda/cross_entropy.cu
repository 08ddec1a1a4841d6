// Softmax cross-entropy (cross_entropy.h).
#include <cmath>
#include <sstream>

#include "kernels/cuda/cross_entropy.h"
#include "kernels/cuda/launch.cuh"

namespace rp::cuda {
namespace {

using i64 = std::int64_t;

constexpr int kWarpsPerBlock = kBlock / 32;

__device__ double warp_max(double v) {
  for (int o = 16; o > 0; o >>= 1) v = fmax(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}
__device__ double warp_sum(double v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

// Row max and sum of exp(z - max) in double, known to every lane.
template <typename T>
__device__ void softmax_stats(const T* z, i64 k, int lane, double& max, double& sum_exp) {
  double m = -INFINITY;
  for (i64 j = lane; j < k; j += 32) m = fmax(m, static_cast<double>(z[j]));
  max = warp_max(m);
  double s = 0;
  for (i64 j = lane; j < k; j += 32) s += exp(static_cast<double>(z[j]) - max);
  sum_exp = warp_sum(s);
}

template <typename T>
__global__ void forward_kernel(i64 n, i64 k, const T* logits, const std::int32_t* labels,
                               T* losses) {
  const int lane = threadIdx.x & 31;
  const i64 warps = static_cast<i64>(gridDim.x) * kWarpsPerBlock;
  for (i64 i = blockIdx.x * static_cast<i64>(kWarpsPerBlock) + (threadIdx.x >> 5); i < n;
       i += warps) {
    const T* z = logits + i * k;
    double max = 0, sum_exp = 0;
    softmax_stats(z, k, lane, max, sum_exp);
    if (lane == 0) {
      const std::int32_t y = labels[i];
      losses[i] = y >= 0 && y < k ? static_cast<T>(max + log(sum_exp) - static_cast<double>(z[y]))
                                  : static_cast<T>(NAN);
    }
  }
}

template <typename T>
__global__ void mean_kernel(i64 n, const T* losses, T* mean) {
  __shared__ double partial[kWarpsPerBlock];
  double s = 0;
  for (i64 i = threadIdx.x; i < n; i += blockDim.x) s += static_cast<double>(losses[i]);
  s = warp_sum(s);
  if ((threadIdx.x & 31) == 0) partial[threadIdx.x >> 5] = s;
  __syncthreads();
  if (threadIdx.x == 0) {
    double total = 0;
    for (int w = 0; w < kWarpsPerBlock; ++w) total += partial[w];
    *mean = static_cast<T>(total / static_cast<double>(n));
  }
}

template <typename T>
__global__ void backward_kernel(i64 n, i64 k, const T* logits, const std::int32_t* labels,
                                const T* dlosses, T* dlogits, bool accumulate) {
  const int lane = threadIdx.x & 31;
  const i64 warps = static_cast<i64>(gridDim.x) * kWarpsPerBlock;
  for (i64 i = blockIdx.x * static_cast<i64>(kWarpsPerBlock) + (threadIdx.x >> 5); i < n;
       i += warps) {
    const T* z = logits + i * k;
    double max = 0, sum_exp = 0;
    softmax_stats(z, k, lane, max, sum_exp);
    const std::int32_t y = labels[i];
    const bool valid = y >= 0 && y < k;
    const double upstream = static_cast<double>(dlosses[i]);
    for (i64 j = lane; j < k; j += 32) {
      const double p = exp(static_cast<double>(z[j]) - max) / sum_exp;
      const T g =
          valid ? static_cast<T>(upstream * (p - (j == y ? 1.0 : 0.0))) : static_cast<T>(NAN);
      T& out = dlogits[i * k + j];
      out = accumulate ? out + g : g;
    }
  }
}

std::string shape_text(i64 n, i64 k) {
  std::ostringstream os;
  os << "logits (" << n << ", " << k << ")";
  return os.str();
}

}  // namespace

template <typename T>
void cross_entropy_forward(CudaHandles* h, i64 n, i64 k, const T* logits,
                           const std::int32_t* labels, T* losses, T* mean) {
  if (n == 0) return;
  forward_kernel<T>
      <<<grid_for(n, kWarpsPerBlock), kBlock, 0, h->stream>>>(n, k, logits, labels, losses);
  check_launch(h, "cross_entropy_forward", shape_text(n, k));
  if (mean != nullptr) {
    mean_kernel<T><<<1, kBlock, 0, h->stream>>>(n, losses, mean);
    check_launch(h, "cross_entropy_forward (mean)", shape_text(n, k));
  }
}

template <typename T>
void cross_entropy_backward(CudaHandles* h, i64 n, i64 k, const T* logits,
                            const std::int32_t* labels, const T* dlosses, T* dlogits,
                            GradMode mode) {
  if (n == 0) return;
  backward_kernel<T><<<grid_for(n, kWarpsPerBlock), kBlock, 0, h->stream>>>(
      n, k, logits, labels, dlosses, dlogits, mode == GradMode::Accumulate);
  check_launch(h, "cross_entropy_backward", shape_text(n, k));
}

#define RP_INSTANTIATE(T)                                                                        \
  template void cross_entropy_forward<T>(CudaHandles*, i64, i64, const T*, const std::int32_t*,  \
                                         T*, T*);                                                \
  template void cross_entropy_backward<T>(CudaHandles*, i64, i64, const T*, const std::int32_t*, \
                                          const T*, T*, GradMode);
RP_INSTANTIATE(float)
RP_INSTANTIATE(double)
#undef RP_INSTANTIATE

}  // namespace rp::cuda
