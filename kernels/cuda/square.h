// Square Attack's proposals on the GPU: the CUDA twins of kernels/cpu/square.h, with its
// definitions and the same per-element arithmetic and Philox draws (kernels/attack_math.h);
// Linf a thread per element. Nothing allocates or synchronizes with the host.
#pragma once

#include "kernels/cpu/square.h"

namespace rp {
struct CudaHandles;
}

namespace rp::cuda {

using cpu::SquareL2Window;
using cpu::SquareShape;
using cpu::SquareWindow;

// The L2 kernels: a block per example, norms reduced in double (the CPU's sums in another
// order: ~1e-6 relative). At most kSquareMaxChannels channels.
constexpr std::int64_t kSquareMaxChannels = 16;
template <typename T>
void square_init_l2(CudaHandles* h, const SquareShape& s, const T* x0, double eps, const T* eta,
                    RngStream rng, T* out);
template <typename T>
void square_propose_l2(CudaHandles* h, const SquareShape& s, const T* x0, const T* x_best,
                       double eps, const SquareL2Window& win, const T* eta, RngStream rng, T* out);

template <typename T>
void square_init_linf(CudaHandles* h, const SquareShape& s, const T* x0, double eps, RngStream rng,
                      T* out);
template <typename T>
void square_propose_linf(CudaHandles* h, const SquareShape& s, const T* x0, const T* x_best,
                         double eps, const SquareWindow& win, RngStream rng, T* out);

}  // namespace rp::cuda
