#include "kernels/cpu/fab.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include "engine/core/error.h"
#include "kernels/cpu/parallel.h"

namespace rp::cpu {

using i64 = std::int64_t;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kMinNorm = 1e-8;  // fab_base.py's floor on ||d1||, ||d2|| before alpha
// fab_projections.py's L2 projection leaves coordinates with |w| <= 1e-8 in place (the Linf
// one only those with w = 0).
constexpr double kL2MinWeight = 1e-8;

i64 example_grain(i64 d) {
  return std::max<i64>(1, 32768 / std::max<i64>(1, d));
}

template <typename Body>
void for_examples(const PerturbShape& s, int threads, Body&& body) {
  parallel_for(threads, s.n, example_grain(s.d), [&](i64 begin, i64 end, int) {
    // One sorted-breakpoint scratch per chunk, reused by its examples.
    std::vector<std::pair<double, double>> scratch;
    scratch.reserve(static_cast<std::size_t>(s.d));
    for (i64 i = begin; i < end; ++i) body(i, scratch);
  });
}

enum class Norm { Linf, L2 };

// The projection of one row p (d values) onto {z : w.z = b} intersected with [0, 1]^d, as the
// displacement out = z - p (see fab.h). `br` holds (breakpoint, weight) pairs.
template <Norm N, typename T>
void project_row(i64 d, const T* p, const T* w, double b, T* out,
                 std::vector<std::pair<double, double>>& br) {
  double wp = 0;
  for (i64 j = 0; j < d; ++j) wp += static_cast<double>(w[j]) * static_cast<double>(p[j]);
  const double c = b - wp;
  if (!(c != 0)) {  // on the hyperplane (or a NaN, which stays one)
    const T v = c == 0 ? T(0) : std::numeric_limits<T>::quiet_NaN();
    std::fill(out, out + d, v);
    return;
  }
  const double sign = c > 0 ? 1.0 : -1.0, target = std::abs(c);
  // Along u = sign w, coordinate j can move by room_j before it meets a face of the box.
  const auto ignored = [](double u) {
    return N == Norm::L2 ? std::abs(u) <= kL2MinWeight : u == 0;
  };
  const auto room = [&](i64 j, double u) {
    return u > 0 ? 1.0 - static_cast<double>(p[j]) : static_cast<double>(p[j]);
  };
  br.clear();
  double slope = 0;
  for (i64 j = 0; j < d; ++j) {
    const double u = sign * static_cast<double>(w[j]);
    if (ignored(u)) continue;
    const double r = std::max(room(j, u), 0.0);
    // L2: u_j d_j = u_j^2 mu until mu = r / |u_j|. Linf: u_j d_j = |u_j| t until t = r.
    if (N == Norm::L2) {
      br.emplace_back(r / std::abs(u), u * u);
    } else {
      br.emplace_back(r, std::abs(u));
    }
    slope += br.back().second;
  }
  std::sort(br.begin(), br.end());
  // Sweep the segments of the piecewise-linear, non-decreasing u.d(m) = reached + slope m.
  double m = kInf, reached = 0;
  for (const auto& [at, weight] : br) {
    if (reached + slope * at >= target) {
      m = (target - reached) / slope;
      break;
    }
    reached += weight * at;
    slope -= weight;
  }
  for (i64 j = 0; j < d; ++j) {
    const double u = sign * static_cast<double>(w[j]);
    if (ignored(u)) {
      out[j] = T(0);
      continue;
    }
    const double r = std::max(room(j, u), 0.0);
    const double along = N == Norm::L2 ? std::min(m * std::abs(u), r) : std::min(m, r);
    out[j] = static_cast<T>(u > 0 ? along : -along);
  }
}

template <Norm N, typename T>
double row_norm(i64 d, const T* v) {
  double acc = 0;
  for (i64 j = 0; j < d; ++j) {
    const double a = std::abs(static_cast<double>(v[j]));
    acc = N == Norm::L2 ? acc + a * a : std::max(acc, a);
  }
  return N == Norm::L2 ? std::sqrt(acc) : acc;
}

template <Norm N, typename T>
double distance(i64 d, const T* a, const T* b) {
  double acc = 0;
  for (i64 j = 0; j < d; ++j) {
    const double v = std::abs(static_cast<double>(a[j]) - static_cast<double>(b[j]));
    acc = N == Norm::L2 ? acc + v * v : std::max(acc, v);
  }
  return N == Norm::L2 ? std::sqrt(acc) : acc;
}

template <Norm N, typename T>
void project(const PerturbShape& s, const T* p, const T* w, const T* b, T* d, int threads) {
  for_examples(s, threads, [&](i64 i, std::vector<std::pair<double, double>>& br) {
    const i64 o = i * s.d;
    project_row<N>(s.d, p + o, w + o, static_cast<double>(b[i]), d + o, br);
  });
}

template <Norm N, typename T>
void step(const PerturbShape& s, const T* x0, const T* g, const T* f, double eta, double alpha_max,
          T* x, T* d1, T* d2, int threads) {
  for_examples(s, threads, [&](i64 i, std::vector<std::pair<double, double>>& br) {
    const i64 o = i * s.d;
    // The linearization f + g.(z - x) = 0 as the hyperplane g.z = g.x - f.
    double gx = 0;
    for (i64 j = o; j < o + s.d; ++j) gx += static_cast<double>(g[j]) * static_cast<double>(x[j]);
    const double b = gx - static_cast<double>(f[i]);
    project_row<N>(s.d, x + o, g + o, b, d1 + o, br);
    project_row<N>(s.d, x0 + o, g + o, b, d2 + o, br);
    const double a1 = std::max(row_norm<N>(s.d, d1 + o), kMinNorm);
    const double a2 = std::max(row_norm<N>(s.d, d2 + o), kMinNorm);
    const double alpha = std::min(std::max(a1 / (a1 + a2), 0.0), alpha_max);
    for (i64 j = o; j < o + s.d; ++j) {
      const double from_x = static_cast<double>(x[j]) + eta * static_cast<double>(d1[j]);
      const double from_x0 = static_cast<double>(x0[j]) + eta * static_cast<double>(d2[j]);
      x[j] = static_cast<T>(std::clamp(from_x * (1 - alpha) + from_x0 * alpha, 0.0, 1.0));
    }
  });
}

template <Norm N, typename T>
void track(const PerturbShape& s, const T* x0, const T* correct, double beta, T* x, T* best,
           T* best_norm, int threads) {
  for_examples(s, threads, [&](i64 i, std::vector<std::pair<double, double>>&) {
    if (correct[i] != T(0)) return;
    const i64 o = i * s.d;
    const double t = distance<N>(s.d, x + o, x0 + o);
    if (t < static_cast<double>(best_norm[i])) {
      best_norm[i] = static_cast<T>(t);
      std::copy(x + o, x + o + s.d, best + o);
    }
    const T bt = static_cast<T>(beta);
    for (i64 j = o; j < o + s.d; ++j) x[j] = x0[j] + (x[j] - x0[j]) * bt;
  });
}

}  // namespace

