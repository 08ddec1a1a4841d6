// FAB's per-example ops (maths in kernels/cpu/fab.h).
//
//   logits, dlogits (N, K)   labels, targets (N) i32 in [0, K)   f, b, norms, flags (N)
//   x, x0, g, p, w, d, best, adv, d1, d2 (N, ...) in pixel space
//   fab_logit_gap        f = z_t - z_y and its upstream e_t - e_y (assigned)
//   fab_project_linf/_l2 d = the smallest displacement taking p onto {w.z = b} inside [0, 1]
//   fab_step_linf/_l2    one FAB step of x (in place) on the linearization f + g.(z - x) = 0;
//                        d1, d2 are scratch
//   fab_track_linf/_l2   keep the smallest misclassified iterate (correct == 0), then step
//                        back towards x0 by beta
//   fab_accept           move the kept points within eps into adv for the examples still
//                        standing
// eta >= 1, alpha_max and beta in [0, 1], eps >= 0. A class outside [0, K) throws rp::Error
// naming it on a CPU context; on a CUDA context that example's value and upstream row are NaN
// instead (no host round trip), as dlr does. The CUDA twins (kernels/cuda/fab.h) find the
// projections' multipliers by bisection where the CPU sorts: they agree to the rounding of
// their double-precision sums.
#pragma once

#include "engine/core/context.h"
#include "engine/core/tensor.h"

namespace rp {

void fab_logit_gap(Context& ctx, const Tensor& logits, const Tensor& labels, const Tensor& targets,
                   const Tensor& f, const Tensor& dlogits);

void fab_project_linf(Context& ctx, const Tensor& p, const Tensor& w, const Tensor& b,
                      const Tensor& d);
void fab_project_l2(Context& ctx, const Tensor& p, const Tensor& w, const Tensor& b,
                    const Tensor& d);

void fab_step_linf(Context& ctx, const Tensor& x0, const Tensor& g, const Tensor& f, double eta,
                   double alpha_max, const Tensor& x, const Tensor& d1, const Tensor& d2);
void fab_step_l2(Context& ctx, const Tensor& x0, const Tensor& g, const Tensor& f, double eta,
                 double alpha_max, const Tensor& x, const Tensor& d1, const Tensor& d2);

void fab_track_linf(Context& ctx, const Tensor& x0, const Tensor& correct, double beta,
                    const Tensor& x, const Tensor& best, const Tensor& best_norm);
void fab_track_l2(Context& ctx, const Tensor& x0, const Tensor& correct, double beta,
                  const Tensor& x, const Tensor& best, const Tensor& best_norm);

void fab_accept(Context& ctx, double eps, const Tensor& best, const Tensor& best_norm,
                const Tensor& still, const Tensor& adv, const Tensor& adv_norm);

}  // namespace rp
