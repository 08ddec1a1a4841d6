// An image's planes with the convolution's zero padding written out, for the CPU convolutions:
// im2col and the direct 3x3 route read the padded planes, and col2im adds into them, so that no
// kernel tap needs a bounds test and every run is a whole row.
//
// The rows are short at CIFAR sizes (4 to 34 elements), so they are copied and zeroed by plain
// loops that the compiler vectorizes in place: a memcpy or memset call per row costs more than
// the row. (The files that use them are compiled with -fno-tree-loop-distribute-patterns, which
// keeps GCC from turning the loops back into those calls.)
#pragma once

#include <cstdint>

#include "kernels/conv2d_geometry.h"

namespace rp::cpu {

inline std::int64_t padded_width(const Conv2dGeometry& g) {
  return g.w + 2 * g.pad_w;
}
inline std::int64_t padded_plane(const Conv2dGeometry& g) {
  return (g.h + 2 * g.pad_h) * padded_width(g);
}
// Elements of one image's padded planes (c_in of them).
inline std::int64_t padded_elems(const Conv2dGeometry& g) {
  return g.c_in * padded_plane(g);
}
inline bool has_padding(const Conv2dGeometry& g) {
  return g.pad_h > 0 || g.pad_w > 0;
}

template <typename T>
inline void copy_run(const T* __restrict src, std::int64_t n, T* __restrict dst) {
  for (std::int64_t k = 0; k < n; ++k) dst[k] = src[k];
}
template <typename T>
inline void zero_run(T* dst, std::int64_t n) {
  for (std::int64_t k = 0; k < n; ++k) dst[k] = T(0);
}

// Image x (c_in, h, w) into `padded`: c_in planes of (h + 2 pad_h, w + 2 pad_w), x in the
// middle of each and zeros round it.
template <typename T>
void pad_planes(const Conv2dGeometry& g, const T* x, T* padded) {
  const std::int64_t pw = padded_width(g), plane = padded_plane(g);
  for (std::int64_t c = 0; c < g.c_in; ++c) {
    T* pl = padded + c * plane;
    zero_run(pl, g.pad_h * pw);
    for (std::int64_t r = 0; r < g.h; ++r) {
      T* row = pl + (g.pad_h + r) * pw;
      zero_run(row, g.pad_w);
      copy_run(x + (c * g.h + r) * g.w, g.w, row + g.pad_w);
      zero_run(row + g.pad_w + g.w, g.pad_w);
    }
    zero_run(pl + (g.pad_h + g.h) * pw, g.pad_h * pw);
  }
}

// The middle of each padded plane back into image x (c_in, h, w); the border is dropped.
template <typename T>
void unpad_planes(const Conv2dGeometry& g, const T* padded, T* x) {
  const std::int64_t pw = padded_width(g), plane = padded_plane(g);
  for (std::int64_t c = 0; c < g.c_in; ++c) {
    for (std::int64_t r = 0; r < g.h; ++r) {
      copy_run(padded + c * plane + (g.pad_h + r) * pw + g.pad_w, g.w, x + (c * g.h + r) * g.w);
    }
  }
}

}  // namespace rp::cpu