template <typename T>
void fab_logit_gap(i64 n, i64 k, const T* logits, const std::int32_t* labels,
                   const std::int32_t* targets, T* values, T* dlogits, int threads) {
  for (i64 i = 0; i < n; ++i) {
    RP_CHECK(labels[i] >= 0 && labels[i] < k, "fab_logit_gap",
             "label " << labels[i] << " of example " << i << " is outside [0, " << k << ")");
    RP_CHECK(targets[i] >= 0 && targets[i] < k, "fab_logit_gap",
             "target " << targets[i] << " of example " << i << " is outside [0, " << k << ")");
  }
  parallel_for(threads, n, std::max<i64>(1, 16384 / std::max<i64>(1, k)),
               [&](i64 begin, i64 end, int) {
                 for (i64 i = begin; i < end; ++i) {
                   const T* z = logits + i * k;
                   T* dz = dlogits + i * k;
                   values[i] = z[targets[i]] - z[labels[i]];
                   std::fill(dz, dz + k, T(0));
                   // A target equal to the label leaves f = 0 and a zero upstream.
                   dz[targets[i]] += T(1);
                   dz[labels[i]] -= T(1);
                 }
               });
}

template <typename T>
void fab_project_linf(const PerturbShape& s, const T* p, const T* w, const T* b, T* d,
                      int threads) {
  project<Norm::Linf>(s, p, w, b, d, threads);
}
template <typename T>
void fab_project_l2(const PerturbShape& s, const T* p, const T* w, const T* b, T* d, int threads) {
  project<Norm::L2>(s, p, w, b, d, threads);
}

