// APGD's per-iteration and per-checkpoint updates (maths in kernels/cpu/apgd.h).
//
//   x, x_prev, g, x0, best_x, best_g (N, ...) in pixel space   step, loss, state (N)
//   apgd_update_linf / _l2  the momentum step: z = P(x + step_i dir(g)),
//                           x' = P(x + a (z - x) + (1 - a) (x - x_prev)); x_prev = x; x = x'
//   apgd_track              count loss increases, remember each example's best loss, point
//                           and gradient
//   apgd_checkpoint         per example, halve the step and restart from the best point when
//                           APGD's conditions hold (kernels/attack_math.h apgd_halves)
// momentum in [0, 1], eps >= 0, rho in [0, 1], window >= 1. The state lives on the tensors'
// device, so a whole APGD run makes no host decision.
#pragma once

#include <cstdint>

#include "engine/core/context.h"
#include "engine/core/tensor.h"

namespace rp {

void apgd_update_linf(Context& ctx, const Tensor& g, const Tensor& x0, const Tensor& step,
                      double momentum, double eps, const Tensor& x, const Tensor& x_prev);
void apgd_update_l2(Context& ctx, const Tensor& g, const Tensor& x0, const Tensor& step,
                    double momentum, double eps, const Tensor& x, const Tensor& x_prev);

// The per-example state of one APGD run.
struct ApgdState {
  Tensor prev_loss, increases, best_loss, best_last, halved_last, step;  // (N) each
  Tensor best_x, best_g;                                                 // (N, ...)
};

void apgd_track(Context& ctx, const Tensor& loss, const Tensor& x, const Tensor& g,
                const ApgdState& state);
void apgd_checkpoint(Context& ctx, std::int64_t window, double rho, const ApgdState& state,
                     const Tensor& x, const Tensor& g);

}  // namespace rp
