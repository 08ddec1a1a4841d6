#include "kernels/cpu/perturb.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/cpu/parallel.h"
#include "kernels/perturb_math.h"

namespace rp::cpu {

using i64 = std::int64_t;

namespace {

template <typename T>
T saturated(double v) {
  return saturate_to<T>(v, static_cast<double>(std::numeric_limits<T>::max()));
}

i64 example_grain(i64 d) {
  return std::max<i64>(1, 32768 / std::max<i64>(1, d));
}

// Runs body(example) for every example, examples split across threads.
template <typename Body>
void for_examples(const PerturbShape& s, int threads, Body&& body) {
  parallel_for(threads, s.n, example_grain(s.d), [&](i64 begin, i64 end, int) {
    for (i64 i = begin; i < end; ++i) body(i);
  });
}

template <typename T>
double l2_norm(const T* v, i64 d) {
  double sq = 0;
  for (i64 j = 0; j < d; ++j) sq += static_cast<double>(v[j]) * static_cast<double>(v[j]);
  return std::sqrt(sq);
}

template <typename T>
double l2_norm_of_difference(const T* a, const T* b, i64 d) {
  double sq = 0;
  for (i64 j = 0; j < d; ++j) {
    const double v = static_cast<double>(a[j] - b[j]);
    sq += v * v;
  }
  return std::sqrt(sq);
}

}  // namespace

template <typename T>
void pgd_step_linf(const PerturbShape& s, const T* x, const T* g, double alpha, T* out,
                   int threads) {
  const T a = static_cast<T>(alpha);
  for_examples(s, threads, [&](i64 i) {
    for (i64 j = i * s.d; j < (i + 1) * s.d; ++j) out[j] = linf_step_value(x[j], g[j], a);
  });
}

template <typename T>
void pgd_step_l2(const PerturbShape& s, const T* x, const T* g, double alpha, T* out, int threads) {
  for_examples(s, threads, [&](i64 i) {
    const i64 o = i * s.d;
    const T scale = saturated<T>(alpha / (l2_norm(g + o, s.d) + kL2StepEpsilon));
    for (i64 j = o; j < o + s.d; ++j) out[j] = x[j] + scale * g[j];
  });
}

template <typename T>
void project_linf(const PerturbShape& s, const T* x, const T* x0, double eps, T* out, int threads) {
  const T e = static_cast<T>(eps);
  for_examples(s, threads, [&](i64 i) {
    for (i64 j = i * s.d; j < (i + 1) * s.d; ++j) out[j] = project_linf_value(x[j], x0[j], e);
  });
}

template <typename T>
void project_l2(const PerturbShape& s, const T* x, const T* x0, double eps, T* out, int threads) {
  for_examples(s, threads, [&](i64 i) {
    const i64 o = i * s.d;
    const T scale =
        static_cast<T>(l2_projection_scale(l2_norm_of_difference(x + o, x0 + o, s.d), eps));
    for (i64 j = o; j < o + s.d; ++j) out[j] = project_l2_value(x[j], x0[j], scale);
  });
}

template <typename T>
void pgd_update_linf(const PerturbShape& s, const T* x, const T* g, const T* x0, double alpha,
                     double eps, T* out, int threads) {
  const T a = static_cast<T>(alpha), e = static_cast<T>(eps);
  for_examples(s, threads, [&](i64 i) {
    for (i64 j = i * s.d; j < (i + 1) * s.d; ++j) {
      out[j] = project_linf_value(linf_step_value(x[j], g[j], a), x0[j], e);
    }
  });
}

template <typename T>
void pgd_update_l2(const PerturbShape& s, const T* x, const T* g, const T* x0, double alpha,
                   double eps, T* out, int threads) {
  for_examples(s, threads, [&](i64 i) {
    const i64 o = i * s.d;
    const T step = saturated<T>(alpha / (l2_norm(g + o, s.d) + kL2StepEpsilon));
    // The stepped point x' = x + step g is recomputed rather than stored: once for ||x' - x0||,
    // once to write, so out may alias x and no scratch is needed.
    double sq = 0;
    for (i64 j = o; j < o + s.d; ++j) {
      const double v = static_cast<double>((x[j] + step * g[j]) - x0[j]);
      sq += v * v;
    }
    const T scale = static_cast<T>(l2_projection_scale(std::sqrt(sq), eps));
    for (i64 j = o; j < o + s.d; ++j) out[j] = project_l2_value(x[j] + step * g[j], x0[j], scale);
  });
}

template <typename T>
void random_start_linf(const PerturbShape& s, const T* x0, double eps, RngStream rng, T* out,
                       int threads) {
  const T e = static_cast<T>(eps);
  for_examples(s, threads, [&](i64 i) {
    for (i64 j = i * s.d; j < (i + 1) * s.d; ++j) {
      const T u = static_cast<T>(rng_uniform(rng, static_cast<std::uint64_t>(j)));
      out[j] = clamp01(x0[j] + e * (T(2) * u - T(1)));
    }
  });
}

template <typename T>
void random_start_l2(const PerturbShape& s, const T* x0, double eps, RngStream rng, T* out,
                     int threads) {
  for_examples(s, threads, [&](i64 i) {
    const i64 o = i * s.d;
    double sq = 0;
    for (i64 j = o; j < o + s.d; ++j) {
      const double z = static_cast<double>(rng_normal(rng, static_cast<std::uint64_t>(j)));
      sq += z * z;
    }
    const T scale = saturated<T>(eps / (std::sqrt(sq) + kL2StepEpsilon));
    for (i64 j = o; j < o + s.d; ++j) {
      const T z = static_cast<T>(rng_normal(rng, static_cast<std::uint64_t>(j)));
      out[j] = clamp01(x0[j] + scale * z);
    }
  });
}

template <typename T>
void l2_norm_per_example(const PerturbShape& s, const T* x, T* norms, int threads) {
  for_examples(s, threads, [&](i64 i) { norms[i] = static_cast<T>(l2_norm(x + i * s.d, s.d)); });
}

#define RP_INSTANTIATE(T)                                                                        \
  template void pgd_step_linf<T>(const PerturbShape&, const T*, const T*, double, T*, int);      \
  template void pgd_step_l2<T>(const PerturbShape&, const T*, const T*, double, T*, int);        \
  template void project_linf<T>(const PerturbShape&, const T*, const T*, double, T*, int);       \
  template void project_l2<T>(const PerturbShape&, const T*, const T*, double, T*, int);         \
  template void pgd_update_linf<T>(const PerturbShape&, const T*, const T*, const T*, double,    \
                                   double, T*, int);                                             \
  template void pgd_update_l2<T>(const PerturbShape&, const T*, const T*, const T*, double,      \
                                 double, T*, int);                                               \
  template void random_start_linf<T>(const PerturbShape&, const T*, double, RngStream, T*, int); \
  template void random_start_l2<T>(const PerturbShape&, const T*, double, RngStream, T*, int);   \
  template void l2_norm_per_example<T>(const PerturbShape&, const T*, T*, int);
RP_INSTANTIATE(float)
RP_INSTANTIATE(double)
#undef RP_INSTANTIATE

}  // namespace rp::cpu
