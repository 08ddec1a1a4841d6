// The linear layer on the GPU: the CUDA twin of kernels/cpu/linear.h. The three products are
// cuBLAS GEMMs on the context's handle and stream (row-major operands passed as their
// column-major transposes; TF32 stays off: cuBLAS's default math mode); the bias is a
// broadcast kernel before the forward GEMM and a per-column reduction (in double) for its
// gradient.
#pragma once

#include <cstdint>

#include "engine/core/grad_mode.h"
#include "kernels/cpu/linear.h"

namespace rp {
struct CudaHandles;
}

namespace rp::cuda {

using cpu::LinearShape;

template <typename T>
void linear_forward(CudaHandles* h, const LinearShape& s, const T* x, const T* w, const T* b, T* y);
template <typename T>
void linear_backward_data(CudaHandles* h, const LinearShape& s, const T* dy, const T* w, T* dx,
                          GradMode mode);
template <typename T>
void linear_backward_weight(CudaHandles* h, const LinearShape& s, const T* x, const T* dy, T* dw,
                            T* db, GradMode mode);

}  // namespace rp::cuda
