// Elementwise ops, activations and the SGD step on the GPU: the CUDA twins of
// kernels/cpu/elementwise.h, activation.h and sgd.h, one grid-stride launch each, 16-byte
// vectorized where every pointer is aligned, on the context's stream.
#pragma once

#include <cstdint>

#include "engine/core/grad_mode.h"
#include "kernels/cpu/sgd.h"

namespace rp {
struct CudaHandles;
}

namespace rp::cuda {

template <typename T>
void add_forward(CudaHandles* h, std::int64_t n, const T* a, const T* b, T* y);
template <typename T>
void add_backward(CudaHandles* h, std::int64_t n, const T* dy, T* da, T* db, GradMode mode);
template <typename T>
void pass_gradient(CudaHandles* h, std::int64_t n, const T* dy, T* dx, GradMode mode);
template <typename T>
void fill(CudaHandles* h, std::int64_t n, T* x, T value);
template <typename T>
void relu_forward(CudaHandles* h, std::int64_t n, const T* x, T* y);
template <typename T>
void relu_backward(CudaHandles* h, std::int64_t n, const T* y, const T* dy, T* dx, GradMode mode);
// The whole contiguous parameter buffer in one launch, PyTorch's SGD semantics.
template <typename T>
void sgd_step(CudaHandles* h, std::int64_t n, T* param, const T* grad, T* momentum_buf,
              const cpu::SgdHyper& hyper);

}  // namespace rp::cuda
