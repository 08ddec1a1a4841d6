// Pooling (maths in kernels/cpu/pool.h).
//
// Global average pooling:
//   x, dx (N, C, H, W)    y, dy (N, C)
//   forward   y[n,c] = mean over (h, w) of x[n,c]
//   backward  dx[n,c,h,w] (=|+=) dy[n,c] / (H W)
//
// Max pooling, PyTorch's MaxPool2d (no dilation, ceil_mode=False):
//   x, dx (N, C, H, W)    y, dy, argmax (N, C, H_out, W_out), argmax int32
//   H_out = floor((H + 2 pad_h - kernel_h) / stride_h) + 1, likewise W_out
//   forward   y = the window maximum, padding acting as -inf; ties keep the first maximum in
//             window order, a NaN propagates; argmax = the in-plane index h * W + w it came from
//   backward  dx (=|+=) dy scattered to argmax (the forward's, kept by the caller)
// The forward saves argmax into a caller's tensor (an arena's), so neither pass allocates.
#pragma once

#include <cstdint>

#include "engine/core/context.h"
#include "engine/core/grad_mode.h"
#include "engine/core/tensor.h"

namespace rp {

void global_avg_pool_forward(Context& ctx, const Tensor& x, const Tensor& y);
void global_avg_pool_backward(Context& ctx, const Tensor& dy, const Tensor& dx, GradMode mode);

struct MaxPool2dParams {
  std::int64_t kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0;
  // torchvision's ResNet stem pools with square(3, 2, 1).
  static MaxPool2dParams square(std::int64_t kernel, std::int64_t stride, std::int64_t pad) {
    return {kernel, kernel, stride, stride, pad, pad};
  }
};

// (N, C, H_out, W_out) for an input of shape x; throws rp::Error for parameters PyTorch
// refuses (kernel or stride < 1, pad < 0 or over half the kernel) or a window larger than the
// padded input.
Shape max_pool2d_output_shape(const Shape& x, const MaxPool2dParams& p);

void max_pool2d_forward(Context& ctx, const Tensor& x, const Tensor& y, const Tensor& argmax,
                        const MaxPool2dParams& p);
void max_pool2d_backward(Context& ctx, const Tensor& dy, const Tensor& argmax, const Tensor& dx,
                         const MaxPool2dParams& p, GradMode mode);

}  // namespace rp
