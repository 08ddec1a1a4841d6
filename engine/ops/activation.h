// ReLU and fake-ReLU over tensors of any shape (maths in kernels/cpu/activation.h).
//
//   relu_forward        y = max(x, 0); y may be x
//   relu_backward       dx (=|+=) dy [y > 0]; dx may be dy
//   fake_relu_backward  dx (=|+=) dy: the identity, for the last ReLU of a model whose
//                       representation is being maximized. It takes y too so that it is a
//                       drop-in replacement for relu_backward.
#pragma once

#include "engine/core/context.h"
#include "engine/core/grad_mode.h"
#include "engine/core/tensor.h"

namespace rp {

void relu_forward(Context& ctx, const Tensor& x, const Tensor& y);
void relu_backward(Context& ctx, const Tensor& y, const Tensor& dy, const Tensor& dx,
                   GradMode mode);
void fake_relu_backward(Context& ctx, const Tensor& y, const Tensor& dy, const Tensor& dx,
                        GradMode mode);

}  // namespace rp
