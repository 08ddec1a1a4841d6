#include "kernels/cpu/batchnorm.h"

#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

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

// y[i] = value(i) (a T, rounded before the add), then + residual[i] where given, then ReLU (v < 0 ?
// 0 : v, as relu_forward) where asked, over channel c: the same roundings as the separate add and
// ReLU passes, in the pass that writes y. One loop per case, so the per-element work has no test of
// the options.
template <typename T, typename Value>
void write_channel(const BatchNormShape& s, i64 c, const T* residual, bool relu, T* y,
                   Value&& value) {
  const auto relu_of = [](T v) { return v < T(0) ? T(0) : v; };
  if (residual == nullptr && !relu) {
    for_channel(s, c, [&](i64 i) { y[i] = value(i); });
  } else if (residual == nullptr) {
    for_channel(s, c, [&](i64 i) { y[i] = relu_of(value(i)); });
  } else if (!relu) {
    for_channel(s, c, [&](i64 i) { y[i] = value(i) + residual[i]; });
  } else {
    for_channel(s, c, [&](i64 i) { y[i] = relu_of(value(i) + residual[i]); });
  }
}

// The incoming gradient at i: dy[i], or - kMasked, behind a ReLU whose output was relu_out -
// dy[i] where relu_out[i] > 0 and +0 elsewhere (relu_backward's values, bit for bit). The
// mask is applied to the bits: GCC compiles `relu_out[i] > 0 ? dy[i] : 0` in these loops to a
// branch, and a ReLU's mask is a coin toss per element - ten times slower than no mask.
template <bool kMasked, typename T>
inline T incoming(const T* dy, const T* relu_out, i64 i) {
  if constexpr (kMasked) {
    using Bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
    static_assert(sizeof(Bits) == sizeof(T));
    Bits bits;
    std::memcpy(&bits, dy + i, sizeof bits);
    bits &= Bits{0} - static_cast<Bits>(relu_out[i] > T(0));
    T g;
    std::memcpy(&g, &bits, sizeof g);
    return g;
  } else {
    return dy[i];
  }
}

template <bool kMasked, typename T>
void backward_train(const BatchNormShape& s, const T* dy, const T* x, const T* gamma,
                    const T* save_mean, const T* save_invstd, T* dx, T* dgamma, T* dbeta,
                    GradMode mode, const T* relu_out, int threads) {
  const double M = static_cast<double>(s.n * s.hw);
  parallel_for(threads, s.c, channel_grain(s), [&](i64 begin, i64 end, int) {
    for (i64 c = begin; c < end; ++c) {
      const double mean = static_cast<double>(save_mean[c]);
      const double invstd = static_cast<double>(save_invstd[c]);
      const auto [sum_dy, sum_dy_xhat] = channel_sums<2>(s, c, [&](i64 i) {
        const double d = static_cast<double>(incoming<kMasked>(dy, relu_out, i));
        return std::array<double, 2>{d, d * (static_cast<double>(x[i]) - mean) * invstd};
      });
      if (dx != nullptr) {
        const double k = static_cast<double>(gamma[c]) * invstd;
        const double mean_dy = sum_dy / M, mean_dy_xhat = sum_dy_xhat / M;
        for_channel(s, c, [&](i64 i) {
          const double xhat = (static_cast<double>(x[i]) - mean) * invstd;
          const double d = static_cast<double>(incoming<kMasked>(dy, relu_out, i));
          write_grad(dx[i], static_cast<T>(k * (d - mean_dy - xhat * mean_dy_xhat)), mode);
        });
      }
      if (dgamma != nullptr) write_grad(dgamma[c], static_cast<T>(sum_dy_xhat), mode);
      if (dbeta != nullptr) write_grad(dbeta[c], static_cast<T>(sum_dy), mode);
    }
  });
}

