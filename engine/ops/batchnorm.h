// 2-D batch normalization with PyTorch's semantics (train: batch statistics and a running
// update with momentum, biased variance to normalize, unbiased for the running estimate;
// eval: running statistics). The maths is in kernels/cpu/batchnorm.h.
//
//   x, y, dy, dx  (N, C, H, W)     gamma, beta, running_mean, running_var, save_*  (C)
//
// Backward outputs dx, dgamma, dbeta are each optional: pass an undefined Tensor() for a
// gradient that is not wanted (attacks take dx only). y may be x; dx may be dy.
#pragma once

#include "engine/core/context.h"
#include "engine/core/grad_mode.h"
#include "engine/core/tensor.h"

namespace rp {

struct BatchNormParams {
  double momentum = 0.1;  // running = (1 - momentum) running + momentum batch
  double eps = 1e-5;
};

void batchnorm2d_forward_train(Context& ctx, const Tensor& x, const Tensor& gamma,
                               const Tensor& beta, const Tensor& running_mean,
                               const Tensor& running_var, const Tensor& y, const Tensor& save_mean,
                               const Tensor& save_invstd, const BatchNormParams& p);

void batchnorm2d_forward_eval(Context& ctx, const Tensor& x, const Tensor& gamma,
                              const Tensor& beta, const Tensor& running_mean,
                              const Tensor& running_var, const Tensor& y, double eps);

void batchnorm2d_backward_train(Context& ctx, const Tensor& dy, const Tensor& x,
                                const Tensor& gamma, const Tensor& save_mean,
                                const Tensor& save_invstd, const Tensor& dx, const Tensor& dgamma,
                                const Tensor& dbeta, GradMode mode);

void batchnorm2d_backward_eval(Context& ctx, const Tensor& dy, const Tensor& x, const Tensor& gamma,
                               const Tensor& running_mean, const Tensor& running_var, double eps,
                               const Tensor& dx, const Tensor& dgamma, const Tensor& dbeta,
                               GradMode mode);

}  // namespace rp
