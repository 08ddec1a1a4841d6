// Winograd F(2x2, 3x3) for the CPU reference's wide 3x3, stride-1, padding-1 layers (Lavin &
// Gray, "Fast Algorithms for Convolutional Neural Networks", 2016): each 2x2 block of output
// pixels is computed from the 4x4 block of input around it with 16 products per channel pair
// instead of 36, so the layers that hold most of a ResNet's multiply-adds do 2.25 times fewer.
//
// With d a 4x4 input tile, g a 3x3 kernel and
//   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1],  G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1],
//   A^T = [1 1 1 0; 0 1 -1 -1],
// the 2x2 output tile is  y = A^T [ sum_c (G g_kc G^T) . (B^T d_c B) ] A  (. elementwise): for
// each of the 16 tile positions xi, a GEMM over channels, U_xi (c_out, c_in) x V_xi (c_in, tiles).
// The weight gradient runs the same algebra backwards: dU_xi = (A dy A^T)_xi x V_xi^T summed over
// the tiles, and dw_kc = G^T dU_kc G. The data gradient is the forward of dy with the weights
// transposed in the channels and flipped in the taps (conv3x3_data_gradient_geometry).
//
// Every factor in the transforms is 0, +-1 or +-1/2, so they round only in their additions: on
// ResNet-18's shapes the float results are as close to the definition as im2col + GEMM's
// (2-6e-7 of the result's scale against 2-5e-7, tests/ops/test_conv2d_winograd.cpp), though
// not the same bits.
//
// The images go in groups (conv3x3_winograd_images_per_group): a group's transformed input and
// products (16 (c_in + c_out) x tiles elements) stay in the cache between the three stages.
#pragma once

#include <cstdint>

#include "engine/core/grad_mode.h"
#include "kernels/conv2d_geometry.h"

namespace rp::cpu {

// Whether the convolution g (all three directions) goes by Winograd: 3x3, stride 1, padding 1,
// even height and width, and wide enough that the GEMMs over channels pay for the transforms.
bool conv3x3_winograd_suits(const Conv2dGeometry& g);

// Images per group, so that a group's transforms fit the cache yet its GEMMs have columns enough.
std::int64_t conv3x3_winograd_images_per_group(const Conv2dGeometry& g);

// Elements of the transformed weights: 16 x c_out x c_in (also a weight-gradient partial).
std::int64_t conv3x3_winograd_weights_elems(const Conv2dGeometry& g);
// Scratch, in elements, for one group: transformed inputs, products (or transformed output
// gradients) and room for one plane's columns split even and odd.
std::int64_t conv3x3_winograd_scratch(const Conv2dGeometry& g);

// U[xi][o][c] = (G w_oc G^T)[xi] for the convolution d, or - transposed - for the data gradient
// d of a convolution with weights w (d.c_in, d.c_out, 3, 3): w read transposed and flipped.
template <typename T>
void conv3x3_winograd_weights(const Conv2dGeometry& d, const T* w, bool transposed, T* U,
                              int threads);

// Images [0, b) of x (d.c_in, h, w each) -> y (d.c_out, h, w each) (=|+= by mode).
template <typename T>
void conv3x3_winograd(const Conv2dGeometry& d, const T* x, std::int64_t b, const T* U, T* y,
                      GradMode mode, T* scratch);

// Images [0, b): dU[xi][o][c] += sum over their tiles of (A dy A^T)[xi] (B^T x B)[xi].
template <typename T>
void conv3x3_winograd_filter(const Conv2dGeometry& g, const T* x, const T* dy, std::int64_t b,
                             T* dU, T* scratch);

// dw[o][c] (=|+= by mode) G^T dU_oc G.
template <typename T>
void conv3x3_winograd_filter_finish(const Conv2dGeometry& g, const T* dU, T* dw, GradMode mode,
                                    int threads);

}  // namespace rp::cpu
