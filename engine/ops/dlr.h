// AutoAttack's Difference of Logits Ratio loss and Square's margin, per example (maths in
// kernels/cpu/dlr.h and kernels/attack_math.h).
//
//   logits, dlogits (N, K)   labels, targets (N) i32 in [0, K)   values, upstream (N)
//   dlr_forward/backward   untargeted (targets undefined; K >= 3):
//                              -(z_y - max_{j != y} z_j) / (z_pi1 - z_pi3 + 1e-12)
//                          targeted (K >= 4):
//                              -(z_y - z_t) / (z_pi1 - (z_pi3 + z_pi4) / 2 + 1e-12)
//                          both maximized by an attack
//   margin_forward         z_y - max_{j != y} z_j (K >= 2), minimized by Square
// A class outside [0, K) throws rp::Error naming it on a CPU context; on a CUDA context that
// example's value and gradient row are NaN instead (no host round trip), as cross_entropy does.
#pragma once

#include "engine/core/context.h"
#include "engine/core/grad_mode.h"
#include "engine/core/tensor.h"

namespace rp {

void dlr_forward(Context& ctx, const Tensor& logits, const Tensor& labels, const Tensor& targets,
                 const Tensor& values);
void dlr_backward(Context& ctx, const Tensor& logits, const Tensor& labels, const Tensor& targets,
                  const Tensor& upstream, const Tensor& dlogits, GradMode mode);
void margin_forward(Context& ctx, const Tensor& logits, const Tensor& labels, const Tensor& values);

}  // namespace rp
