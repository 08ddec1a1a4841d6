// Input normalization, the first op of every model, CPU reference: x (n, c, hw) in pixel space.
//
//   forward   y = (clamp(x, 0, 1) - mean[c]) / std[c]
//   backward  dx (=|+=) dy / std[c] where 0 <= x <= 1, else 0
// The clamp's gradient passes at the bounds themselves (as torch.clamp's does): saturated
// pixels, common in real images, keep their gradient. NaN propagates through the clamp.
#pragma once

#include <cstdint>

#include "engine/core/grad_mode.h"

namespace rp::cpu {

template <typename T>
void normalize_forward(std::int64_t n, std::int64_t c, std::int64_t hw, const T* x, const T* mean,
                       const T* std, T* y, int threads);

template <typename T>
void normalize_backward(std::int64_t n, std::int64_t c, std::int64_t hw, const T* x, const T* dy,
                        const T* std, T* dx, GradMode mode, int threads);

}  // namespace rp::cpu
