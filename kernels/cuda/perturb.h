// Perturbation updates on the GPU: the CUDA twins of kernels/cpu/perturb.h, with its
// definitions and the same per-element arithmetic (kernels/perturb_math.h). Work is queued on
// the context's stream; nothing allocates or synchronizes with the host.
//   Linf step, projection and update: one elementwise launch each (the update fuses step,
//   projection and clip), 16-byte vectorized where aligned.
//   L2 step, projection and update, random_start_l2, l2_norm_per_example: one launch, a block
//   per example that reduces its norm(s) in double and then writes - the update computes
//   ||g||, then ||x + step g - x0||, then the projected point, all in that one launch.
//   Random starts draw Philox element e for element e, as the CPU reference does.
#pragma once

#include "engine/core/philox.h"
#include "kernels/cpu/perturb.h"

namespace rp {
struct CudaHandles;
}

namespace rp::cuda {

using cpu::PerturbShape;

template <typename T>
void pgd_step_linf(CudaHandles* h, const PerturbShape& s, const T* x, const T* g, double alpha,
                   T* out);
template <typename T>
void pgd_step_l2(CudaHandles* h, const PerturbShape& s, const T* x, const T* g, double alpha,
                 T* out);
template <typename T>
void project_linf(CudaHandles* h, const PerturbShape& s, const T* x, const T* x0, double eps,
                  T* out);
template <typename T>
void project_l2(CudaHandles* h, const PerturbShape& s, const T* x, const T* x0, double eps, T* out);
template <typename T>
void pgd_update_linf(CudaHandles* h, const PerturbShape& s, const T* x, const T* g, const T* x0,
                     double alpha, double eps, T* out);
template <typename T>
void pgd_update_l2(CudaHandles* h, const PerturbShape& s, const T* x, const T* g, const T* x0,
                   double alpha, double eps, T* out);
template <typename T>
void random_start_linf(CudaHandles* h, const PerturbShape& s, const T* x0, double eps,
                       RngStream rng, T* out);
template <typename T>
void random_start_l2(CudaHandles* h, const PerturbShape& s, const T* x0, double eps, RngStream rng,
                     T* out);
template <typename T>
void l2_norm_per_example(CudaHandles* h, const PerturbShape& s, const T* x, T* norms);

}  // namespace rp::cuda
