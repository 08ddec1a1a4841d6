// 2-D batch normalization, CPU reference, with PyTorch's semantics. Per channel c of
// x (n, c, hw) there are M = n*hw values.
//
//   train forward   mu = sum(x)/M,  var = sum((x-mu)^2)/M (biased),  r = 1/sqrt(var + eps)
//                   xhat = (x - mu) r,  y = gamma xhat + beta
//                   running_mean <- (1-m) running_mean + m mu
//                   running_var  <- (1-m) running_var  + m var M/(M-1)   (unbiased)
//                   save_mean = mu, save_invstd = r  (for backward)
//   eval forward    r = 1/sqrt(running_var + eps),  y = gamma (x - running_mean) r + beta
//   train backward  dbeta = sum(dy),  dgamma = sum(dy xhat),
//                   dx = gamma r (dy - dbeta/M - xhat dgamma/M)
//   eval backward   dbeta = sum(dy),  dgamma = sum(dy (x - running_mean) r),  dx = gamma r dy
//
// Gradient outputs are written under `mode` (= or +=); any of dx, dgamma, dbeta may be null
// (not wanted: attacks need dx only). y may alias x, dx may alias dy. Channels are split
// across threads and every sum runs in double in a fixed order.
//
// Fused with their neighbours in a ResNet block, to save whole passes over the activations:
// the forwards write y = relu(bn(x) + residual) - the residual added where it is not null, the
// ReLU applied where `relu` - with the roundings of the separate add and ReLU; the backwards,
// given relu_out (not null: the output of a ReLU that followed this BN), take dy where
// relu_out > 0 and 0 elsewhere, as relu_backward would have. residual and relu_out must not
// alias y or dx.
#pragma once

#include <cstdint>

#include "engine/core/grad_mode.h"

namespace rp::cpu {

struct BatchNormShape {
  std::int64_t n = 0, c = 0, hw = 0;  // x is (n, c, hw)
};

template <typename T>
void batchnorm2d_forward_train(const BatchNormShape& s, const T* x, const T* gamma, const T* beta,
                               T* running_mean, T* running_var, T* y, T* save_mean, T* save_invstd,
                               double momentum, double eps, const T* residual, bool relu,
                               int threads);

template <typename T>
void batchnorm2d_forward_eval(const BatchNormShape& s, const T* x, const T* gamma, const T* beta,
                              const T* running_mean, const T* running_var, T* y, double eps,
                              const T* residual, bool relu, int threads);

template <typename T>
void batchnorm2d_backward_train(const BatchNormShape& s, const T* dy, const T* x, const T* gamma,
                                const T* save_mean, const T* save_invstd, T* dx, T* dgamma,
                                T* dbeta, GradMode mode, const T* relu_out, int threads);

template <typename T>
void batchnorm2d_backward_eval(const BatchNormShape& s, const T* dy, const T* x, const T* gamma,
                               const T* running_mean, const T* running_var, double eps, T* dx,
                               T* dgamma, T* dbeta, GradMode mode, const T* relu_out, int threads);

}  // namespace rp::cpu
