#include "kernels/cpu/dlr.h"

#include <cmath>
#include <limits>

#include "engine/core/error.h"
#include "kernels/attack_math.h"
#include "kernels/cpu/cross_entropy.h"
#include "kernels/cpu/grad_write.h"
#include "kernels/cpu/parallel.h"

namespace rp::cpu {

using i64 = std::int64_t;

namespace {

i64 row_grain(i64 k) {
  return std::max<i64>(1, 16384 / std::max<i64>(1, k));
}

void check_classes(const char* op, i64 n, i64 k, const std::int32_t* y, const std::int32_t* t) {
  check_labels(op, n, k, y);
  if (t == nullptr) return;
  for (i64 i = 0; i < n; ++i) {
    RP_CHECK(t[i] >= 0 && t[i] < k, op,
             "target " << t[i] << " of example " << i << " is outside [0, " << k << ")");
  }
}

}  // namespace

template <typename T>
void dlr_forward(i64 n, i64 k, const T* z, const std::int32_t* y, const std::int32_t* t, T* values,
                 int threads) {
  check_classes("dlr_forward", n, k, y, t);
  parallel_for(threads, n, row_grain(k), [&](i64 begin, i64 end, int) {
    for (i64 i = begin; i < end; ++i) {
      const DlrTerms d = dlr_terms(z + i * k, k, y[i], t != nullptr ? t[i] : -1);
      values[i] = d.ok ? static_cast<T>(-d.num / d.den) : std::numeric_limits<T>::quiet_NaN();
    }
  });
}

template <typename T>
void dlr_backward(i64 n, i64 k, const T* z, const std::int32_t* y, const std::int32_t* t,
                  const T* upstream, T* dz, GradMode mode, int threads) {
  check_classes("dlr_backward", n, k, y, t);
  parallel_for(threads, n, row_grain(k), [&](i64 begin, i64 end, int) {
    for (i64 i = begin; i < end; ++i) {
      const DlrTerms d = dlr_terms(z + i * k, k, y[i], t != nullptr ? t[i] : -1);
      T* row = dz + i * k;
      if (!d.ok) {
        for (i64 j = 0; j < k; ++j) write_grad(row[j], std::numeric_limits<T>::quiet_NaN(), mode);
        continue;
      }
      const double up = static_cast<double>(upstream[i]), inv = up / d.den;
      const double den_grad = up * d.num / (d.den * d.den);
      for (i64 j = 0; j < k; ++j) {
        double g = 0;
        if (j == d.y) g -= inv;
        if (j == d.other) g += inv;
        if (j == d.pi1) g += den_grad;
        if (d.pi4 < 0) {
          if (j == d.pi3) g -= den_grad;
        } else {
          if (j == d.pi3) g -= 0.5 * den_grad;
          if (j == d.pi4) g -= 0.5 * den_grad;
        }
        write_grad(row[j], static_cast<T>(g), mode);
      }
    }
  });
}

template <typename T>
void margin_forward(i64 n, i64 k, const T* z, const std::int32_t* y, T* values, int threads) {
  check_labels("margin_forward", n, k, y);
  parallel_for(threads, n, row_grain(k), [&](i64 begin, i64 end, int) {
    for (i64 i = begin; i < end; ++i) {
      values[i] = static_cast<T>(margin_value(z + i * k, k, y[i]));
    }
  });
}

#define RP_INSTANTIATE(T)                                                                        \
  template void dlr_forward<T>(i64, i64, const T*, const std::int32_t*, const std::int32_t*, T*, \
                               int);                                                             \
  template void dlr_backward<T>(i64, i64, const T*, const std::int32_t*, const std::int32_t*,    \
                                const T*, T*, GradMode, int);                                    \
  template void margin_forward<T>(i64, i64, const T*, const std::int32_t*, T*, int);
RP_INSTANTIATE(float)
RP_INSTANTIATE(double)
#undef RP_INSTANTIATE

}  // namespace rp::cpu
