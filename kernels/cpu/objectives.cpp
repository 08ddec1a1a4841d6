#include "kernels/cpu/objectives.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "engine/core/error.h"
#include "kernels/cpu/grad_write.h"
#include "kernels/cpu/parallel.h"

namespace rp::cpu {

using i64 = std::int64_t;

namespace {

i64 row_grain(i64 f) {
  return std::max<i64>(1, 16384 / std::max<i64>(1, f));
}

// ||r - t|| and ||t|| of one row.
template <typename T>
void distance_norms(const T* r, const T* t, i64 f, double& diff, double& target) {
  double sd = 0, st = 0;
  for (i64 j = 0; j < f; ++j) {
    const double d = static_cast<double>(r[j]) - static_cast<double>(t[j]);
    sd += d * d;
    st += static_cast<double>(t[j]) * static_cast<double>(t[j]);
  }
  diff = std::sqrt(sd);
  target = std::sqrt(st);
}

}  // namespace

void check_coordinates(const char* op, i64 n, i64 f, const std::int32_t* k) {
  for (i64 i = 0; i < n; ++i) {
    RP_CHECK(k[i] >= 0 && k[i] < f, op,
             "coordinate " << k[i] << " of example " << i << " is outside [0, " << f << ")");
  }
}

template <typename T>
void representation_distance_forward(i64 n, i64 f, const T* r, const T* target, T* values,
                                     int threads) {
  parallel_for(threads, n, row_grain(f), [&](i64 begin, i64 end, int) {
    for (i64 i = begin; i < end; ++i) {
      double diff = 0, norm = 0;
      distance_norms(r + i * f, target + i * f, f, diff, norm);
      values[i] = static_cast<T>(diff / norm);
    }
  });
}

template <typename T>
void representation_distance_backward(i64 n, i64 f, const T* r, const T* target, const T* upstream,
                                      T* dr, GradMode mode, int threads) {
  parallel_for(threads, n, row_grain(f), [&](i64 begin, i64 end, int) {
    for (i64 i = begin; i < end; ++i) {
      double diff = 0, norm = 0;
      distance_norms(r + i * f, target + i * f, f, diff, norm);
      const double scale = diff > 0 ? static_cast<double>(upstream[i]) / (diff * norm) : 0.0;
      for (i64 j = i * f; j < (i + 1) * f; ++j) {
        const double d = static_cast<double>(r[j]) - static_cast<double>(target[j]);
        write_grad(dr[j], static_cast<T>(scale * d), mode);
      }
    }
  });
}

template <typename T>
void coordinate_forward(i64 n, i64 f, const T* r, const std::int32_t* k, bool hinge, double tau,
                        T* values, int /*threads*/) {
  check_coordinates("coordinate_forward", n, f, k);
  for (i64 i = 0; i < n; ++i) {
    const T v = r[i * f + k[i]];
    values[i] = hinge ? std::min(v - static_cast<T>(tau), T(0)) : v;
  }
}

template <typename T>
void coordinate_backward(i64 n, i64 f, const T* r, const std::int32_t* k, bool hinge, double tau,
                         const T* upstream, T* dr, GradMode mode, int /*threads*/) {
  check_coordinates("coordinate_backward", n, f, k);
  for (i64 i = 0; i < n; ++i) {
    const bool active = !hinge || r[i * f + k[i]] < static_cast<T>(tau);
    for (i64 j = 0; j < f; ++j) {
      write_grad(dr[i * f + j], (j == k[i] && active) ? upstream[i] : T(0), mode);
    }
  }
}

template <typename T>
void keep_better(i64 n, i64 d, const T* values, const T* x, bool maximize, T* best_values,
                 T* best_x, int /*threads*/) {
  for (i64 i = 0; i < n; ++i) {
    const bool better = maximize ? values[i] > best_values[i] : values[i] < best_values[i];
    if (!better) continue;
    best_values[i] = values[i];
    std::memcpy(best_x + i * d, x + i * d, static_cast<std::size_t>(d) * sizeof(T));
  }
}

#define RP_INSTANTIATE(T)                                                                        \
  template void representation_distance_forward<T>(i64, i64, const T*, const T*, T*, int);       \
  template void representation_distance_backward<T>(i64, i64, const T*, const T*, const T*, T*,  \
                                                    GradMode, int);                              \
  template void coordinate_forward<T>(i64, i64, const T*, const std::int32_t*, bool, double, T*, \
                                      int);                                                      \
  template void coordinate_backward<T>(i64, i64, const T*, const std::int32_t*, bool, double,    \
                                       const T*, T*, GradMode, int);                             \
  template void keep_better<T>(i64, i64, const T*, const T*, bool, T*, T*, int);
RP_INSTANTIATE(float)
RP_INSTANTIATE(double)
#undef RP_INSTANTIATE

}  // namespace rp::cpu
