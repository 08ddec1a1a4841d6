// Global average pooling and input normalization (pool_normalize.h).
#include <sstream>

#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/pool_normalize.h"

namespace rp::cuda {
namespace {

using i64 = std::int64_t;

std::string shape_text(i64 n, i64 c, i64 hw) {
  std::ostringstream os;
  os << "(" << n << ", " << c << ", " << hw << " pixels)";
  return os.str();
}

// A warp per plane: lanes stride over the plane's pixels, then a shuffle reduction.
template <typename T>
__global__ void pool_forward_kernel(i64 planes, i64 hw, const T* x, T* y) {
  const int lane = threadIdx.x & 31;
  const i64 warps = static_cast<i64>(gridDim.x) * (blockDim.x >> 5);
  for (i64 plane = blockIdx.x * static_cast<i64>(blockDim.x >> 5) + (threadIdx.x >> 5);
       plane < planes; plane += warps) {
    const T* p = x + plane * hw;
    double sum = 0;
    for (i64 i = lane; i < hw; i += 32) sum += static_cast<double>(p[i]);
    for (int o = 16; o > 0; o >>= 1) sum += __shfl_down_sync(0xffffffffu, sum, o);
    if (lane == 0) y[plane] = static_cast<T>(sum / static_cast<double>(hw));
  }
}

template <typename T>
__global__ void pool_backward_kernel(i64 count, i64 hw, const T* dy, T* dx, bool accumulate) {
  for (i64 e = blockIdx.x * static_cast<i64>(blockDim.x) + threadIdx.x; e < count;
       e += static_cast<i64>(gridDim.x) * blockDim.x) {
    const T g = static_cast<T>(static_cast<double>(dy[e / hw]) / static_cast<double>(hw));
    dx[e] = accumulate ? dx[e] + g : g;
  }
}

template <typename T>
__global__ void normalize_forward_kernel(i64 count, i64 c, i64 hw, const T* x, const T* mean,
                                         const T* std, T* y) {
  for (i64 e = blockIdx.x * static_cast<i64>(blockDim.x) + threadIdx.x; e < count;
       e += static_cast<i64>(gridDim.x) * blockDim.x) {
    const i64 ch = (e / hw) % c;
    const T v = x[e] < T(0) ? T(0) : (x[e] > T(1) ? T(1) : x[e]);
    y[e] = (v - mean[ch]) / std[ch];
  }
}

template <typename T>
__global__ void normalize_backward_kernel(i64 count, i64 c, i64 hw, const T* x, const T* dy,
                                          const T* std, T* dx, bool accumulate) {
  for (i64 e = blockIdx.x * static_cast<i64>(blockDim.x) + threadIdx.x; e < count;
       e += static_cast<i64>(gridDim.x) * blockDim.x) {
    const bool inside = x[e] >= T(0) && x[e] <= T(1);
    const T g = inside ? dy[e] / std[(e / hw) % c] : T(0);
    dx[e] = accumulate ? dx[e] + g : g;
  }
}

}  // namespace

template <typename T>
void global_avg_pool_forward(CudaHandles* h, i64 n, i64 c, i64 hw, const T* x, T* y) {
  const i64 planes = n * c;
  if (planes == 0) return;
  constexpr int warps_per_block = kBlock / 32;
  const i64 blocks = (planes + warps_per_block - 1) / warps_per_block;
  pool_forward_kernel<T>
      <<<static_cast<unsigned>(std::min<i64>(blocks, 65535)), kBlock, 0, h->stream>>>(planes, hw, x,
                                                                                      y);
  check_launch(h, "global_avg_pool_forward", shape_text(n, c, hw));
}

template <typename T>
void global_avg_pool_backward(CudaHandles* h, i64 n, i64 c, i64 hw, const T* dy, T* dx,
                              GradMode mode) {
  const i64 count = n * c * hw;
  if (count == 0) return;
  pool_backward_kernel<T>
      <<<grid_for(count), kBlock, 0, h->stream>>>(count, hw, dy, dx, mode == GradMode::Accumulate);
  check_launch(h, "global_avg_pool_backward", shape_text(n, c, hw));
}

template <typename T>
void normalize_forward(CudaHandles* h, i64 n, i64 c, i64 hw, const T* x, const T* mean,
                       const T* std, T* y) {
  const i64 count = n * c * hw;
  if (count == 0) return;
  normalize_forward_kernel<T>
      <<<grid_for(count), kBlock, 0, h->stream>>>(count, c, hw, x, mean, std, y);
  check_launch(h, "normalize_forward", shape_text(n, c, hw));
}

template <typename T>
void normalize_backward(CudaHandles* h, i64 n, i64 c, i64 hw, const T* x, const T* dy, const T* std,
                        T* dx, GradMode mode) {
  const i64 count = n * c * hw;
  if (count == 0) return;
  normalize_backward_kernel<T><<<grid_for(count), kBlock, 0, h->stream>>>(
      count, c, hw, x, dy, std, dx, mode == GradMode::Accumulate);
  check_launch(h, "normalize_backward", shape_text(n, c, hw));
}

#define RP_INSTANTIATE(T)                                                                         \
  template void global_avg_pool_forward<T>(CudaHandles*, i64, i64, i64, const T*, T*);            \
  template void global_avg_pool_backward<T>(CudaHandles*, i64, i64, i64, const T*, T*, GradMode); \
  template void normalize_forward<T>(CudaHandles*, i64, i64, i64, const T*, const T*, const T*,   \
                                     T*);                                                         \
  template void normalize_backward<T>(CudaHandles*, i64, i64, i64, const T*, const T*, const T*,  \
                                      T*, GradMode);
RP_INSTANTIATE(float)
RP_INSTANTIATE(double)
#undef RP_INSTANTIATE

}  // namespace rp::cuda
