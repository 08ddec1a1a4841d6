// Square Attack's Linf proposals (maths in kernels/cpu/square.h).
//
//   x0, x_best, out (N, C, H, W) in pixel space
//   square_init_linf     out = clamp(x0 + eps s, 0, 1), one random sign per example, channel
//                        and column (vertical stripes)
//   square_propose_linf  out = x_best with the window [top, top + side) x [left, left + side)
//                        of every example and channel moved to a random vertex of the Linf
//                        ball around x0 (one sign per example and channel), clipped to [0, 1]
//   square_init_l2       the reference's L2 start: a grid of eta(H / 5) tiles with random signs
//                        and transpositions, rescaled to norm eps (H, W >= 5)
//   square_propose_l2    the reference's L2 query: window 1 takes a fresh eta(side) pattern on
//                        top of its normalized old content, window 2 gives up its mass, and the
//                        whole perturbation is rescaled to norm eps
//   eta (side * side)    square_eta(side) in the call's dtype (uploaded once per attack)
// eps >= 0; windows must lie inside the image; at most 16 channels for the L2 ops.
#pragma once

#include "engine/core/context.h"
#include "engine/core/philox.h"
#include "engine/core/tensor.h"
#include "kernels/cpu/square.h"

namespace rp {

using SquareWindow = cpu::SquareWindow;
using SquareL2Window = cpu::SquareL2Window;
using cpu::square_eta;

void square_init_linf(Context& ctx, const Tensor& x0, double eps, RngStream rng, const Tensor& out);
void square_propose_linf(Context& ctx, const Tensor& x0, const Tensor& x_best, double eps,
                         const SquareWindow& window, RngStream rng, const Tensor& out);

void square_init_l2(Context& ctx, const Tensor& x0, double eps, const Tensor& eta, RngStream rng,
                    const Tensor& out);
void square_propose_l2(Context& ctx, const Tensor& x0, const Tensor& x_best, double eps,
                       const SquareL2Window& window, const Tensor& eta, RngStream rng,
                       const Tensor& out);

}  // namespace rp
