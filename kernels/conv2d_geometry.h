// The shape of one 2-D convolution, shared by every implementation (CPU reference, cuDNN).
//
//   x (n, c_in, h, w)   w (c_out, c_in, kh, kw)   y (n, c_out, h_out, w_out)
//   h_out = (h + 2 pad_h - kh) / stride_h + 1, likewise w_out; no dilation, no groups, no bias
#pragma once

#include <cstdint>

namespace rp {

struct Conv2dGeometry {
  std::int64_t n = 0, c_in = 0, h = 0, w = 0;
  std::int64_t c_out = 0, kh = 0, kw = 0;
  std::int64_t stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0;

  std::int64_t h_out() const { return (h + 2 * pad_h - kh) / stride_h + 1; }
  std::int64_t w_out() const { return (w + 2 * pad_w - kw) / stride_w + 1; }
  // The im2col matrix of one image is (patch_size, out_pixels).
  std::int64_t patch_size() const { return c_in * kh * kw; }
  std::int64_t out_pixels() const { return h_out() * w_out(); }
  // A 1x1, stride-1, unpadded convolution is a plain matrix product on the image itself.
  bool is_pointwise() const {
    return kh == 1 && kw == 1 && stride_h == 1 && stride_w == 1 && pad_h == 0 && pad_w == 0;
  }
  double flops() const {  // multiply-adds x 2, forward
    return 2.0 * static_cast<double>(n * c_out * out_pixels() * patch_size());
  }
};

}  // namespace rp
