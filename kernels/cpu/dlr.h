// The Difference of Logits Ratio loss of AutoAttack (Croce & Hein 2020) and Square's margin,
// CPU reference. z (n, k) logits, y (n) the true classes, t (n) the targets or null.
//
//   dlr_forward    values_i = -(z_y - z_o) / D   (maths and tie rules in kernels/attack_math.h)
//                  untargeted: o = the largest non-true class, D = z_pi1 - z_pi3 + 1e-12
//                  targeted:   o = t_i, D = z_pi1 - (z_pi3 + z_pi4) / 2 + 1e-12
//   dlr_backward   dz_i (=|+=) up_i dvalues_i/dz_i: -1/D at y, +1/D at o, and the
//                  denominator's terms (num/D^2 at pi1, -num/D^2 at pi3, or -num/(2D^2) at pi3
//                  and at pi4 when targeted); the order pi of the row is held fixed (the
//                  gradient of the piece of the loss that contains z, as autograd gives)
//   margin_forward values_i = z_y - max_{j != y} z_j
// Computed in double. Classes are validated before any work (rp::Error naming the example);
// k >= 3 (untargeted) or >= 4 (targeted), checked by the op. A row with a NaN among its top
// logits gets a NaN value and gradient row.
#pragma once

#include <cstdint>

#include "engine/core/grad_mode.h"

namespace rp::cpu {

template <typename T>
void dlr_forward(std::int64_t n, std::int64_t k, const T* z, const std::int32_t* y,
                 const std::int32_t* t, T* values, int threads);
template <typename T>
void dlr_backward(std::int64_t n, std::int64_t k, const T* z, const std::int32_t* y,
                  const std::int32_t* t, const T* upstream, T* dz, GradMode mode, int threads);
template <typename T>
void margin_forward(std::int64_t n, std::int64_t k, const T* z, const std::int32_t* y, T* values,
                    int threads);

}  // namespace rp::cpu
