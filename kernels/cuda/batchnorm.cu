// Batch normalization (batchnorm.h). A block per channel walks its n * hw values batch-major;
// --fmad=false keeps the per-element expressions rounding as the CPU reference's.
#include <sstream>

#include "kernels/cuda/batchnorm.h"
#include "kernels/cuda/launch.cuh"

namespace rp::cuda {
namespace {

using i64 = std::int64_t;

std::string shape_text(const BatchNormShape& s) {
  std::ostringstream os;
  os << "x (" << s.n << ", " << s.c << ", " << s.hw << " pixels)";
  return os.str();
}

// Element k of channel c (k in [0, n * hw)).
__device__ inline i64 element(const BatchNormShape& s, i64 c, i64 k) {
  return ((k / s.hw) * s.c + c) * s.hw + k % s.hw;
}

template <typename T>
__global__ void forward_train_kernel(BatchNormShape s, const T* x, const T* gamma, const T* beta,
                                     T* running_mean, T* running_var, T* y, T* save_mean,
                                     T* save_invstd, double momentum, double eps) {
  const i64 m = s.n * s.hw;
  const double M = static_cast<double>(m);
  for (i64 c = blockIdx.x; c < s.c; c += gridDim.x) {
    // Two passes, as the CPU reference: the mean, then the squared deviations from it (the
    // one-pass E[x^2] - mean^2 loses the variance of a channel whose mean is large against
    // its spread, even in double).
    double sum = 0;
    for (i64 k = threadIdx.x; k < m; k += blockDim.x)
      sum += static_cast<double>(x[element(s, c, k)]);
    const double mean = block_sum(sum) / M;
    double sq = 0;
    for (i64 k = threadIdx.x; k < m; k += blockDim.x) {
      const double d = static_cast<double>(x[element(s, c, k)]) - mean;
      sq += d * d;
    }
    const double var = block_sum(sq) / M;
    const double invstd = 1.0 / sqrt(var + eps);
    const T t_mean = static_cast<T>(mean), t_invstd = static_cast<T>(invstd);
    const T g = gamma[c], b = beta[c];
    for (i64 k = threadIdx.x; k < m; k += blockDim.x) {
      const i64 i = element(s, c, k);
      y[i] = (x[i] - t_mean) * t_invstd * g + b;
    }
    if (threadIdx.x == 0) {
      save_mean[c] = t_mean;
      save_invstd[c] = t_invstd;
      running_mean[c] =
          static_cast<T>((1 - momentum) * static_cast<double>(running_mean[c]) + momentum * mean);
      running_var[c] = static_cast<T>((1 - momentum) * static_cast<double>(running_var[c]) +
                                      momentum * var * M / (M - 1));
    }
  }
}

template <typename T>
__global__ void forward_eval_kernel(BatchNormShape s, const T* x, const T* gamma, const T* beta,
                                    const T* running_mean, const T* running_var, T* y, double eps) {
  const i64 count = s.n * s.c * s.hw;
  for (i64 e = blockIdx.x * static_cast<i64>(blockDim.x) + threadIdx.x; e < count;
       e += static_cast<i64>(gridDim.x) * blockDim.x) {
    const i64 c = (e / s.hw) % s.c;
    const T invstd = static_cast<T>(1.0 / sqrt(static_cast<double>(running_var[c]) + eps));
    y[e] = (x[e] - running_mean[c]) * invstd * gamma[c] + beta[c];
  }
}

// The channel's sum(dy) and sum(dy (x - mean) invstd), then dx from `dx_of`.
template <typename T>
__global__ void backward_kernel(BatchNormShape s, const T* dy, const T* x, const T* gamma,
                                const T* mean_of, const T* var_or_invstd, bool train, double eps,
                                T* dx, T* dgamma, T* dbeta, bool accumulate) {
  const i64 m = s.n * s.hw;
  const double M = static_cast<double>(m);
  for (i64 c = blockIdx.x; c < s.c; c += gridDim.x) {
    const double mean = static_cast<double>(mean_of[c]);
    const double invstd = train ? static_cast<double>(var_or_invstd[c])
                                : 1.0 / sqrt(static_cast<double>(var_or_invstd[c]) + eps);
    double sum_dy = 0, sum_dy_xhat = 0;
    if (train || dgamma != nullptr || dbeta != nullptr) {
      for (i64 k = threadIdx.x; k < m; k += blockDim.x) {
        const i64 i = element(s, c, k);
        const double d = static_cast<double>(dy[i]);
        sum_dy += d;
        sum_dy_xhat += d * (static_cast<double>(x[i]) - mean) * invstd;
      }
      sum_dy = block_sum(sum_dy);
      sum_dy_xhat = block_sum(sum_dy_xhat);
    }
    if (dx != nullptr) {
      if (train) {
        const double kk = static_cast<double>(gamma[c]) * invstd;
        const double mean_dy = sum_dy / M, mean_dy_xhat = sum_dy_xhat / M;
        for (i64 k = threadIdx.x; k < m; k += blockDim.x) {
          const i64 i = element(s, c, k);
          const double xhat = (static_cast<double>(x[i]) - mean) * invstd;
          const T g =
              static_cast<T>(kk * (static_cast<double>(dy[i]) - mean_dy - xhat * mean_dy_xhat));
          dx[i] = accumulate ? dx[i] + g : g;
        }
      } else {
        const T kk = static_cast<T>(static_cast<double>(gamma[c]) * invstd);
        for (i64 k = threadIdx.x; k < m; k += blockDim.x) {
          const i64 i = element(s, c, k);
          const T g = kk * dy[i];
          dx[i] = accumulate ? dx[i] + g : g;
        }
      }
    }
    if (threadIdx.x == 0) {
      if (dgamma != nullptr) {
        const T g = static_cast<T>(sum_dy_xhat);
        dgamma[c] = accumulate ? dgamma[c] + g : g;
      }
      if (dbeta != nullptr) {
        const T g = static_cast<T>(sum_dy);
        dbeta[c] = accumulate ? dbeta[c] + g : g;
      }
    }
  }
}

unsigned channel_grid(i64 c) {
  return static_cast<unsigned>(std::max<i64>(1, std::min<i64>(c, 65535)));
}

}  // namespace

template <typename T>
void batchnorm2d_forward_train(CudaHandles* h, const BatchNormShape& s, const T* x, const T* gamma,
                               const T* beta, T* running_mean, T* running_var, T* y, T* save_mean,
                               T* save_invstd, double momentum, double eps) {
  if (s.c == 0) return;
  forward_train_kernel<T><<<channel_grid(s.c), kBlock, 0, h->stream>>>(
      s, x, gamma, beta, running_mean, running_var, y, save_mean, save_invstd, momentum, eps);
  check_launch(h, "batchnorm2d_forward_train", shape_text(s));
}

template <typename T>
void batchnorm2d_forward_eval(CudaHandles* h, const BatchNormShape& s, const T* x, const T* gamma,
                              const T* beta, const T* running_mean, const T* running_var, T* y,
                              double eps) {
  const i64 count = s.n * s.c * s.hw;
  if (count == 0) return;
  forward_eval_kernel<T><<<grid_for(count), kBlock, 0, h->stream>>>(s, x, gamma, beta, running_mean,
                                                                    running_var, y, eps);
  check_launch(h, "batchnorm2d_forward_eval", shape_text(s));
}

template <typename T>
void batchnorm2d_backward_train(CudaHandles* h, const BatchNormShape& s, const T* dy, const T* x,
                                const T* gamma, const T* save_mean, const T* save_invstd, T* dx,
                                T* dgamma, T* dbeta, GradMode mode) {
  if (s.c == 0) return;
  backward_kernel<T><<<channel_grid(s.c), kBlock, 0, h->stream>>>(
      s, dy, x, gamma, save_mean, save_invstd, true, 0.0, dx, dgamma, dbeta,
      mode == GradMode::Accumulate);
  check_launch(h, "batchnorm2d_backward_train", shape_text(s));
}

template <typename T>
void batchnorm2d_backward_eval(CudaHandles* h, const BatchNormShape& s, const T* dy, const T* x,
                               const T* gamma, const T* running_mean, const T* running_var,
                               double eps, T* dx, T* dgamma, T* dbeta, GradMode mode) {
  if (s.c == 0) return;
  backward_kernel<T><<<channel_grid(s.c), kBlock, 0, h->stream>>>(
      s, dy, x, gamma, running_mean, running_var, false, eps, dx, dgamma, dbeta,
      mode == GradMode::Accumulate);
  check_launch(h, "batchnorm2d_backward_eval", shape_text(s));
}

#define RP_INSTANTIATE(T)                                                                         \
  template void batchnorm2d_forward_train<T>(CudaHandles*, const BatchNormShape&, const T*,       \
                                             const T*, const T*, T*, T*, T*, T*, T*, double,      \
                                             double);                                             \
  template void batchnorm2d_forward_eval<T>(CudaHandles*, const BatchNormShape&, const T*,        \
                                            const T*, const T*, const T*, const T*, T*, double);  \
  template void batchnorm2d_backward_train<T>(CudaHandles*, const BatchNormShape&, const T*,      \
                                              const T*, const T*, const T*, const T*, T*, T*, T*, \
                                              GradMode);                                          \
  template void batchnorm2d_backward_eval<T>(CudaHandles*, const BatchNormShape&, const T*,       \
                                             const T*, const T*, const T*, const T*, double, T*,  \
                                             T*, T*, GradMode);
RP_INSTANTIATE(float)
RP_INSTANTIATE(double)
#undef RP_INSTANTIATE

}  // namespace rp::cuda
