// Square Attack's Linf proposals (Andriushchenko et al., ECCV 2020; fra31/auto-attack
// square.py), CPU reference. x0, x_best, out are (n, c, h, w) in pixel space.
//
//   square_init_linf     out = clamp(x0 + eps s_{i,c,w}, 0, 1): vertical stripes, one random
//                        sign per example, channel and column (Philox element (i c + c) w + w)
//   square_propose_linf  out = x_best outside the window [vh, vh + side) x [vw, vw + side);
//                        inside it clamp(P(x_best + 2 eps s_{i,c}), 0, 1) with one random sign
//                        per example and channel (Philox element i c + c), P the Linf ball
//                        around x0: the window jumps to a vertex of the ball
//   square_init_l2       the reference's L2 start: a grid of side = h / 5 tiles from offset
//                        (h - 5 side) / 2, each tile eta(side) (transposed where Philox element
//                        tile of `rng` ^ 1 is >= 0.5) times a random sign per example, channel
//                        and tile (element (i c + c) tiles + tile); then out = clamp(x0 + eps
//                        delta / (||delta|| + 1e-12), 0, 1)
//   square_propose_l2    the reference's L2 query from x_best (delta = x_best - x0): window 1 at
//                        (top, left) gets eta s_{i,c} + delta_w1 / ||delta_w1,c||, rescaled per
//                        channel to sqrt(max(eps^2 - ||delta||^2, 0) / C + ||delta_w1+w2||^2);
//                        window 2 at (top2, left2) is zeroed first; the result is rescaled to
//                        norm eps and clipped (square.py attack_single_run, L2 branch)
//   eta                  (side, side) patterns: eta(side) of square.py, row-major, `transpose`
//                        reads it transposed
// Signs: u < 0.5 -> -1, else +1 (u uniform in [0, 1)). The window is the same for the whole
// batch, as in the reference; the host draws it.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/core/philox.h"

namespace rp::cpu {

struct SquareShape {
  std::int64_t n = 0, c = 0, h = 0, w = 0;
};
struct SquareWindow {
  std::int64_t side = 1, top = 0, left = 0;
};

struct SquareL2Window {
  std::int64_t side = 1, top = 0, left = 0, top2 = 0, left2 = 0;
  bool transpose = false;
};

// eta(side) of the reference (square.py), row-major, in double.
std::vector<double> square_eta(std::int64_t side);

template <typename T>
void square_init_l2(const SquareShape& s, const T* x0, double eps, const T* eta, RngStream rng,
                    T* out, int threads);
template <typename T>
void square_propose_l2(const SquareShape& s, const T* x0, const T* x_best, double eps,
                       const SquareL2Window& win, const T* eta, RngStream rng, T* out, int threads);

template <typename T>
void square_init_linf(const SquareShape& s, const T* x0, double eps, RngStream rng, T* out,
                      int threads);
template <typename T>
void square_propose_linf(const SquareShape& s, const T* x0, const T* x_best, double eps,
                         const SquareWindow& win, RngStream rng, T* out, int threads);

}  // namespace rp::cpu
