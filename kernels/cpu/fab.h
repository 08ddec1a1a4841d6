// FAB's per-example maths (Croce & Hein, "Minimally distorted adversarial examples with a fast
// adaptive boundary attack", ICML 2020, as fra31/auto-attack's fab_base.py and
// fab_projections.py run it), CPU reference. p, w, x, x0, d (n, d) in pixel space; b, f (n).
//
//   fab_logit_gap      f_i = z_{t_i} - z_{y_i}; dlogits_i = e_{t_i} - e_{y_i} (assigned), the
//                      upstream of the one backward that gives grad_x f
//   fab_project_linf   d_i = argmin ||d||_inf  s.t. w_i . (p_i + d) = b_i, 0 <= p_i + d <= 1
//   fab_project_l2     d_i = argmin ||d||_2    (same constraints)
//     Both reduce to a monotone piecewise-linear equation in one multiplier whose breakpoints
//     are sorted: with c = b - w.p and u = sign(c) w, the L2 minimizer is
//     d_j = clip(mu u_j, -p_j, 1 - p_j) and the Linf one d_j = sign(u_j) min(t, room_j) (room_j
//     the distance to the face of the box u_j points to), mu or t the smallest value that
//     reaches u.d = |c|. Where the hyperplane misses the box, d is the box's corner furthest
//     along u (mu, t = infinity), the point of the box closest to the hyperplane's side.
//     Coordinates with w_j = 0 (L2: |w_j| <= 1e-8, as the reference) stay in place.
//   fab_step_linf/_l2  the FAB step at x_i with g_i = grad f_i: the hyperplane
//                      {z : g.(z - x) + f = 0}, d1 = proj(x), d2 = proj(x0), a1 = max(||d1||,
//                      1e-8), a2 likewise, alpha = min(a1 / (a1 + a2), alpha_max),
//                      x = clip((x + eta d1)(1 - alpha) + (x0 + eta d2) alpha, 0, 1)
//   fab_track_linf/_l2 where correct_i == 0 (x_i is misclassified): when ||x_i - x0_i|| <
//                      best_norm_i, best_i = x_i and best_norm_i = that norm; then
//                      x_i = x0_i + beta (x_i - x0_i), the step back towards the original
//   fab_accept         where still_i != 0 and best_norm_i <= eps: adv_i = best_i,
//                      adv_norm_i = best_norm_i, still_i = 0
// Multipliers, norms and dot products are computed in double. d1, d2 are scratch rows (n, d).
#pragma once

#include <cstdint>

#include "kernels/cpu/perturb.h"

namespace rp::cpu {

template <typename T>
void fab_logit_gap(std::int64_t n, std::int64_t k, const T* logits, const std::int32_t* labels,
                   const std::int32_t* targets, T* values, T* dlogits, int threads);

template <typename T>
void fab_project_linf(const PerturbShape& s, const T* p, const T* w, const T* b, T* d, int threads);
template <typename T>
void fab_project_l2(const PerturbShape& s, const T* p, const T* w, const T* b, T* d, int threads);

template <typename T>
void fab_step_linf(const PerturbShape& s, const T* x0, const T* g, const T* f, double eta,
                   double alpha_max, T* x, T* d1, T* d2, int threads);
template <typename T>
void fab_step_l2(const PerturbShape& s, const T* x0, const T* g, const T* f, double eta,
                 double alpha_max, T* x, T* d1, T* d2, int threads);

template <typename T>
void fab_track_linf(const PerturbShape& s, const T* x0, const T* correct, double beta, T* x,
                    T* best, T* best_norm, int threads);
template <typename T>
void fab_track_l2(const PerturbShape& s, const T* x0, const T* correct, double beta, T* x, T* best,
                  T* best_norm, int threads);

template <typename T>
void fab_accept(const PerturbShape& s, double eps, const T* best, const T* best_norm, T* still,
                T* adv, T* adv_norm, int threads);

}  // namespace rp::cpu
