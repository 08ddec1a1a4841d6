// Objectives of attacks and representation experiments, per example (maths in
// kernels/cpu/objectives.h).
//
//   r, target, dr (N, F)   k (N) i32 in [0, F)   values, upstream (N)
//   representation_distance_forward/backward   ||r - target|| / ||target||     (inversion)
//   coordinate_forward/backward                r[k], or min(r[k] - tau, 0) with a hinge
//   keep_better   where values beat best_values (maximize: greater; else smaller), copy the
//                 value and the example of x (N, ...) into best_values and best_x
// A coordinate outside [0, F) throws rp::Error naming it on a CPU context. On a CUDA context k
// is not read back (a host round trip per iteration): that example's value and gradient row
// are NaN instead, as cross_entropy does for a bad label.
#pragma once

#include <optional>

#include "engine/core/context.h"
#include "engine/core/grad_mode.h"
#include "engine/core/tensor.h"

namespace rp {

void representation_distance_forward(Context& ctx, const Tensor& r, const Tensor& target,
                                     const Tensor& values);
void representation_distance_backward(Context& ctx, const Tensor& r, const Tensor& target,
                                      const Tensor& upstream, const Tensor& dr, GradMode mode);

// hinge: std::nullopt for the plain coordinate, tau for min(r[k] - tau, 0).
void coordinate_forward(Context& ctx, const Tensor& r, const Tensor& k, std::optional<double> hinge,
                        const Tensor& values);
void coordinate_backward(Context& ctx, const Tensor& r, const Tensor& k,
                         std::optional<double> hinge, const Tensor& upstream, const Tensor& dr,
                         GradMode mode);

void keep_better(Context& ctx, const Tensor& values, const Tensor& x, bool maximize,
                 const Tensor& best_values, const Tensor& best_x);

}  // namespace rp
