// 2-D convolution (no bias): the maths and its = / += semantics are in kernels/cpu/conv2d.h.
//
//   x  (N, C_in, H, W)      w  (C_out, C_in, kH, kW)      y  (N, C_out, H_out, W_out)
//   H_out = (H + 2 pad_h - kH) / stride_h + 1, likewise W_out
//
// Outputs are written, never allocated: callers pass tensors of the right shape (an arena's).
// Scratch comes from the context's workspace. On a CUDA context the convolutions run on cuDNN
// (kernels/cudnn/conv2d.h), each shape's execution plan built on first use; conv2d_prepare
// builds them ahead, so that a loop running with frozen allocations finds them all.
#pragma once

#include <cstdint>

#include "engine/core/context.h"
#include "engine/core/grad_mode.h"
#include "engine/core/tensor.h"

namespace rp {

struct Conv2dParams {
  std::int64_t stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0;
  static Conv2dParams square(std::int64_t stride, std::int64_t pad) {
    return {stride, stride, pad, pad};
  }
};

// (N, C_out, H_out, W_out) for these inputs; throws rp::Error for shapes that do not fit.
Shape conv2d_output_shape(const Shape& x, const Shape& w, const Conv2dParams& p);

// Builds everything the convolution of x (N, C_in, H, W) with w (C_out, C_in, kH, kW) needs at
// this batch size - on a GPU the cuDNN plans of the forward pass and, with `backward`, of both
// gradients under either grad mode - and reserves the context's workspace for it. Refused
// (rp::Error) while allocations are frozen if anything is missing.
void conv2d_prepare(Context& ctx, const Shape& x, const Shape& w, const Conv2dParams& p,
                    DType dtype, bool backward);

// y = conv(x, w)
void conv2d_forward(Context& ctx, const Tensor& x, const Tensor& w, const Tensor& y,
                    const Conv2dParams& p);
// dx (=|+=) dL/dx given dy = dL/dy
void conv2d_backward_data(Context& ctx, const Tensor& dy, const Tensor& w, const Tensor& dx,
                          const Conv2dParams& p, GradMode mode);
// dw (=|+=) dL/dw given dy = dL/dy
void conv2d_backward_filter(Context& ctx, const Tensor& x, const Tensor& dy, const Tensor& dw,
                            const Conv2dParams& p, GradMode mode);

}  // namespace rp
