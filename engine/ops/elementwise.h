// Elementwise ops over tensors of any shape (maths in kernels/cpu/elementwise.h).
//
//   add_forward   y = a + b  (the residual join); y may be a or b
//   add_backward  da (=|+=) dy,  db (=|+=) dy; either output may be undefined (not wanted)
//   fill          every element of x = value (any dtype; rounds to the dtype)
#pragma once

#include "engine/core/context.h"
#include "engine/core/grad_mode.h"
#include "engine/core/tensor.h"

namespace rp {

void add_forward(Context& ctx, const Tensor& a, const Tensor& b, const Tensor& y);
void add_backward(Context& ctx, const Tensor& dy, const Tensor& da, const Tensor& db,
                  GradMode mode);
void fill(Context& ctx, const Tensor& x, double value);

}  // namespace rp
