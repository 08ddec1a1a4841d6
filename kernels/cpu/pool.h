// Pooling, CPU reference.
//
// Global average pooling: x (n, c, hw) -> y (n, c).
//   forward   y[n,c] = sum_p x[n,c,p] / hw        (summed in double)
//   backward  dx[n,c,p] (=|+=) dy[n,c] / hw
//
// Max pooling (geometry in kernels/pool_geometry.h): x (n, c, h, w) -> y (n, c, h_out, w_out).
//   forward   y[n,c,p,q] = max over the window's pixels of x, rows then columns, as PyTorch's
//             CPU kernel scans them: a pixel replaces the running maximum when it is greater or
//             NaN, so ties keep the first maximum and a NaN propagates (the last NaN's index is
//             kept). argmax[n,c,p,q] = h_in * w + w_in of the chosen pixel (int32, in-plane).
//   backward  dx[n,c] (=|+=) the scatter of dy[n,c] to argmax: each dx pixel receives the sum,
//             in output raster order, of the dy of every window that chose it (0 if none).
#pragma once

#include <cstdint>

#include "engine/core/grad_mode.h"
#include "kernels/pool_geometry.h"

namespace rp::cpu {

template <typename T>
void global_avg_pool_forward(std::int64_t n, std::int64_t c, std::int64_t hw, const T* x, T* y,
                             int threads);

template <typename T>
void global_avg_pool_backward(std::int64_t n, std::int64_t c, std::int64_t hw, const T* dy, T* dx,
                              GradMode mode, int threads);

template <typename T>
void max_pool2d_forward(const MaxPool2dGeometry& g, const T* x, T* y, std::int32_t* argmax,
                        int threads);

template <typename T>
void max_pool2d_backward(const MaxPool2dGeometry& g, const T* dy, const std::int32_t* argmax, T* dx,
                         GradMode mode, int threads);

}  // namespace rp::cpu
