// 2-D convolution, CPU reference (no bias, no dilation, no groups; zero padding).
//
//   forward          y[n,k,p,q] = sum_{c,i,j} x[n,c, p*sh-ph+i, q*sw-pw+j] * w[k,c,i,j]
//   backward_data    dx[n,c,h,v] (=|+=) sum over (k,i,j,p,q) with h = p*sh-ph+i, v = q*sw-pw+j
//                                       of dy[n,k,p,q] * w[k,c,i,j]
//   backward_filter  dw[k,c,i,j] (=|+=) sum_{n,p,q} dy[n,k,p,q] * x[n,c, p*sh-ph+i, q*sw-pw+j]
//
// Per image, with col = im2col(x_n) of shape (c_in*kh*kw, h_out*w_out):
//   y_n = W col,    dcol = W^T dy_n then col2im into dx_n,    dW += dy_n col^T
// where W is w viewed as (c_out, c_in*kh*kw). 1x1 stride-1 unpadded convolutions skip im2col.
// Where an image has fewer than 256 output pixels, several images' columns go side by side
// into one product (their outputs and output gradients staged to match; up to 2^19 elements
// of columns per group), so that the weights are packed once per group, not once per small
// image. An image's result may then differ in its last bits with the batch size (how the
// groups fall).
// 3x3 stride-1 padding-1 layers with few channels skip im2col and the GEMM and run direct
// (conv3x3_direct.h): the forward and data gradient up to 64 output channels on rows of 16
// pixels or more and up to 32 on rows of 8 to 15, the weight gradient up to 64 on rows of 16
// or more. Wide 3x3 stride-1 padding-1 layers on even planes (at least 128 channels both
// sides, 256 on rows under 8 pixels) take Winograd F(2x2, 3x3) in every direction
// (conv3x3_winograd.h): 2.25 times fewer multiply-adds, in groups of images of at least 128
// tiles. Everywhere else im2col reads (and col2im sums into) the image's padded planes.
// Threads take whole groups (whole images where there are none) - in the forward and the data
// gradient one at a time, whichever thread is free - so those depend on the shapes alone, never
// on the thread count or the timing. The weight gradient is summed per chunk of groups, then
// across chunks in chunk order: it depends on (shapes, threads).
// Scratch comes from the caller: conv2d_workspace_size() elements of T.
#pragma once

#include <cstddef>

#include "engine/core/grad_mode.h"
#include "kernels/conv2d_geometry.h"

namespace rp::cpu {

template <typename T>
std::size_t conv2d_workspace_size(const Conv2dGeometry& g, int threads);

template <typename T>
void conv2d_forward(const Conv2dGeometry& g, const T* x, const T* w, T* y, T* workspace,
                    int threads);

template <typename T>
void conv2d_backward_data(const Conv2dGeometry& g, const T* dy, const T* w, T* dx, GradMode mode,
                          T* workspace, int threads);

template <typename T>
void conv2d_backward_filter(const Conv2dGeometry& g, const T* x, const T* dy, T* dw, GradMode mode,
                            T* workspace, int threads);

}  // namespace rp::cpu
