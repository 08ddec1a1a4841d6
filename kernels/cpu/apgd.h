// The per-iteration and per-checkpoint updates of APGD (Croce & Hein 2020, Algorithm 1, as
// fra31/auto-attack's autopgd_base.py codes it), CPU reference. x, x_prev, g, x0, best_x,
// best_g are (n, d) in pixel space; step, loss and the per-example state are (n).
//
//   apgd_update_linf  z = P(x + step_i sign(g)),  x' = P(x + a (z - x) + (1 - a) (x - x_prev))
//   apgd_update_l2    z = P(x + step_i g / (||g|| + 1e-10)), x' likewise; P projects onto the
//                     eps-ball around x0 and clips to [0, 1] (kernels/perturb_math.h, the
//                     arithmetic of pgd_update_*). Then x_prev = x, x = x'.
//   apgd_track        increases_i += [loss_i > prev_loss_i]; prev_loss_i = loss_i; where
//                     loss_i > best_loss_i (a NaN never is): best_loss_i, best_x_i and
//                     best_g_i take the current loss, x_i and g_i
//   apgd_checkpoint   at the end of a window of `window` iterations, per example: halve =
//                     apgd_halves(increases_i, window, rho, halved_last_i, best_last_i,
//                     best_loss_i) (kernels/attack_math.h); where halving, step_i /= 2 and
//                     x_i, g_i restart from best_x_i, best_g_i; then halved_last_i = halve,
//                     best_last_i = best_loss_i, increases_i = 0
// The state is kept per example on the device so that no decision needs the host. Norms are
// summed in double. x and x_prev are updated in place.
#pragma once

#include <cstdint>

#include "kernels/cpu/perturb.h"

namespace rp::cpu {

template <typename T>
void apgd_update_linf(const PerturbShape& s, const T* g, const T* x0, const T* step,
                      double momentum, double eps, T* x, T* x_prev, int threads);
template <typename T>
void apgd_update_l2(const PerturbShape& s, const T* g, const T* x0, const T* step, double momentum,
                    double eps, T* x, T* x_prev, int threads);

template <typename T>
void apgd_track(const PerturbShape& s, const T* loss, const T* x, const T* g, T* prev_loss,
                T* increases, T* best_loss, T* best_x, T* best_g, int threads);

template <typename T>
void apgd_checkpoint(const PerturbShape& s, std::int64_t window, double rho, const T* best_loss,
                     const T* best_x, const T* best_g, T* best_last, T* halved_last, T* increases,
                     T* step, T* x, T* g, int threads);

}  // namespace rp::cpu
