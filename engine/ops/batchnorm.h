// 2-D batch normalization with PyTorch's semantics (train: batch statistics and a running
// update with momentum, biased variance to normalize, unbiased for the running estimate;
// eval: running statistics). The maths is in kernels/cpu/batchnorm.h.
//
//   x, y, dy, dx  (N, C, H, W)     gamma, beta, running_mean, running_var, save_*  (C)
//
// Backward outputs dx, dgamma, dbeta are each optional: pass an undefined Tensor() for a
// gradient that is not wanted (attacks take dx only). y may be x; dx may be dy.
//
// Fused forms, for a ResNet block's BN-add-ReLU (one pass over the activations instead of up
// to three; the same roundings as the separate ops): the forwards take a BnEpilogue and write
// y = relu(bn(x) + residual); the backwards take relu_out, the output of the ReLU that followed
// the BN, and use dy where relu_out > 0, 0 elsewhere (relu_backward's gradient). residual and
// relu_out are (N, C, H, W) like x and must not share memory with y or dx. The fused forms run
// on the CPU only so far: a CUDA context gets them refused by name (BatchNormLayer runs the
// separate ops there).
#pragma once

#include "engine/core/context.h"
#include "engine/core/grad_mode.h"
#include "engine/core/tensor.h"

namespace rp {

struct BatchNormParams {
  double momentum = 0.1;  // running = (1 - momentum) running + momentum batch
  double eps = 1e-5;
};

// What a forward does to bn(x) before writing y: add `residual` where it is defined, then
// apply ReLU where `relu`. The default is plain batch norm.
struct BnEpilogue {
  Tensor residual;
  bool relu = false;
  bool fused() const { return residual.defined() || relu; }
};

void batchnorm2d_forward_train(Context& ctx, const Tensor& x, const Tensor& gamma,
                               const Tensor& beta, const Tensor& running_mean,
                               const Tensor& running_var, const Tensor& y, const Tensor& save_mean,
                               const Tensor& save_invstd, const BatchNormParams& p,
                               const BnEpilogue& epilogue = {});

void batchnorm2d_forward_eval(Context& ctx, const Tensor& x, const Tensor& gamma,
                              const Tensor& beta, const Tensor& running_mean,
                              const Tensor& running_var, const Tensor& y, double eps,
                              const BnEpilogue& epilogue = {});

void batchnorm2d_backward_train(Context& ctx, const Tensor& dy, const Tensor& x,
                                const Tensor& gamma, const Tensor& save_mean,
                                const Tensor& save_invstd, const Tensor& dx, const Tensor& dgamma,
                                const Tensor& dbeta, GradMode mode,
                                const Tensor& relu_out = Tensor());

void batchnorm2d_backward_eval(Context& ctx, const Tensor& dy, const Tensor& x, const Tensor& gamma,
                               const Tensor& running_mean, const Tensor& running_var, double eps,
                               const Tensor& dx, const Tensor& dgamma, const Tensor& dbeta,
                               GradMode mode, const Tensor& relu_out = Tensor());

}  // namespace rp
