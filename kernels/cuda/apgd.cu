// APGD's updates (apgd.h). Built with --fmad=false (kernels/CMakeLists.txt) so every expression
// rounds as the CPU reference's: the Linf update, the tracking and the checkpoints are
// bit-identical, the L2 update differs only by the order of its double-precision sums.
#include <cfloat>
#include <sstream>

#include "kernels/attack_math.h"
#include "kernels/cuda/apgd.h"
#include "kernels/cuda/launch.cuh"
#include "kernels/perturb_math.h"

namespace rp::cuda {
namespace {

using i64 = std::int64_t;

template <typename T>
__device__ inline double max_of() {
  return sizeof(T) == sizeof(float) ? static_cast<double>(FLT_MAX) : DBL_MAX;
}

template <typename T>
__global__ void update_linf_kernel(i64 n, i64 d, const T* g, const T* x0, const T* step, T a, T eps,
                                   T* x, T* x_prev) {
  const i64 count = n * d;
  for (i64 e = blockIdx.x * static_cast<i64>(blockDim.x) + threadIdx.x; e < count;
       e += static_cast<i64>(gridDim.x) * blockDim.x) {
    const T xe = x[e];
    const T z = project_linf_value(linf_step_value(xe, g[e], step[e / d]), x0[e], eps);
    const T next = project_linf_value(apgd_momentum_value(xe, x_prev[e], z, a), x0[e], eps);
    x_prev[e] = xe;
    x[e] = next;
  }
}

template <typename T>
__global__ void update_l2_kernel(i64 n, i64 d, const T* g, const T* x0, const T* step, T a,
                                 double eps, T* x, T* x_prev) {
  for (i64 i = blockIdx.x; i < n; i += gridDim.x) {
    const i64 o = i * d;
    double gg = 0;
    for (i64 j = o + threadIdx.x; j < o + d; j += blockDim.x) {
      gg += static_cast<double>(g[j]) * static_cast<double>(g[j]);
    }
    const T scale = saturate_to<T>(
        static_cast<double>(step[i]) / (sqrt(block_sum(gg)) + kL2StepEpsilon), max_of<T>());
    double zz = 0;
    for (i64 j = o + threadIdx.x; j < o + d; j += blockDim.x) {
      const double v = static_cast<double>((x[j] + scale * g[j]) - x0[j]);
      zz += v * v;
    }
    const T zs = static_cast<T>(l2_projection_scale(sqrt(block_sum(zz)), eps));
    double ww = 0;
    for (i64 j = o + threadIdx.x; j < o + d; j += blockDim.x) {
      const T z = project_l2_value(x[j] + scale * g[j], x0[j], zs);
      const double v = static_cast<double>(apgd_momentum_value(x[j], x_prev[j], z, a) - x0[j]);
      ww += v * v;
    }
    const T ws = static_cast<T>(l2_projection_scale(sqrt(block_sum(ww)), eps));
    // Each thread writes only the elements it reads; block_sum has synchronized the reads of
    // the norms before any write.
    for (i64 j = o + threadIdx.x; j < o + d; j += blockDim.x) {
      const T xe = x[j];
      const T z = project_l2_value(xe + scale * g[j], x0[j], zs);
      const T next = project_l2_value(apgd_momentum_value(xe, x_prev[j], z, a), x0[j], ws);
      x_prev[j] = xe;
      x[j] = next;
    }
  }
}

template <typename T>
__global__ void track_kernel(i64 n, i64 d, const T* loss, const T* x, const T* g, T* prev_loss,
                             T* increases, T* best_loss, T* best_x, T* best_g) {
  for (i64 i = blockIdx.x; i < n; i += gridDim.x) {
    const T v = loss[i];
    const bool better = v > best_loss[i];
    // Every thread has read best_loss[i] before thread 0 may overwrite it.
    __syncthreads();
    if (threadIdx.x == 0) {
      if (v > prev_loss[i]) increases[i] += T(1);
      prev_loss[i] = v;
      if (better) best_loss[i] = v;
    }
    if (!better) continue;  // uniform across the block
    for (i64 j = i * d + threadIdx.x; j < (i + 1) * d; j += blockDim.x) {
      best_x[j] = x[j];
      best_g[j] = g[j];
    }
  }
}

template <typename T>
__global__ void checkpoint_kernel(i64 n, i64 d, i64 window, double rho, const T* best_loss,
                                  const T* best_x, const T* best_g, T* best_last, T* halved_last,
                                  T* increases, T* step, T* x, T* g) {
  for (i64 i = blockIdx.x; i < n; i += gridDim.x) {
    const bool halve =
        apgd_halves(static_cast<double>(increases[i]), window, rho, halved_last[i] != T(0),
                    static_cast<double>(best_last[i]), static_cast<double>(best_loss[i]));
    __syncthreads();  // every thread has decided before thread 0 rewrites the state
    if (threadIdx.x == 0) {
      halved_last[i] = halve ? T(1) : T(0);
      best_last[i] = best_loss[i];
      increases[i] = T(0);
      if (halve) step[i] = step[i] / T(2);
    }
    if (!halve) continue;  // uniform across the block
    for (i64 j = i * d + threadIdx.x; j < (i + 1) * d; j += blockDim.x) {
      x[j] = best_x[j];
      g[j] = best_g[j];
    }
  }
}

unsigned example_grid(i64 n) {
  return static_cast<unsigned>(std::max<i64>(1, std::min<i64>(n, 65535)));
}

std::string shape_text(const PerturbShape& s) {
  std::ostringstream os;
  os << "x (" << s.n << ", " << s.d << ")";
  return os.str();
}

}  // namespace

template <typename T>
void apgd_update_linf(CudaHandles* h, const PerturbShape& s, const T* g, const T* x0, const T* step,
                      double momentum, double eps, T* x, T* x_prev) {
  if (s.n * s.d == 0) return;
  update_linf_kernel<T><<<grid_for(s.n * s.d), kBlock, 0, h->stream>>>(
      s.n, s.d, g, x0, step, static_cast<T>(momentum), static_cast<T>(eps), x, x_prev);
  check_launch(h, "apgd_update_linf", shape_text(s));
}

template <typename T>
void apgd_update_l2(CudaHandles* h, const PerturbShape& s, const T* g, const T* x0, const T* step,
                    double momentum, double eps, T* x, T* x_prev) {
  if (s.n == 0) return;
  update_l2_kernel<T><<<example_grid(s.n), kBlock, 0, h->stream>>>(
      s.n, s.d, g, x0, step, static_cast<T>(momentum), eps, x, x_prev);
  check_launch(h, "apgd_update_l2", shape_text(s));
}

template <typename T>
void apgd_track(CudaHandles* h, const PerturbShape& s, const T* loss, const T* x, const T* g,
                T* prev_loss, T* increases, T* best_loss, T* best_x, T* best_g) {
  if (s.n == 0) return;
  track_kernel<T><<<example_grid(s.n), kBlock, 0, h->stream>>>(
      s.n, s.d, loss, x, g, prev_loss, increases, best_loss, best_x, best_g);
  check_launch(h, "apgd_track", shape_text(s));
}

template <typename T>
void apgd_checkpoint(CudaHandles* h, const PerturbShape& s, i64 window, double rho,
                     const T* best_loss, const T* best_x, const T* best_g, T* best_last,
                     T* halved_last, T* increases, T* step, T* x, T* g) {
  if (s.n == 0) return;
  checkpoint_kernel<T><<<example_grid(s.n), kBlock, 0, h->stream>>>(
      s.n, s.d, window, rho, best_loss, best_x, best_g, best_last, halved_last, increases, step, x,
      g);
  check_launch(h, "apgd_checkpoint", shape_text(s));
}

#define RP_INSTANTIATE(T)                                                                          \
  template void apgd_update_linf<T>(CudaHandles*, const PerturbShape&, const T*, const T*,         \
                                    const T*, double, double, T*, T*);                             \
  template void apgd_update_l2<T>(CudaHandles*, const PerturbShape&, const T*, const T*, const T*, \
                                  double, double, T*, T*);                                         \
  template void apgd_track<T>(CudaHandles*, const PerturbShape&, const T*, const T*, const T*, T*, \
                              T*, T*, T*, T*);                                                     \
  template void apgd_checkpoint<T>(CudaHandles*, const PerturbShape&, i64, double, const T*,       \
                                   const T*, const T*, T*, T*, T*, T*, T*, T*);
RP_INSTANTIATE(float)
RP_INSTANTIATE(double)
#undef RP_INSTANTIATE

}  // namespace rp::cuda
