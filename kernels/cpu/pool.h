// Global average pooling, CPU reference: x (n, c, hw) -> y (n, c).
//
//   forward   y[n,c] = sum_p x[n,c,p] / hw        (summed in double)
//   backward  dx[n,c,p] (=|+=) dy[n,c] / hw
#pragma once

#include <cstdint>

#include "engine/core/grad_mode.h"

namespace rp::cpu {

template <typename T>
void global_avg_pool_forward(std::int64_t n, std::int64_t c, std::int64_t hw, const T* x, T* y,
                             int threads);

template <typename T>
void global_avg_pool_backward(std::int64_t n, std::int64_t c, std::int64_t hw, const T* dy, T* dx,
                              GradMode mode, int threads);

}  // namespace rp::cpu
