// Per-example objectives (objectives.h). Built with --fmad=false (kernels/CMakeLists.txt) so
// every expression rounds as the CPU reference's: the coordinate ops and keep_better are
// bit-identical, the distance differs only by the order of its double-precision sums.
#include <cmath>
#include <sstream>

#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/objectives.h"

namespace rp::cuda {
namespace {

using i64 = std::int64_t;

// ||r - t|| and ||t|| of one row, known to every thread of the block.
template <typename T>
__device__ void distance_norms(const T* r, const T* t, i64 f, double& diff, double& target) {
  double sd = 0, st = 0;
  for (i64 j = threadIdx.x; j < f; j += blockDim.x) {
    const double d = static_cast<double>(r[j]) - static_cast<double>(t[j]);
    sd += d * d;
    st += static_cast<double>(t[j]) * static_cast<double>(t[j]);
  }
  diff = sqrt(block_sum(sd));
  target = sqrt(block_sum(st));
}

template <typename T>
__global__ void distance_forward_kernel(i64 n, i64 f, const T* r, const T* target, T* values) {
  for (i64 i = blockIdx.x; i < n; i += gridDim.x) {
    double diff = 0, norm = 0;
    distance_norms(r + i * f, target + i * f, f, diff, norm);
    if (threadIdx.x == 0) values[i] = static_cast<T>(diff / norm);
  }
}

template <typename T>
__global__ void distance_backward_kernel(i64 n, i64 f, const T* r, const T* target,
                                         const T* upstream, T* dr, bool accumulate) {
  for (i64 i = blockIdx.x; i < n; i += gridDim.x) {
    const i64 o = i * f;
    double diff = 0, norm = 0;
    distance_norms(r + o, target + o, f, diff, norm);
    const double scale = diff > 0 ? static_cast<double>(upstream[i]) / (diff * norm) : 0.0;
    for (i64 j = o + threadIdx.x; j < o + f; j += blockDim.x) {
      const double d = static_cast<double>(r[j]) - static_cast<double>(target[j]);
      const T g = static_cast<T>(scale * d);
      dr[j] = accumulate ? dr[j] + g : g;
    }
  }
}

template <typename T>
__global__ void coordinate_forward_kernel(i64 n, i64 f, const T* r, const std::int32_t* k,
                                          bool hinge, T tau, T* values) {
  for (i64 i = blockIdx.x * static_cast<i64>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<i64>(gridDim.x) * blockDim.x) {
    const std::int32_t c = k[i];
    if (c < 0 || c >= f) {
      values[i] = static_cast<T>(NAN);
      continue;
    }
    const T v = r[i * f + c];
    const T shifted = v - tau;
    // std::min(shifted, 0) exactly: (0 < shifted) ? 0 : shifted, so a NaN passes through
    // (fmin would turn it into 0).
    values[i] = hinge ? (T(0) < shifted ? T(0) : shifted) : v;
  }
}

template <typename T>
__global__ void coordinate_backward_kernel(i64 n, i64 f, const T* r, const std::int32_t* k,
                                           bool hinge, T tau, const T* upstream, T* dr,
                                           bool accumulate) {
  const i64 count = n * f;
  for (i64 e = blockIdx.x * static_cast<i64>(blockDim.x) + threadIdx.x; e < count;
       e += static_cast<i64>(gridDim.x) * blockDim.x) {
    const i64 i = e / f, j = e - i * f;
    const std::int32_t c = k[i];
    T g;
    if (c < 0 || c >= f) {
      g = static_cast<T>(NAN);
    } else {
      const bool active = !hinge || r[i * f + c] < tau;
      g = (j == c && active) ? upstream[i] : T(0);
    }
    dr[e] = accumulate ? dr[e] + g : g;
  }
}

// A NaN value never beats, and nothing beats a NaN best: both comparisons are false, as on the
// CPU. Ties keep the best.
template <typename T>
__global__ void keep_better_kernel(i64 n, i64 d, const T* values, const T* x, bool maximize,
                                   T* best_values, T* best_x) {
  for (i64 i = blockIdx.x; i < n; i += gridDim.x) {
    const T v = values[i], best = best_values[i];
    const bool better = maximize ? v > best : v < best;
    // Every thread has read best_values[i] before thread 0 may overwrite it.
    __syncthreads();
    if (!better) continue;  // uniform across the block
    if (threadIdx.x == 0) best_values[i] = v;
    for (i64 j = i * d + threadIdx.x; j < (i + 1) * d; j += blockDim.x) best_x[j] = x[j];
  }
}

unsigned example_grid(i64 n) {
  return static_cast<unsigned>(std::max<i64>(1, std::min<i64>(n, 65535)));
}

std::string shape_text(const char* name, i64 n, i64 f) {
  std::ostringstream os;
  os << name << " (" << n << ", " << f << ")";
  return os.str();
}

}  // namespace

template <typename T>
void representation_distance_forward(CudaHandles* h, i64 n, i64 f, const T* r, const T* target,
                                     T* values) {
  if (n == 0) return;
  distance_forward_kernel<T><<<example_grid(n), kBlock, 0, h->stream>>>(n, f, r, target, values);
  check_launch(h, "representation_distance_forward", shape_text("r", n, f));
}

template <typename T>
void representation_distance_backward(CudaHandles* h, i64 n, i64 f, const T* r, const T* target,
                                      const T* upstream, T* dr, GradMode mode) {
  if (n == 0) return;
  distance_backward_kernel<T><<<example_grid(n), kBlock, 0, h->stream>>>(
      n, f, r, target, upstream, dr, mode == GradMode::Accumulate);
  check_launch(h, "representation_distance_backward", shape_text("r", n, f));
}

template <typename T>
void coordinate_forward(CudaHandles* h, i64 n, i64 f, const T* r, const std::int32_t* k, bool hinge,
                        double tau, T* values) {
  if (n == 0) return;
  coordinate_forward_kernel<T>
      <<<grid_for(n), kBlock, 0, h->stream>>>(n, f, r, k, hinge, static_cast<T>(tau), values);
  check_launch(h, "coordinate_forward", shape_text("r", n, f));
}

template <typename T>
void coordinate_backward(CudaHandles* h, i64 n, i64 f, const T* r, const std::int32_t* k,
                         bool hinge, double tau, const T* upstream, T* dr, GradMode mode) {
  if (n * f == 0) return;
  coordinate_backward_kernel<T><<<grid_for(n * f), kBlock, 0, h->stream>>>(
      n, f, r, k, hinge, static_cast<T>(tau), upstream, dr, mode == GradMode::Accumulate);
  check_launch(h, "coordinate_backward", shape_text("r", n, f));
}

template <typename T>
void keep_better(CudaHandles* h, i64 n, i64 d, const T* values, const T* x, bool maximize,
                 T* best_values, T* best_x) {
  if (n == 0) return;
  // Short rows (a per-example score, d = 1) need only a warp per example.
  const int block = static_cast<int>(std::min<i64>(kBlock, std::max<i64>(32, (d + 31) / 32 * 32)));
  keep_better_kernel<T>
      <<<example_grid(n), block, 0, h->stream>>>(n, d, values, x, maximize, best_values, best_x);
  check_launch(h, "keep_better", shape_text("x", n, d));
}

#define RP_INSTANTIATE(T)                                                                          \
  template void representation_distance_forward<T>(CudaHandles*, i64, i64, const T*, const T*,     \
                                                   T*);                                            \
  template void representation_distance_backward<T>(CudaHandles*, i64, i64, const T*, const T*,    \
                                                    const T*, T*, GradMode);                       \
  template void coordinate_forward<T>(CudaHandles*, i64, i64, const T*, const std::int32_t*, bool, \
                                      double, T*);                                                 \
  template void coordinate_backward<T>(CudaHandles*, i64, i64, const T*, const std::int32_t*,      \
                                       bool, double, const T*, T*, GradMode);                      \
  template void keep_better<T>(CudaHandles*, i64, i64, const T*, const T*, bool, T*, T*);
RP_INSTANTIATE(float)
RP_INSTANTIATE(double)
#undef RP_INSTANTIATE

}  // namespace rp::cuda
