// APGD's updates on the GPU: the CUDA twins of kernels/cpu/apgd.h, with its definitions and the
// same per-element arithmetic (kernels/perturb_math.h, kernels/attack_math.h). Work is queued
// on the context's stream; nothing allocates or synchronizes with the host.
//   apgd_update_linf  one thread per element (the example's step read per element)
//   apgd_update_l2    a block per example: ||g||, ||z - x0||, ||w - x0|| reduced in double
//                     in turn, then the writes (the CPU's sums in another order: ~1e-6)
//   apgd_track, apgd_checkpoint   a block per example: decide, then copy the rows
#pragma once

#include <cstdint>

#include "kernels/cpu/perturb.h"

namespace rp {
struct CudaHandles;
}

namespace rp::cuda {

using cpu::PerturbShape;

template <typename T>
void apgd_update_linf(CudaHandles* h, const PerturbShape& s, const T* g, const T* x0, const T* step,
                      double momentum, double eps, T* x, T* x_prev);
template <typename T>
void apgd_update_l2(CudaHandles* h, const PerturbShape& s, const T* g, const T* x0, const T* step,
                    double momentum, double eps, T* x, T* x_prev);
template <typename T>
void apgd_track(CudaHandles* h, const PerturbShape& s, const T* loss, const T* x, const T* g,
                T* prev_loss, T* increases, T* best_loss, T* best_x, T* best_g);
template <typename T>
void apgd_checkpoint(CudaHandles* h, const PerturbShape& s, std::int64_t window, double rho,
                     const T* best_loss, const T* best_x, const T* best_g, T* best_last,
                     T* halved_last, T* increases, T* step, T* x, T* g);

}  // namespace rp::cuda
