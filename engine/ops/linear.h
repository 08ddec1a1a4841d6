// Fully connected layer (maths in kernels/cpu/linear.h).
//
//   x, dx (N, in)    w, dw (out, in)    b, db (out)    y, dy (N, out)
//   forward          y = x w^T + b          (b undefined: no bias)
//   backward_data    dx (=|+=) dy w
//   backward_weight  dw (=|+=) dy^T x,  db (=|+=) sum over the batch of dy  (db optional)
#pragma once

#include "engine/core/context.h"
#include "engine/core/grad_mode.h"
#include "engine/core/tensor.h"

namespace rp {

void linear_forward(Context& ctx, const Tensor& x, const Tensor& w, const Tensor& b,
                    const Tensor& y);
void linear_backward_data(Context& ctx, const Tensor& dy, const Tensor& w, const Tensor& dx,
                          GradMode mode);
void linear_backward_weight(Context& ctx, const Tensor& x, const Tensor& dy, const Tensor& dw,
                            const Tensor& db, GradMode mode);

}  // namespace rp
