// Square Attack's Linf proposals (maths in kernels/cpu/square.h).
//
//   x0, x_best, out (N, C, H, W) in pixel space
//   square_init_linf     out = clamp(x0 + eps s, 0, 1), one random sign per example, channel
//                        and column (vertical stripes)
//   square_propose_linf  out = x_best with the window [top, top + side) x [left, left + side)
//                        of every example and channel moved to a random vertex of the Linf
//                        ball around x0 (one sign per example and channel), clipped to [0, 1]
// eps >= 0; the window must lie inside the image.
#pragma once

#include "engine/core/context.h"
#include "engine/core/philox.h"
#include "engine/core/tensor.h"
#include "kernels/cpu/square.h"

namespace rp {

using SquareWindow = cpu::SquareWindow;

void square_init_linf(Context& ctx, const Tensor& x0, double eps, RngStream rng, const Tensor& out);
void square_propose_linf(Context& ctx, const Tensor& x0, const Tensor& x_best, double eps,
                         const SquareWindow& window, RngStream rng, const Tensor& out);

}  // namespace rp
