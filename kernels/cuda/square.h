// Square Attack's Linf proposals on the GPU: the CUDA twins of kernels/cpu/square.h, with its
// definitions and the same per-element arithmetic and Philox draws (kernels/attack_math.h), a
// thread per element. Nothing allocates or synchronizes with the host.
#pragma once

#include "kernels/cpu/square.h"

namespace rp {
struct CudaHandles;
}

namespace rp::cuda {

using cpu::SquareShape;
using cpu::SquareWindow;

template <typename T>
void square_init_linf(CudaHandles* h, const SquareShape& s, const T* x0, double eps, RngStream rng,
                      T* out);
template <typename T>
void square_propose_linf(CudaHandles* h, const SquareShape& s, const T* x0, const T* x_best,
                         double eps, const SquareWindow& win, RngStream rng, T* out);

}  // namespace rp::cuda
