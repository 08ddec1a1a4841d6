// The shape of one 2-D max pooling, shared by the CPU reference and the CUDA kernels.
//
//   x (n, c, h, w)   y, argmax (n, c, h_out, w_out)
//   h_out = (h + 2 pad_h - kh) / stride_h + 1 (floor, PyTorch's ceil_mode=False), likewise w_out
// Padding acts as -inf: it never wins a window. The op seam requires pad <= kernel / 2 (as
// PyTorch does), so every window holds at least one pixel of x.
#pragma once

#include <cstdint>

namespace rp {

struct MaxPool2dGeometry {
  std::int64_t n = 0, c = 0, h = 0, w = 0;
  std::int64_t kh = 1, kw = 1, stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0;

  std::int64_t h_out() const { return (h + 2 * pad_h - kh) / stride_h + 1; }
  std::int64_t w_out() const { return (w + 2 * pad_w - kw) / stride_w + 1; }
  std::int64_t planes() const { return n * c; }
};

}  // namespace rp
