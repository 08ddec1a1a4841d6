// FAB's ops on the GPU: the CUDA twins of kernels/cpu/fab.h, with its definitions. Work is
// queued on the context's stream; nothing allocates or synchronizes with the host.
//   fab_logit_gap        one thread per example; a class outside [0, K) gives that example a
//                        NaN value and upstream row (no host round trip), as dlr does
//   fab_project_*, fab_step_*, fab_track_*, fab_accept   a block per example
// The projections find the same multiplier as the CPU's sorted sweep by bisection instead of a
// sort: the piecewise-linear u.d(m) is evaluated by a block reduction per halving (64 of
// them bracket the root to the double precision of the largest breakpoint), then solved on the
// bracketing segment. The sums run in double in another order than the CPU's: ~1e-6 apart in
// fp32, ~1e-12 in fp64.
#pragma once

#include <cstdint>

#include "kernels/cpu/perturb.h"

namespace rp {
struct CudaHandles;
}

namespace rp::cuda {

using cpu::PerturbShape;

template <typename T>
void fab_logit_gap(CudaHandles* h, std::int64_t n, std::int64_t k, const T* logits,
                   const std::int32_t* labels, const std::int32_t* targets, T* values, T* dlogits);

template <typename T>
void fab_project_linf(CudaHandles* h, const PerturbShape& s, const T* p, const T* w, const T* b,
                      T* d);
template <typename T>
void fab_project_l2(CudaHandles* h, const PerturbShape& s, const T* p, const T* w, const T* b,
                    T* d);

template <typename T>
void fab_step_linf(CudaHandles* h, const PerturbShape& s, const T* x0, const T* g, const T* f,
                   double eta, double alpha_max, T* x, T* d1, T* d2);
template <typename T>
void fab_step_l2(CudaHandles* h, const PerturbShape& s, const T* x0, const T* g, const T* f,
                 double eta, double alpha_max, T* x, T* d1, T* d2);

template <typename T>
void fab_track_linf(CudaHandles* h, const PerturbShape& s, const T* x0, const T* correct,
                    double beta, T* x, T* best, T* best_norm);
template <typename T>
void fab_track_l2(CudaHandles* h, const PerturbShape& s, const T* x0, const T* correct, double beta,
                  T* x, T* best, T* best_norm);

template <typename T>
void fab_accept(CudaHandles* h, const PerturbShape& s, double eps, const T* best,
                const T* best_norm, T* still, T* adv, T* adv_norm);

}  // namespace rp::cuda
