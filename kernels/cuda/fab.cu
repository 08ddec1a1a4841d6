// FAB's ops (fab.h). Built with --fmad=false (kernels/CMakeLists.txt) so each expression rounds
// as the CPU reference's; the projections' multipliers and the norms differ by the order of
// their double-precision sums (and the bisection's last bits).
#include <cfloat>
#include <cmath>
#include <sstream>

#include "kernels/cuda/fab.h"
#include "kernels/cuda/launch.cuh"

namespace rp::cuda {
namespace {

using i64 = std::int64_t;

constexpr int kBisections = 64;
constexpr double kMinNorm = 1e-8;      // as kernels/cpu/fab.cpp
constexpr double kL2MinWeight = 1e-8;  // as kernels/cpu/fab.cpp

// The maximum of non-negative values over the block, returned to every thread. Needs blockDim.x
// a multiple of 32.
__device__ inline double block_max(double v) {
  __shared__ double partial[32];
  for (int o = 16; o > 0; o >>= 1) v = fmax(v, __shfl_down_sync(0xffffffffu, v, o));
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  if (warp == 0) {
    double t = lane < static_cast<int>(blockDim.x >> 5) ? partial[lane] : 0.0;
    for (int o = 16; o > 0; o >>= 1) t = fmax(t, __shfl_down_sync(0xffffffffu, t, o));
    if (lane == 0) partial[0] = t;
  }
  __syncthreads();
  const double total = partial[0];
  __syncthreads();  // partial is reused by the next call
  return total;
}

// The norm of a row of values, reduced over the block (L2: sum of squares; Linf: max).
template <bool L2>
__device__ inline double block_norm(double partial) {
  return L2 ? sqrt(block_sum(partial)) : block_max(partial);
}
template <bool L2>
__device__ inline double accumulate(double acc, double v) {
  return L2 ? acc + v * v : fmax(acc, fabs(v));
}

// One coordinate of a projection: along u = sign w, its breakpoint and weight (kernels/cpu/fab.h:
// L2 u_j d_j = u_j^2 min(m, r_j / |u_j|), Linf |u_j| min(m, r_j)); `ignored` for w_j = 0 (L2:
// |w_j| <= 1e-8).
struct Coordinate {
  bool ignored;
  double u, room, at, weight;
};

template <bool L2, typename T>
__device__ inline Coordinate coordinate(double sign, T p, T w) {
  Coordinate c;
  c.u = sign * static_cast<double>(w);
  c.ignored = L2 ? fabs(c.u) <= kL2MinWeight : c.u == 0;
  c.room = fmax(c.u > 0 ? 1.0 - static_cast<double>(p) : static_cast<double>(p), 0.0);
  c.at = L2 ? c.room / fabs(c.u) : c.room;
  c.weight = L2 ? c.u * c.u : fabs(c.u);
  return c;
}

// The projection of row p onto {w.z = b} inside [0, 1] (kernels/cpu/fab.h), written to out by
// the threads that own each element (j = threadIdx.x + k blockDim.x).
template <bool L2, typename T>
__device__ void project_row(i64 d, const T* p, const T* w, double b, T* out) {
  double wp = 0;
  for (i64 j = threadIdx.x; j < d; j += blockDim.x) {
    wp += static_cast<double>(w[j]) * static_cast<double>(p[j]);
  }
  const double c = b - block_sum(wp);
  if (!(c != 0)) {
    const T v = c == 0 ? T(0) : static_cast<T>(NAN);
    for (i64 j = threadIdx.x; j < d; j += blockDim.x) out[j] = v;
    return;
  }
  const double sign = c > 0 ? 1.0 : -1.0, target = fabs(c);
  // u.d(m) = sum_j weight_j min(m, at_j): non-decreasing in m, reaching `total` for m past the
  // last breakpoint.
  const auto reach = [&](double m) {
    double acc = 0;
    for (i64 j = threadIdx.x; j < d; j += blockDim.x) {
      const Coordinate k = coordinate<L2>(sign, p[j], w[j]);
      if (!k.ignored) acc += k.weight * fmin(m, k.at);
    }
    return block_sum(acc);
  };
  double last = 0, total = 0;
  for (i64 j = threadIdx.x; j < d; j += blockDim.x) {
    const Coordinate k = coordinate<L2>(sign, p[j], w[j]);
    if (k.ignored) continue;
    last = fmax(last, k.at);
    total += k.weight * k.at;
  }
  last = block_max(last);
  total = block_sum(total);
  double m = INFINITY;  // the hyperplane misses the box: the corner
  if (total >= target) {
    double lo = 0, hi = last;  // reach(lo) < target <= reach(hi)
    for (int it = 0; it < kBisections; ++it) {
      const double mid = 0.5 * (lo + hi);
      if (reach(mid) >= target) {
        hi = mid;
      } else {
        lo = mid;
      }
    }
    // The segment after lo: breakpoints at or below lo saturated, the others still moving.
    double reached = 0, slope = 0;
    for (i64 j = threadIdx.x; j < d; j += blockDim.x) {
      const Coordinate k = coordinate<L2>(sign, p[j], w[j]);
      if (k.ignored) continue;
      if (k.at <= lo) {
        reached += k.weight * k.at;
      } else {
        slope += k.weight;
      }
    }
    reached = block_sum(reached);
    slope = block_sum(slope);
    m = slope > 0 ? (target - reached) / slope : hi;
  }
  for (i64 j = threadIdx.x; j < d; j += blockDim.x) {
    const Coordinate k = coordinate<L2>(sign, p[j], w[j]);
    if (k.ignored) {
      out[j] = T(0);
      continue;
    }
    const double along = L2 ? fmin(m * fabs(k.u), k.room) : fmin(m, k.room);
    out[j] = static_cast<T>(k.u > 0 ? along : -along);
  }
}

template <typename T>
__global__ void logit_gap_kernel(i64 n, i64 k, const T* logits, const std::int32_t* labels,
                                 const std::int32_t* targets, T* values, T* dlogits) {
  for (i64 i = blockIdx.x * static_cast<i64>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<i64>(gridDim.x) * blockDim.x) {
    const std::int32_t y = labels[i], t = targets[i];
    T* dz = dlogits + i * k;
    if (y < 0 || y >= k || t < 0 || t >= k) {
      values[i] = static_cast<T>(NAN);
      for (i64 j = 0; j < k; ++j) dz[j] = static_cast<T>(NAN);
      continue;
    }
    values[i] = logits[i * k + t] - logits[i * k + y];
    for (i64 j = 0; j < k; ++j) dz[j] = T(0);
    dz[t] += T(1);
    dz[y] -= T(1);
  }
}

template <bool L2, typename T>
__global__ void project_kernel(i64 n, i64 d, const T* p, const T* w, const T* b, T* out) {
  for (i64 i = blockIdx.x; i < n; i += gridDim.x) {
    project_row<L2>(d, p + i * d, w + i * d, static_cast<double>(b[i]), out + i * d);
  }
}

template <bool L2, typename T>
__global__ void step_kernel(i64 n, i64 d, const T* x0, const T* g, const T* f, double eta,
                            double alpha_max, T* x, T* d1, T* d2) {
  for (i64 i = blockIdx.x; i < n; i += gridDim.x) {
    const i64 o = i * d;
    double gx = 0;
    for (i64 j = threadIdx.x; j < d; j += blockDim.x) {
      gx += static_cast<double>(g[o + j]) * static_cast<double>(x[o + j]);
    }
    const double b = block_sum(gx) - static_cast<double>(f[i]);
    project_row<L2>(d, x + o, g + o, b, d1 + o);
    project_row<L2>(d, x0 + o, g + o, b, d2 + o);
    double n1 = 0, n2 = 0;
    for (i64 j = threadIdx.x; j < d; j += blockDim.x) {
      n1 = accumulate<L2>(n1, static_cast<double>(d1[o + j]));
      n2 = accumulate<L2>(n2, static_cast<double>(d2[o + j]));
    }
    const double a1 = fmax(block_norm<L2>(n1), kMinNorm);
    const double a2 = fmax(block_norm<L2>(n2), kMinNorm);
    const double alpha = fmin(fmax(a1 / (a1 + a2), 0.0), alpha_max);
    // Each thread writes only the elements it read: the reductions have synchronized the reads.
    for (i64 j = o + threadIdx.x; j < o + d; j += blockDim.x) {
      const double from_x = static_cast<double>(x[j]) + eta * static_cast<double>(d1[j]);
      const double from_x0 = static_cast<double>(x0[j]) + eta * static_cast<double>(d2[j]);
      x[j] = static_cast<T>(fmin(fmax(from_x * (1 - alpha) + from_x0 * alpha, 0.0), 1.0));
    }
  }
}

template <bool L2, typename T>
__global__ void track_kernel(i64 n, i64 d, const T* x0, const T* correct, double beta, T* x,
                             T* best, T* best_norm) {
  for (i64 i = blockIdx.x; i < n; i += gridDim.x) {
    if (correct[i] != T(0)) continue;  // uniform across the block
    const i64 o = i * d;
    double acc = 0;
    for (i64 j = o + threadIdx.x; j < o + d; j += blockDim.x) {
      acc = accumulate<L2>(acc, static_cast<double>(x[j]) - static_cast<double>(x0[j]));
    }
    const double t = block_norm<L2>(acc);
    const bool closer = t < static_cast<double>(best_norm[i]);
    __syncthreads();  // every thread has read best_norm[i] before thread 0 rewrites it
    if (closer && threadIdx.x == 0) best_norm[i] = static_cast<T>(t);
    const T bt = static_cast<T>(beta);
    for (i64 j = o + threadIdx.x; j < o + d; j += blockDim.x) {
      if (closer) best[j] = x[j];
      x[j] = x0[j] + (x[j] - x0[j]) * bt;
    }
  }
}

template <typename T>
__global__ void accept_kernel(i64 n, i64 d, double eps, const T* best, const T* best_norm, T* still,
                              T* adv, T* adv_norm) {
  for (i64 i = blockIdx.x; i < n; i += gridDim.x) {
    const bool take = still[i] != T(0) && static_cast<double>(best_norm[i]) <= eps;
    __syncthreads();      // every thread has decided before thread 0 rewrites still[i]
    if (!take) continue;  // uniform across the block
    if (threadIdx.x == 0) {
      adv_norm[i] = best_norm[i];
      still[i] = T(0);
    }
    for (i64 j = i * d + threadIdx.x; j < (i + 1) * d; j += blockDim.x) adv[j] = best[j];
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

template <bool L2, typename T>
void project(CudaHandles* h, const char* op, const PerturbShape& s, const T* p, const T* w,
             const T* b, T* d) {
  if (s.n == 0) return;
  project_kernel<L2, T><<<example_grid(s.n), kBlock, 0, h->stream>>>(s.n, s.d, p, w, b, d);
  check_launch(h, op, shape_text(s));
}

template <bool L2, typename T>
void step(CudaHandles* h, const char* op, const PerturbShape& s, const T* x0, const T* g,
          const T* f, double eta, double alpha_max, T* x, T* d1, T* d2) {
  if (s.n == 0) return;
  step_kernel<L2, T>
      <<<example_grid(s.n), kBlock, 0, h->stream>>>(s.n, s.d, x0, g, f, eta, alpha_max, x, d1, d2);
  check_launch(h, op, shape_text(s));
}

template <bool L2, typename T>
void track(CudaHandles* h, const char* op, const PerturbShape& s, const T* x0, const T* correct,
           double beta, T* x, T* best, T* best_norm) {
  if (s.n == 0) return;
  track_kernel<L2, T><<<example_grid(s.n), kBlock, 0, h->stream>>>(s.n, s.d, x0, correct, beta, x,
                                                                   best, best_norm);
  check_launch(h, op, shape_text(s));
}

}  // namespace

template <typename T>
void fab_logit_gap(CudaHandles* h, i64 n, i64 k, const T* logits, const std::int32_t* labels,
                   const std::int32_t* targets, T* values, T* dlogits) {
  if (n == 0) return;
  logit_gap_kernel<T>
      <<<grid_for(n), kBlock, 0, h->stream>>>(n, k, logits, labels, targets, values, dlogits);
  std::ostringstream shapes;
  shapes << "logits (" << n << ", " << k << ")";
  check_launch(h, "fab_logit_gap", shapes.str());
}

template <typename T>
void fab_project_linf(CudaHandles* h, const PerturbShape& s, const T* p, const T* w, const T* b,
                      T* d) {
  project<false>(h, "fab_project_linf", s, p, w, b, d);
}
template <typename T>
void fab_project_l2(CudaHandles* h, const PerturbShape& s, const T* p, const T* w, const T* b,
                    T* d) {
  project<true>(h, "fab_project_l2", s, p, w, b, d);
}

template <typename T>
void fab_step_linf(CudaHandles* h, const PerturbShape& s, const T* x0, const T* g, const T* f,
                   double eta, double alpha_max, T* x, T* d1, T* d2) {
  step<false>(h, "fab_step_linf", s, x0, g, f, eta, alpha_max, x, d1, d2);
}
template <typename T>
void fab_step_l2(CudaHandles* h, const PerturbShape& s, const T* x0, const T* g, const T* f,
                 double eta, double alpha_max, T* x, T* d1, T* d2) {
  step<true>(h, "fab_step_l2", s, x0, g, f, eta, alpha_max, x, d1, d2);
}

template <typename T>
void fab_track_linf(CudaHandles* h, const PerturbShape& s, const T* x0, const T* correct,
                    double beta, T* x, T* best, T* best_norm) {
  track<false>(h, "fab_track_linf", s, x0, correct, beta, x, best, best_norm);
}
template <typename T>
void fab_track_l2(CudaHandles* h, const PerturbShape& s, const T* x0, const T* correct, double beta,
                  T* x, T* best, T* best_norm) {
  track<true>(h, "fab_track_l2", s, x0, correct, beta, x, best, best_norm);
}

template <typename T>
void fab_accept(CudaHandles* h, const PerturbShape& s, double eps, const T* best,
                const T* best_norm, T* still, T* adv, T* adv_norm) {
  if (s.n == 0) return;
  accept_kernel<T><<<example_grid(s.n), kBlock, 0, h->stream>>>(s.n, s.d, eps, best, best_norm,
                                                                still, adv, adv_norm);
  check_launch(h, "fab_accept", shape_text(s));
}

#define RP_INSTANTIATE(T)                                                                          \
  template void fab_logit_gap<T>(CudaHandles*, i64, i64, const T*, const std::int32_t*,            \
                                 const std::int32_t*, T*, T*);                                     \
  template void fab_project_linf<T>(CudaHandles*, const PerturbShape&, const T*, const T*,         \
                                    const T*, T*);                                                 \
  template void fab_project_l2<T>(CudaHandles*, const PerturbShape&, const T*, const T*, const T*, \
                                  T*);                                                             \
  template void fab_step_linf<T>(CudaHandles*, const PerturbShape&, const T*, const T*, const T*,  \
                                 double, double, T*, T*, T*);                                      \
  template void fab_step_l2<T>(CudaHandles*, const PerturbShape&, const T*, const T*, const T*,    \
                               double, double, T*, T*, T*);                                        \
  template void fab_track_linf<T>(CudaHandles*, const PerturbShape&, const T*, const T*, double,   \
                                  T*, T*, T*);                                                     \
  template void fab_track_l2<T>(CudaHandles*, const PerturbShape&, const T*, const T*, double, T*, \
                                T*, T*);                                                           \
  template void fab_accept<T>(CudaHandles*, const PerturbShape&, double, const T*, const T*, T*,   \
                              T*, T*);
RP_INSTANTIATE(float)
RP_INSTANTIATE(double)
#undef RP_INSTANTIATE

}  // namespace rp::cuda
