// Square Attack's Linf proposals (Andriushchenko et al., ECCV 2020; fra31/auto-attack
// square.py), CPU reference. x0, x_best, out are (n, c, h, w) in pixel space.
//
//   square_init_linf     out = clamp(x0 + eps s_{i,c,w}, 0, 1): vertical stripes, one random
//                        sign per example, channel and column (Philox element (i c + c) w + w)
//   square_propose_linf  out = x_best outside the window [vh, vh + side) x [vw, vw + side);
//                        inside it clamp(P(x_best + 2 eps s_{i,c}), 0, 1) with one random sign
//                        per example and channel (Philox element i c + c), P the Linf ball
//                        around x0: the window jumps to a vertex of the ball
// Signs: u < 0.5 -> -1, else +1 (u uniform in [0, 1)). The window is the same for the whole
// batch, as in the reference; the host draws it.
#pragma once

#include <cstdint>

#include "engine/core/philox.h"

namespace rp::cpu {

struct SquareShape {
  std::int64_t n = 0, c = 0, h = 0, w = 0;
};
struct SquareWindow {
  std::int64_t side = 1, top = 0, left = 0;
};

template <typename T>
void square_init_linf(const SquareShape& s, const T* x0, double eps, RngStream rng, T* out,
                      int threads);
template <typename T>
void square_propose_linf(const SquareShape& s, const T* x0, const T* x_best, double eps,
                         const SquareWindow& win, RngStream rng, T* out, int threads);

}  // namespace rp::cpu