template <typename T>
void fab_step_linf(const PerturbShape& s, const T* x0, const T* g, const T* f, double eta,
                   double alpha_max, T* x, T* d1, T* d2, int threads) {
  step<Norm::Linf>(s, x0, g, f, eta, alpha_max, x, d1, d2, threads);
}
template <typename T>
void fab_step_l2(const PerturbShape& s, const T* x0, const T* g, const T* f, double eta,
                 double alpha_max, T* x, T* d1, T* d2, int threads) {
  step<Norm::L2>(s, x0, g, f, eta, alpha_max, x, d1, d2, threads);
}

template <typename T>
void fab_track_linf(const PerturbShape& s, const T* x0, const T* correct, double beta, T* x,
                    T* best, T* best_norm, int threads) {
  track<Norm::Linf>(s, x0, correct, beta, x, best, best_norm, threads);
}
template <typename T>
void fab_track_l2(const PerturbShape& s, const T* x0, const T* correct, double beta, T* x, T* best,
                  T* best_norm, int threads) {
  track<Norm::L2>(s, x0, correct, beta, x, best, best_norm, threads);
}

template <typename T>
void fab_accept(const PerturbShape& s, double eps, const T* best, const T* best_norm, T* still,
                T* adv, T* adv_norm, int threads) {
  parallel_for(threads, s.n, example_grain(s.d), [&](i64 begin, i64 end, int) {
    for (i64 i = begin; i < end; ++i) {
      if (still[i] == T(0) || !(static_cast<double>(best_norm[i]) <= eps)) continue;
      std::copy(best + i * s.d, best + (i + 1) * s.d, adv + i * s.d);
      adv_norm[i] = best_norm[i];
      still[i] = T(0);
    }
  });
}

#define RP_INSTANTIATE(T)                                                                          \
  template void fab_logit_gap<T>(i64, i64, const T*, const std::int32_t*, const std::int32_t*, T*, \
                                 T*, int);                                                         \
  template void fab_project_linf<T>(const PerturbShape&, const T*, const T*, const T*, T*, int);   \
  template void fab_project_l2<T>(const PerturbShape&, const T*, const T*, const T*, T*, int);     \
  template void fab_step_linf<T>(const PerturbShape&, const T*, const T*, const T*, double,        \
                                 double, T*, T*, T*, int);                                         \
  template void fab_step_l2<T>(const PerturbShape&, const T*, const T*, const T*, double, double,  \
                               T*, T*, T*, int);                                                   \
  template void fab_track_linf<T>(const PerturbShape&, const T*, const T*, double, T*, T*, T*,     \
                                  int);                                                            \
  template void fab_track_l2<T>(const PerturbShape&, const T*, const T*, double, T*, T*, T*, int); \
  template void fab_accept<T>(const PerturbShape&, double, const T*, const T*, T*, T*, T*, int);
RP_INSTANTIATE(float)
RP_INSTANTIATE(double)
#undef RP_INSTANTIATE

}  // namespace rp::cpu
