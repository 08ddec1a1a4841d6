// The perturbation updates on the GPU (perturb.h). Built with --fmad=false (kernels/
// CMakeLists.txt) so every expression rounds as the CPU reference's does: the Linf results are
// bit-identical and the L2 ones differ only by the order of their double-precision sums.
#include <cfloat>
#include <sstream>

#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/perturb.h"
#include "kernels/perturb_math.h"

namespace rp::cuda {
namespace {

using i64 = std::int64_t;

template <typename T>
__host__ __device__ inline double max_of();
template <>
__host__ __device__ inline double max_of<float>() {
  return static_cast<double>(FLT_MAX);
}
template <>
__host__ __device__ inline double max_of<double>() {
  return DBL_MAX;
}

// ---- elementwise (Linf) --------------------------------------------------------------------

template <typename T>
struct LinfStep {
  T alpha;
  __device__ T operator()(T x, T g, T, T) const { return linf_step_value(x, g, alpha); }
};
template <typename T>
struct LinfProject {
  T eps;
  __device__ T operator()(T x, T x0, T, T) const { return project_linf_value(x, x0, eps); }
};
template <typename T>
struct LinfUpdate {
  T alpha, eps;
  __device__ T operator()(T x, T g, T x0, T) const {
    return project_linf_value(linf_step_value(x, g, alpha), x0, eps);
  }
};

std::string shape_text(const PerturbShape& s) {
  std::ostringstream os;
  os << "(" << s.n << ", " << s.d << ")";
  return os.str();
}

template <typename T>
__global__ void random_start_linf_kernel(i64 count, const T* x0, T eps, RngStream rng, T* out) {
  for (i64 e = blockIdx.x * static_cast<i64>(blockDim.x) + threadIdx.x; e < count;
       e += static_cast<i64>(gridDim.x) * blockDim.x) {
    const T u = static_cast<T>(rng_uniform(rng, static_cast<std::uint64_t>(e)));
    out[e] = clamp01(x0[e] + eps * (T(2) * u - T(1)));
  }
}

// ---- per example (L2): one block per example -----------------------------------------------

template <typename T>
__device__ double sum_squares(const T* v, i64 d) {
  double sq = 0;
  for (i64 j = threadIdx.x; j < d; j += blockDim.x) {
    const double a = static_cast<double>(v[j]);
    sq += a * a;
  }
  return block_sum(sq);
}

template <typename T>
__global__ void step_l2_kernel(i64 n, i64 d, const T* x, const T* g, double alpha, T* out) {
  for (i64 i = blockIdx.x; i < n; i += gridDim.x) {
    const i64 o = i * d;
    const T step =
        saturate_to<T>(alpha / (sqrt(sum_squares(g + o, d)) + kL2StepEpsilon), max_of<T>());
    for (i64 j = threadIdx.x; j < d; j += blockDim.x) out[o + j] = x[o + j] + step * g[o + j];
  }
}

template <typename T>
__global__ void project_l2_kernel(i64 n, i64 d, const T* x, const T* x0, double eps, T* out) {
  for (i64 i = blockIdx.x; i < n; i += gridDim.x) {
    const i64 o = i * d;
    double sq = 0;
    for (i64 j = threadIdx.x; j < d; j += blockDim.x) {
      const double v = static_cast<double>(x[o + j] - x0[o + j]);
      sq += v * v;
    }
    const T scale = static_cast<T>(l2_projection_scale(sqrt(block_sum(sq)), eps));
    for (i64 j = threadIdx.x; j < d; j += blockDim.x)
      out[o + j] = project_l2_value(x[o + j], x0[o + j], scale);
  }
}

// Step, projection and clip in one launch: ||g||, then ||x + step g - x0||, then the writes.
// The stepped point is recomputed rather than stored, so out may alias x.
template <typename T>
__global__ void update_l2_kernel(i64 n, i64 d, const T* x, const T* g, const T* x0, double alpha,
                                 double eps, T* out) {
  for (i64 i = blockIdx.x; i < n; i += gridDim.x) {
    const i64 o = i * d;
    const T step =
        saturate_to<T>(alpha / (sqrt(sum_squares(g + o, d)) + kL2StepEpsilon), max_of<T>());
    double sq = 0;
    for (i64 j = threadIdx.x; j < d; j += blockDim.x) {
      const double v = static_cast<double>((x[o + j] + step * g[o + j]) - x0[o + j]);
      sq += v * v;
    }
    const T scale = static_cast<T>(l2_projection_scale(sqrt(block_sum(sq)), eps));
    // Every thread has read all it needs of x before any writes (block_sum synchronizes).
    for (i64 j = threadIdx.x; j < d; j += blockDim.x)
      out[o + j] = project_l2_value(x[o + j] + step * g[o + j], x0[o + j], scale);
  }
}

template <typename T>
__global__ void random_start_l2_kernel(i64 n, i64 d, const T* x0, double eps, RngStream rng,
                                       T* out) {
  for (i64 i = blockIdx.x; i < n; i += gridDim.x) {
    const i64 o = i * d;
    double sq = 0;
    for (i64 j = threadIdx.x; j < d; j += blockDim.x) {
      const double z = static_cast<double>(rng_normal(rng, static_cast<std::uint64_t>(o + j)));
      sq += z * z;
    }
    const T scale = saturate_to<T>(eps / (sqrt(block_sum(sq)) + kL2StepEpsilon), max_of<T>());
    for (i64 j = threadIdx.x; j < d; j += blockDim.x) {
      const T z = static_cast<T>(rng_normal(rng, static_cast<std::uint64_t>(o + j)));
      out[o + j] = clamp01(x0[o + j] + scale * z);
    }
  }
}

template <typename T>
__global__ void l2_norm_kernel(i64 n, i64 d, const T* x, T* norms) {
  for (i64 i = blockIdx.x; i < n; i += gridDim.x) {
    const double norm = sqrt(sum_squares(x + i * d, d));
    if (threadIdx.x == 0) norms[i] = static_cast<T>(norm);
  }
}

unsigned example_grid(i64 n) {
  return static_cast<unsigned>(std::max<i64>(1, std::min<i64>(n, 65535)));
}

}  // namespace

template <typename T>
void pgd_step_linf(CudaHandles* h, const PerturbShape& s, const T* x, const T* g, double alpha,
                   T* out) {
  launch_map<false>(h, "pgd_step_linf", shape_text(s), s.n * s.d, x, g,
                    static_cast<const T*>(nullptr), out, LinfStep<T>{static_cast<T>(alpha)});
}

template <typename T>
void project_linf(CudaHandles* h, const PerturbShape& s, const T* x, const T* x0, double eps,
                  T* out) {
  launch_map<false>(h, "project_linf", shape_text(s), s.n * s.d, x, x0,
                    static_cast<const T*>(nullptr), out, LinfProject<T>{static_cast<T>(eps)});
}

template <typename T>
void pgd_update_linf(CudaHandles* h, const PerturbShape& s, const T* x, const T* g, const T* x0,
                     double alpha, double eps, T* out) {
  launch_map<false>(h, "pgd_update_linf", shape_text(s), s.n * s.d, x, g, x0, out,
                    LinfUpdate<T>{static_cast<T>(alpha), static_cast<T>(eps)});
}

template <typename T>
void random_start_linf(CudaHandles* h, const PerturbShape& s, const T* x0, double eps,
                       RngStream rng, T* out) {
  const i64 count = s.n * s.d;
  if (count == 0) return;
  random_start_linf_kernel<T>
      <<<grid_for(count), kBlock, 0, h->stream>>>(count, x0, static_cast<T>(eps), rng, out);
  check_launch(h, "random_start_linf", shape_text(s));
}

template <typename T>
void pgd_step_l2(CudaHandles* h, const PerturbShape& s, const T* x, const T* g, double alpha,
                 T* out) {
  if (s.n == 0) return;
  step_l2_kernel<T><<<example_grid(s.n), kBlock, 0, h->stream>>>(s.n, s.d, x, g, alpha, out);
  check_launch(h, "pgd_step_l2", shape_text(s));
}

template <typename T>
void project_l2(CudaHandles* h, const PerturbShape& s, const T* x, const T* x0, double eps,
                T* out) {
  if (s.n == 0) return;
  project_l2_kernel<T><<<example_grid(s.n), kBlock, 0, h->stream>>>(s.n, s.d, x, x0, eps, out);
  check_launch(h, "project_l2", shape_text(s));
}

template <typename T>
void pgd_update_l2(CudaHandles* h, const PerturbShape& s, const T* x, const T* g, const T* x0,
                   double alpha, double eps, T* out) {
  if (s.n == 0) return;
  update_l2_kernel<T>
      <<<example_grid(s.n), kBlock, 0, h->stream>>>(s.n, s.d, x, g, x0, alpha, eps, out);
  check_launch(h, "pgd_update_l2", shape_text(s));
}

template <typename T>
void random_start_l2(CudaHandles* h, const PerturbShape& s, const T* x0, double eps, RngStream rng,
                     T* out) {
  if (s.n == 0) return;
  random_start_l2_kernel<T>
      <<<example_grid(s.n), kBlock, 0, h->stream>>>(s.n, s.d, x0, eps, rng, out);
  check_launch(h, "random_start_l2", shape_text(s));
}

template <typename T>
void l2_norm_per_example(CudaHandles* h, const PerturbShape& s, const T* x, T* norms) {
  if (s.n == 0) return;
  l2_norm_kernel<T><<<example_grid(s.n), kBlock, 0, h->stream>>>(s.n, s.d, x, norms);
  check_launch(h, "l2_norm_per_example", shape_text(s));
}

#define RP_INSTANTIATE(T)                                                                          \
  template void pgd_step_linf<T>(CudaHandles*, const PerturbShape&, const T*, const T*, double,    \
                                 T*);                                                              \
  template void pgd_step_l2<T>(CudaHandles*, const PerturbShape&, const T*, const T*, double, T*); \
  template void project_linf<T>(CudaHandles*, const PerturbShape&, const T*, const T*, double,     \
                                T*);                                                               \
  template void project_l2<T>(CudaHandles*, const PerturbShape&, const T*, const T*, double, T*);  \
  template void pgd_update_linf<T>(CudaHandles*, const PerturbShape&, const T*, const T*,          \
                                   const T*, double, double, T*);                                  \
  template void pgd_update_l2<T>(CudaHandles*, const PerturbShape&, const T*, const T*, const T*,  \
                                 double, double, T*);                                              \
  template void random_start_linf<T>(CudaHandles*, const PerturbShape&, const T*, double,          \
                                     RngStream, T*);                                               \
  template void random_start_l2<T>(CudaHandles*, const PerturbShape&, const T*, double, RngStream, \
                                   T*);                                                            \
  template void l2_norm_per_example<T>(CudaHandles*, const PerturbShape&, const T*, T*);
RP_INSTANTIATE(float)
RP_INSTANTIATE(double)
#undef RP_INSTANTIATE

}  // namespace rp::cuda
