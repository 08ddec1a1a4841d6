#include "kernels/cpu/cross_entropy.h"

#include <algorithm>
#include <cmath>

#include "engine/core/error.h"
#include "kernels/cpu/grad_write.h"
#include "kernels/cpu/parallel.h"

namespace rp::cpu {

using i64 = std::int64_t;

namespace {

i64 row_grain(i64 k) {
  return std::max<i64>(1, 8192 / std::max<i64>(1, k));
}

// Row maximum and sum of exp(z - max), in double.
template <typename T>
void softmax_stats(const T* z, i64 k, double& max, double& sum_exp) {
  max = static_cast<double>(z[0]);
  for (i64 j = 1; j < k; ++j) max = std::max(max, static_cast<double>(z[j]));
  sum_exp = 0;
  for (i64 j = 0; j < k; ++j) sum_exp += std::exp(static_cast<double>(z[j]) - max);
}

}  // namespace

void check_labels(const char* op, i64 n, i64 k, const std::int32_t* labels) {
  for (i64 i = 0; i < n; ++i) {
    RP_CHECK(labels[i] >= 0 && labels[i] < k, op,
             "label " << labels[i] << " of example " << i << " is outside [0, " << k << ")");
  }
}

template <typename T>
void cross_entropy_forward(i64 n, i64 k, const T* logits, const std::int32_t* labels, T* losses,
                           T* mean, int threads) {
  check_labels("cross_entropy_forward", n, k, labels);
  parallel_for(threads, n, row_grain(k), [&](i64 begin, i64 end, int) {
    for (i64 i = begin; i < end; ++i) {
      const T* z = logits + i * k;
      double max = 0, sum_exp = 0;
      softmax_stats(z, k, max, sum_exp);
      losses[i] = static_cast<T>(max + std::log(sum_exp) - static_cast<double>(z[labels[i]]));
    }
  });
  if (mean != nullptr) {
    double sum = 0;
    for (i64 i = 0; i < n; ++i) sum += static_cast<double>(losses[i]);
    *mean = static_cast<T>(sum / static_cast<double>(n));
  }
}

template <typename T>
void cross_entropy_backward(i64 n, i64 k, const T* logits, const std::int32_t* labels,
                            const T* dlosses, T* dlogits, GradMode mode, int threads) {
  check_labels("cross_entropy_backward", n, k, labels);
  parallel_for(threads, n, row_grain(k), [&](i64 begin, i64 end, int) {
    for (i64 i = begin; i < end; ++i) {
      const T* z = logits + i * k;
      double max = 0, sum_exp = 0;
      softmax_stats(z, k, max, sum_exp);
      const double upstream = static_cast<double>(dlosses[i]);
      for (i64 j = 0; j < k; ++j) {
        const double p = std::exp(static_cast<double>(z[j]) - max) / sum_exp;
        const double target = (j == labels[i]) ? 1.0 : 0.0;
        write_grad(dlogits[i * k + j], static_cast<T>(upstream * (p - target)), mode);
      }
    }
  });
}

#define RP_INSTANTIATE(T)                                                                        \
  template void cross_entropy_forward<T>(i64, i64, const T*, const std::int32_t*, T*, T*, int);  \
  template void cross_entropy_backward<T>(i64, i64, const T*, const std::int32_t*, const T*, T*, \
                                          GradMode, int);
RP_INSTANTIATE(float)
RP_INSTANTIATE(double)
#undef RP_INSTANTIATE

}  // namespace rp::cpu
