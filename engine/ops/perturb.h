// Perturbation updates of PGD-style attacks (maths, per example, in kernels/cpu/perturb.h).
//
//   x, g, x0, out: (N, ...) in pixel space [0, 1], one example per index of dimension 0
//   pgd_step_linf / pgd_step_l2      out = x + alpha sign(g)  |  x + alpha g / (||g|| + 1e-10)
//   project_linf / project_l2        out = x projected onto the eps-ball around x0, clipped to
//   [0,1] pgd_update_linf / pgd_update_l2  step, project and clip in one pass: one PGD iteration
//   random_start_linf / _l2          out = x0 + uniform noise in the Linf ball | a point on the
//                                    L2 sphere of radius eps, clipped to [0, 1]
//   l2_norm_per_example              norms (N) = ||x_i||_2
//
// out may be x itself (in place; for random starts, x0 itself) but must not overlap the other
// inputs. alpha < 0 descends. eps >= 0. Random starts draw from `rng` (Context::rng).
#pragma once

#include "engine/core/context.h"
#include "engine/core/philox.h"
#include "engine/core/tensor.h"

namespace rp {

void pgd_step_linf(Context& ctx, const Tensor& x, const Tensor& g, double alpha, const Tensor& out);
void pgd_step_l2(Context& ctx, const Tensor& x, const Tensor& g, double alpha, const Tensor& out);
void project_linf(Context& ctx, const Tensor& x, const Tensor& x0, double eps, const Tensor& out);
void project_l2(Context& ctx, const Tensor& x, const Tensor& x0, double eps, const Tensor& out);
void pgd_update_linf(Context& ctx, const Tensor& x, const Tensor& g, const Tensor& x0, double alpha,
                     double eps, const Tensor& out);
void pgd_update_l2(Context& ctx, const Tensor& x, const Tensor& g, const Tensor& x0, double alpha,
                   double eps, const Tensor& out);
void random_start_linf(Context& ctx, const Tensor& x0, double eps, RngStream rng,
                       const Tensor& out);
void random_start_l2(Context& ctx, const Tensor& x0, double eps, RngStream rng, const Tensor& out);
void l2_norm_per_example(Context& ctx, const Tensor& x, const Tensor& norms);

}  // namespace rp
