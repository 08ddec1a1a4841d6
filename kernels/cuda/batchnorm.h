// 2-D batch normalization on the GPU: the CUDA twin of kernels/cpu/batchnorm.h, PyTorch's
// semantics. Training statistics as the CPU's two passes: a block per channel sums x, then
// (x - mean)^2, in double (each a two-level reduction: threads, then the block), then writes y
// and updates the running statistics; the backward reduces sum(dy) and sum(dy xhat) the same way,
// then writes dx. Eval forward is one elementwise launch. y may alias x, dx may alias dy.
#pragma once

#include <cstdint>

#include "engine/core/grad_mode.h"
#include "kernels/cpu/batchnorm.h"

namespace rp {
struct CudaHandles;
}

namespace rp::cuda {

using cpu::BatchNormShape;

template <typename T>
void batchnorm2d_forward_train(CudaHandles* h, const BatchNormShape& s, const T* x, const T* gamma,
                               const T* beta, T* running_mean, T* running_var, T* y, T* save_mean,
                               T* save_invstd, double momentum, double eps);
template <typename T>
void batchnorm2d_forward_eval(CudaHandles* h, const BatchNormShape& s, const T* x, const T* gamma,
                              const T* beta, const T* running_mean, const T* running_var, T* y,
                              double eps);
template <typename T>
void batchnorm2d_backward_train(CudaHandles* h, const BatchNormShape& s, const T* dy, const T* x,
                                const T* gamma, const T* save_mean, const T* save_invstd, T* dx,
                                T* dgamma, T* dbeta, GradMode mode);
template <typename T>
void batchnorm2d_backward_eval(CudaHandles* h, const BatchNormShape& s, const T* dy, const T* x,
                               const T* gamma, const T* running_mean, const T* running_var,
                               double eps, T* dx, T* dgamma, T* dbeta, GradMode mode);

}  // namespace rp::cuda
