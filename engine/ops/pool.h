// Global average pooling (maths in kernels/cpu/pool.h).
//
//   x, dx (N, C, H, W)    y, dy (N, C)
//   forward   y[n,c] = mean over (h, w) of x[n,c]
//   backward  dx[n,c,h,w] (=|+=) dy[n,c] / (H W)
#pragma once

#include "engine/core/context.h"
#include "engine/core/grad_mode.h"
#include "engine/core/tensor.h"

namespace rp {

void global_avg_pool_forward(Context& ctx, const Tensor& x, const Tensor& y);
void global_avg_pool_backward(Context& ctx, const Tensor& dy, const Tensor& dx, GradMode mode);

}  // namespace rp
