#include "kernels/cpu/apgd.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "kernels/attack_math.h"
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

template <typename Body>
void for_examples(const PerturbShape& s, int threads, Body&& body) {
  parallel_for(threads, s.n, example_grain(s.d), [&](i64 begin, i64 end, int) {
    for (i64 i = begin; i < end; ++i) body(i);
  });
}

void copy_row(const void* from, void* to, i64 bytes) {
  std::memcpy(to, from, static_cast<std::size_t>(bytes));
}

}  // namespace

template <typename T>
void apgd_update_linf(const PerturbShape& s, const T* g, const T* x0, const T* step,
                      double momentum, double eps, T* x, T* x_prev, int threads) {
  const T a = static_cast<T>(momentum), e = static_cast<T>(eps);
  for_examples(s, threads, [&](i64 i) {
    for (i64 j = i * s.d; j < (i + 1) * s.d; ++j) {
      const T z = project_linf_value(linf_step_value(x[j], g[j], step[i]), x0[j], e);
      const T next = project_linf_value(apgd_momentum_value(x[j], x_prev[j], z, a), x0[j], e);
      x_prev[j] = x[j];
      x[j] = next;
    }
  });
}

template <typename T>
void apgd_update_l2(const PerturbShape& s, const T* g, const T* x0, const T* step, double momentum,
                    double eps, T* x, T* x_prev, int threads) {
  const T a = static_cast<T>(momentum);
  for_examples(s, threads, [&](i64 i) {
    const i64 o = i * s.d;
    double gg = 0;
    for (i64 j = o; j < o + s.d; ++j) gg += static_cast<double>(g[j]) * static_cast<double>(g[j]);
    const T scale = saturated<T>(static_cast<double>(step[i]) / (std::sqrt(gg) + kL2StepEpsilon));
    // The gradient step z and the momentum point w are recomputed rather than stored: once per
    // norm, once to write, so no scratch is needed.
    double zz = 0;
    for (i64 j = o; j < o + s.d; ++j) {
      const double v = static_cast<double>((x[j] + scale * g[j]) - x0[j]);
      zz += v * v;
    }
    const T zs = static_cast<T>(l2_projection_scale(std::sqrt(zz), eps));
    const auto w_at = [&](i64 j) {
      const T z = project_l2_value(x[j] + scale * g[j], x0[j], zs);
      return apgd_momentum_value(x[j], x_prev[j], z, a);
    };
    double ww = 0;
    for (i64 j = o; j < o + s.d; ++j) {
      const double v = static_cast<double>(w_at(j) - x0[j]);
      ww += v * v;
    }
    const T ws = static_cast<T>(l2_projection_scale(std::sqrt(ww), eps));
    for (i64 j = o; j < o + s.d; ++j) {
      const T next = project_l2_value(w_at(j), x0[j], ws);
      x_prev[j] = x[j];
      x[j] = next;
    }
  });
}

template <typename T>
void apgd_track(const PerturbShape& s, const T* loss, const T* x, const T* g, T* prev_loss,
                T* increases, T* best_loss, T* best_x, T* best_g, int threads) {
  for_examples(s, threads, [&](i64 i) {
    if (loss[i] > prev_loss[i]) increases[i] += T(1);
    prev_loss[i] = loss[i];
    if (!(loss[i] > best_loss[i])) return;
    best_loss[i] = loss[i];
    copy_row(x + i * s.d, best_x + i * s.d, s.d * static_cast<i64>(sizeof(T)));
    copy_row(g + i * s.d, best_g + i * s.d, s.d * static_cast<i64>(sizeof(T)));
  });
}

template <typename T>
void apgd_checkpoint(const PerturbShape& s, i64 window, double rho, const T* best_loss,
                     const T* best_x, const T* best_g, T* best_last, T* halved_last, T* increases,
                     T* step, T* x, T* g, int threads) {
  for_examples(s, threads, [&](i64 i) {
    const bool halve =
        apgd_halves(static_cast<double>(increases[i]), window, rho, halved_last[i] != T(0),
                    static_cast<double>(best_last[i]), static_cast<double>(best_loss[i]));
    halved_last[i] = halve ? T(1) : T(0);
    best_last[i] = best_loss[i];
    increases[i] = T(0);
    if (!halve) return;
    step[i] = step[i] / T(2);
    copy_row(best_x + i * s.d, x + i * s.d, s.d * static_cast<i64>(sizeof(T)));
    copy_row(best_g + i * s.d, g + i * s.d, s.d * static_cast<i64>(sizeof(T)));
  });
}

#define RP_INSTANTIATE(T)                                                                          \
  template void apgd_update_linf<T>(const PerturbShape&, const T*, const T*, const T*, double,     \
                                    double, T*, T*, int);                                          \
  template void apgd_update_l2<T>(const PerturbShape&, const T*, const T*, const T*, double,       \
                                  double, T*, T*, int);                                            \
  template void apgd_track<T>(const PerturbShape&, const T*, const T*, const T*, T*, T*, T*, T*,   \
                              T*, int);                                                            \
  template void apgd_checkpoint<T>(const PerturbShape&, i64, double, const T*, const T*, const T*, \
                                   T*, T*, T*, T*, T*, T*, int);
RP_INSTANTIATE(float)
RP_INSTANTIATE(double)
#undef RP_INSTANTIATE

}  // namespace rp::cpu