template <bool kMasked, typename T>
void backward_eval(const BatchNormShape& s, const T* dy, const T* x, const T* gamma,
                   const T* running_mean, const T* running_var, double eps, T* dx, T* dgamma,
                   T* dbeta, GradMode mode, const T* relu_out, int threads) {
  parallel_for(threads, s.c, channel_grain(s), [&](i64 begin, i64 end, int) {
    for (i64 c = begin; c < end; ++c) {
      const double invstd = 1.0 / std::sqrt(static_cast<double>(running_var[c]) + eps);
      const double mean = static_cast<double>(running_mean[c]);
      if (dgamma != nullptr || dbeta != nullptr) {
        const auto [sum_dy, sum_dy_xhat] = channel_sums<2>(s, c, [&](i64 i) {
          const double d = static_cast<double>(incoming<kMasked>(dy, relu_out, i));
          return std::array<double, 2>{d, d * (static_cast<double>(x[i]) - mean) * invstd};
        });
        if (dgamma != nullptr) write_grad(dgamma[c], static_cast<T>(sum_dy_xhat), mode);
        if (dbeta != nullptr) write_grad(dbeta[c], static_cast<T>(sum_dy), mode);
      }
      if (dx != nullptr) {
        const T k = static_cast<T>(static_cast<double>(gamma[c]) * invstd);
        for_channel(
            s, c, [&](i64 i) { write_grad(dx[i], k * incoming<kMasked>(dy, relu_out, i), mode); });
      }
    }
  });
}

}  // namespace

template <typename T>
void batchnorm2d_forward_train(const BatchNormShape& s, const T* x, const T* gamma, const T* beta,
                               T* running_mean, T* running_var, T* y, T* save_mean, T* save_invstd,
                               double momentum, double eps, const T* residual, bool relu,
                               int threads) {
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
      write_channel(s, c, residual, relu, y,
                    [&](i64 i) -> T { return (x[i] - t_mean) * t_invstd * g + b; });
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
                              const T* residual, bool relu, int threads) {
  parallel_for(threads, s.c, channel_grain(s), [&](i64 begin, i64 end, int) {
    for (i64 c = begin; c < end; ++c) {
      const T invstd = static_cast<T>(1.0 / std::sqrt(static_cast<double>(running_var[c]) + eps));
      const T mean = running_mean[c], g = gamma[c], b = beta[c];
      write_channel(s, c, residual, relu, y,
                    [&](i64 i) -> T { return (x[i] - mean) * invstd * g + b; });
    }
  });
}

template <typename T>
void batchnorm2d_backward_train(const BatchNormShape& s, const T* dy, const T* x, const T* gamma,
                                const T* save_mean, const T* save_invstd, T* dx, T* dgamma,
                                T* dbeta, GradMode mode, const T* relu_out, int threads) {
  if (relu_out == nullptr) {
    backward_train<false>(s, dy, x, gamma, save_mean, save_invstd, dx, dgamma, dbeta, mode,
                          relu_out, threads);
  } else {
    backward_train<true>(s, dy, x, gamma, save_mean, save_invstd, dx, dgamma, dbeta, mode, relu_out,
                         threads);
  }
}

template <typename T>
void batchnorm2d_backward_eval(const BatchNormShape& s, const T* dy, const T* x, const T* gamma,
                               const T* running_mean, const T* running_var, double eps, T* dx,
                               T* dgamma, T* dbeta, GradMode mode, const T* relu_out, int threads) {
  if (relu_out == nullptr) {
    backward_eval<false>(s, dy, x, gamma, running_mean, running_var, eps, dx, dgamma, dbeta, mode,
                         relu_out, threads);
  } else {
    backward_eval<true>(s, dy, x, gamma, running_mean, running_var, eps, dx, dgamma, dbeta, mode,
                        relu_out, threads);
  }
}

#define RP_INSTANTIATE(T)                                                                          \
  template void batchnorm2d_forward_train<T>(const BatchNormShape&, const T*, const T*, const T*,  \
                                             T*, T*, T*, T*, T*, double, double, const T*, bool,   \
                                             int);                                                 \
  template void batchnorm2d_forward_eval<T>(const BatchNormShape&, const T*, const T*, const T*,   \
                                            const T*, const T*, T*, double, const T*, bool, int);  \
  template void batchnorm2d_backward_train<T>(const BatchNormShape&, const T*, const T*, const T*, \
                                              const T*, const T*, T*, T*, T*, GradMode, const T*,  \
                                              int);                                                \
  template void batchnorm2d_backward_eval<T>(const BatchNormShape&, const T*, const T*, const T*,  \
                                             const T*, const T*, double, T*, T*, T*, GradMode,     \
                                             const T*, int);
RP_INSTANTIATE(float)
RP_INSTANTIATE(double)
#undef RP_INSTANTIATE

}  // namespace rp::cpu
