#include "kernels/cpu/batchnorm.h"

#include <array>
#include <cmath>

#include "kernels/cpu/grad_write.h"
#include "kernels/cpu/parallel.h"

namespace rp::cpu {
namespace {

using i64 = std::int64_t;

// Calls f(value_ptr_offset) for every element of channel c, batch-major then pixel-major.
template <typename F>
void for_channel(const BatchNormShape& s, i64 c, F&& f) {
  for (i64 n = 0; n < s.n; ++n) {
    const i64 base = (n * s.c + c) * s.hw;
    for (i64 p = 0; p < s.hw; ++p) f(base + p);
  }
}

// Sums of terms(i) (a std::array<double, K> per element) over channel c, in double, in kLanes
// independent partial sums: lane k takes elements k, k + kLanes, ... of each image's plane (a
// plane's tail goes to the lanes in order), and the lanes are added pairwise at the end. The
// order is fixed by the shape alone, and the adds vectorize and pipeline where one running sum
// waited on the last add at every element.
constexpr i64 kLanes = 8;

template <std::size_t K, typename Terms>
std::array<double, K> channel_sums(const BatchNormShape& s, i64 c, Terms&& terms) {
  std::array<std::array<double, kLanes>, K> acc{};
  for (i64 n = 0; n < s.n; ++n) {
    const i64 base = (n * s.c + c) * s.hw;
    i64 p = 0;
    for (; p + kLanes <= s.hw; p += kLanes) {
      for (i64 k = 0; k < kLanes; ++k) {
        const std::array<double, K> t = terms(base + p + k);
        for (std::size_t j = 0; j < K; ++j) acc[j][static_cast<std::size_t>(k)] += t[j];
      }
    }
    for (i64 k = 0; p < s.hw; ++p, ++k) {
      const std::array<double, K> t = terms(base + p);
      for (std::size_t j = 0; j < K; ++j) acc[j][static_cast<std::size_t>(k)] += t[j];
    }
  }
  std::array<double, K> out{};
  for (std::size_t j = 0; j < K; ++j) {
    for (std::size_t width = kLanes / 2; width >= 1; width /= 2) {
      for (std::size_t k = 0; k < width; ++k) acc[j][k] += acc[j][k + width];
    }
    out[j] = acc[j][0];
  }
  return out;
}

// Channels per thread below which threading costs more than it saves.
i64 channel_grain(const BatchNormShape& s) {
  return std::max<i64>(1, 16384 / std::max<i64>(1, s.n * s.hw));
}

}  // namespace

template <typename T>
void batchnorm2d_forward_train(const BatchNormShape& s, const T* x, const T* gamma, const T* beta,
                               T* running_mean, T* running_var, T* y, T* save_mean, T* save_invstd,
                               double momentum, double eps, int threads) {
  const double M = static_cast<double>(s.n * s.hw);
  parallel_for(threads, s.c, channel_grain(s), [&](i64 begin, i64 end, int) {
    for (i64 c = begin; c < end; ++c) {
      const double mean =
          channel_sums<1>(
              s, c, [&](i64 i) { return std::array<double, 1>{static_cast<double>(x[i])}; })[0] /
          M;
      const double var = channel_sums<1>(s, c,
                                         [&](i64 i) {
                                           const double d = static_cast<double>(x[i]) - mean;
                                           return std::array<double, 1>{d * d};
                                         })[0] /
                         M;
      const double invstd = 1.0 / std::sqrt(var + eps);
      const T t_mean = static_cast<T>(mean), t_invstd = static_cast<T>(invstd);
      const T g = gamma[c], b = beta[c];
      for_channel(s, c, [&](i64 i) { y[i] = (x[i] - t_mean) * t_invstd * g + b; });
      save_mean[c] = t_mean;
      save_invstd[c] = t_invstd;
      running_mean[c] =
          static_cast<T>((1 - momentum) * static_cast<double>(running_mean[c]) + momentum * mean);
      running_var[c] = static_cast<T>((1 - momentum) * static_cast<double>(running_var[c]) +
                                      momentum * var * M / (M - 1));
    }
  });
}

template <typename T>
void batchnorm2d_forward_eval(const BatchNormShape& s, const T* x, const T* gamma, const T* beta,
                              const T* running_mean, const T* running_var, T* y, double eps,
                              int threads) {
  parallel_for(threads, s.c, channel_grain(s), [&](i64 begin, i64 end, int) {
    for (i64 c = begin; c < end; ++c) {
      const T invstd = static_cast<T>(1.0 / std::sqrt(static_cast<double>(running_var[c]) + eps));
      const T mean = running_mean[c], g = gamma[c], b = beta[c];
      for_channel(s, c, [&](i64 i) { y[i] = (x[i] - mean) * invstd * g + b; });
    }
  });
}

template <typename T>
void batchnorm2d_backward_train(const BatchNormShape& s, const T* dy, const T* x, const T* gamma,
                                const T* save_mean, const T* save_invstd, T* dx, T* dgamma,
                                T* dbeta, GradMode mode, int threads) {
  const double M = static_cast<double>(s.n * s.hw);
  parallel_for(threads, s.c, channel_grain(s), [&](i64 begin, i64 end, int) {
    for (i64 c = begin; c < end; ++c) {
      const double mean = static_cast<double>(save_mean[c]);
      const double invstd = static_cast<double>(save_invstd[c]);
      const auto [sum_dy, sum_dy_xhat] = channel_sums<2>(s, c, [&](i64 i) {
        const double d = static_cast<double>(dy[i]);
        return std::array<double, 2>{d, d * (static_cast<double>(x[i]) - mean) * invstd};
      });
      if (dx != nullptr) {
        const double k = static_cast<double>(gamma[c]) * invstd;
        const double mean_dy = sum_dy / M, mean_dy_xhat = sum_dy_xhat / M;
        for_channel(s, c, [&](i64 i) {
          const double xhat = (static_cast<double>(x[i]) - mean) * invstd;
          const double g = k * (static_cast<double>(dy[i]) - mean_dy - xhat * mean_dy_xhat);
          write_grad(dx[i], static_cast<T>(g), mode);
        });
      }
      if (dgamma != nullptr) write_grad(dgamma[c], static_cast<T>(sum_dy_xhat), mode);
      if (dbeta != nullptr) write_grad(dbeta[c], static_cast<T>(sum_dy), mode);
    }
  });
}

template <typename T>
void batchnorm2d_backward_eval(const BatchNormShape& s, const T* dy, const T* x, const T* gamma,
                               const T* running_mean, const T* running_var, double eps, T* dx,
                               T* dgamma, T* dbeta, GradMode mode, int threads) {
  parallel_for(threads, s.c, channel_grain(s), [&](i64 begin, i64 end, int) {
    for (i64 c = begin; c < end; ++c) {
      const double invstd = 1.0 / std::sqrt(static_cast<double>(running_var[c]) + eps);
      const double mean = static_cast<double>(running_mean[c]);
      if (dgamma != nullptr || dbeta != nullptr) {
        const auto [sum_dy, sum_dy_xhat] = channel_sums<2>(s, c, [&](i64 i) {
          const double d = static_cast<double>(dy[i]);
          return std::array<double, 2>{d, d * (static_cast<double>(x[i]) - mean) * invstd};
        });
        if (dgamma != nullptr) write_grad(dgamma[c], static_cast<T>(sum_dy_xhat), mode);
        if (dbeta != nullptr) write_grad(dbeta[c], static_cast<T>(sum_dy), mode);
      }
      if (dx != nullptr) {
        const T k = static_cast<T>(static_cast<double>(gamma[c]) * invstd);
        for_channel(s, c, [&](i64 i) { write_grad(dx[i], k * dy[i], mode); });
      }
    }
  });
}

#define RP_INSTANTIATE(T)                                                                          \
  template void batchnorm2d_forward_train<T>(const BatchNormShape&, const T*, const T*, const T*,  \
                                             T*, T*, T*, T*, T*, double, double, int);             \
  template void batchnorm2d_forward_eval<T>(const BatchNormShape&, const T*, const T*, const T*,   \
                                            const T*, const T*, T*, double, int);                  \
  template void batchnorm2d_backward_train<T>(const BatchNormShape&, const T*, const T*, const T*, \
                                              const T*, const T*, T*, T*, T*, GradMode, int);      \
  template void batchnorm2d_backward_eval<T>(const BatchNormShape&, const T*, const T*, const T*,  \
                                             const T*, const T*, double, T*, T*, T*, GradMode,     \
                                             int);
RP_INSTANTIATE(float)
RP_INSTANTIATE(double)
#undef RP_INSTANTIATE

}  // namespace rp::cpu
