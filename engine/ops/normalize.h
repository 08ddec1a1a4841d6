// Input normalization, every model's first op (maths in kernels/cpu/normalize.h): images
// arrive in pixel space [0, 1], and attacks and experiments never see normalized values.
//
//   x, y, dy, dx (N, C, H, W)    mean, std (C), std > 0
//   forward   y = (clamp(x, 0, 1) - mean[c]) / std[c]          y may be x
//   backward  dx (=|+=) dy / std[c] where 0 <= x <= 1, else 0
#pragma once

#include "engine/core/context.h"
#include "engine/core/grad_mode.h"
#include "engine/core/tensor.h"

namespace rp {

void normalize_forward(Context& ctx, const Tensor& x, const Tensor& mean, const Tensor& std,
                       const Tensor& y);
void normalize_backward(Context& ctx, const Tensor& x, const Tensor& dy, const Tensor& std,
                        const Tensor& dx, GradMode mode);

}  // namespace rp
