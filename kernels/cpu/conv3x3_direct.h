// Direct 3x3, stride-1, padding-1 convolution of one image, for the CPU reference's narrow
// layers: where there are few output channels (16 in a ResNet-18 at width 1/4, 4 at 1/16),
// im2col and the GEMM's packing copy nine times the image for a product with little work per
// copied value. Here the image is copied once, into planes with a zero border, and each tile
// of output channels x pixels of one output row (4 x 16 on rows of 16 pixels or more, 8 x 8 on
// rows of 8 to 15) is summed in registers over every input channel and tap, in the order
// (c, i, j) - im2col's order.
//
//   y[o, p, q] (=|+=) sum_{c,i,j} w[o, c, i, j] * x[c, p - 1 + i, q - 1 + j]   (zero outside)
//
// The same routine is the data gradient of such a convolution: dx is the convolution of dy
// with the weights transposed in (o, c) and flipped in (i, j) (conv3x3_pack_weights'
// transposed layout). The weight gradient has its own loop (conv3x3_direct_filter), which
// reads the same bordered planes. Each multiply-add is one fused multiply-add (std::fma), as
// in Eigen's GEMM kernels.
#pragma once

#include <cstdint>

#include "engine/core/grad_mode.h"
#include "kernels/conv2d_geometry.h"

namespace rp::cpu {

// Whether conv3x3_direct applies to g (3x3, stride 1, padding 1) and is the faster route for it:
// few output channels, rows of at least 8 pixels.
bool conv3x3_direct_suits(const Conv2dGeometry& g);
// The same for conv3x3_direct_filter: rows of at least 16 pixels, up to more channels.
bool conv3x3_direct_filter_suits(const Conv2dGeometry& g);
// The geometry of g's data gradient as a convolution: dy (c_out channels) in, dx (c_in) out.
Conv2dGeometry conv3x3_data_gradient_geometry(const Conv2dGeometry& g);

// Scratch, in elements, for one image: the input's bordered planes.
std::int64_t conv3x3_direct_scratch(const Conv2dGeometry& g);
// Elements of the weights in the layout the kernel reads (see conv3x3_pack_weights).
std::int64_t conv3x3_packed_weights_size(const Conv2dGeometry& g);

// The weights of convolution g (c_out, c_in, 3, 3) in blocks of output channels,
// [o / B][c][i][j][o % B], zero past c_out. transposed: w holds the weights of the forward
// convolution whose data gradient g is - laid out (g.c_in, g.c_out, 3, 3) - read transposed
// in the channels and flipped in the taps.
template <typename T>
void conv3x3_pack_weights(const Conv2dGeometry& g, const T* w, bool transposed, T* packed);

// One image: x (c_in, h, w) -> y (c_out, h, w) (=|+= by mode), with weights packed for g.
template <typename T>
void conv3x3_direct(const Conv2dGeometry& g, const T* x, const T* packed, T* y, GradMode mode,
                    T* scratch);

// One image's weight gradient, added to dw (c_out, c_in, 3, 3): dw[o, c, i, j] +=
// sum_{p,q} dy[o, p, q] * x[c, p - 1 + i, q - 1 + j]. scratch as for conv3x3_direct.
template <typename T>
void conv3x3_direct_filter(const Conv2dGeometry& g, const T* x, const T* dy, T* dw, T* scratch);

}  // namespace rp::cpu
