#include "kernels/cpu/conv3x3_winograd.h"

#include <algorithm>

#include "kernels/cpu/eigen_maps.h"
#include "kernels/cpu/grad_write.h"
#include "kernels/cpu/padded_planes.h"
#include "kernels/cpu/parallel.h"

namespace rp::cpu {
namespace {

using i64 = std::int64_t;

// Channels both sides at least this many, at least kMinChannelsNarrow on rows under 8 pixels.
// The transforms cost in proportion to c_in + c_out per tile, the GEMMs save in proportion to
// c_in x c_out, and small planes make the transforms' fixed cost per tile larger. Measured on a
// 2-core AVX2 machine, batch 128 (forward, data gradient, weight gradient): 128 channels on
// 16x16, 256 on 8x8 and 512 on 4x4 ran 20-30% faster than im2col + GEMM; 32 channels on 16x16,
// 64 on 8x8 and 128 on 4x4 ran as fast or slower (the weight gradient up to 40% slower); 64 on
// 32x32 ran as fast as the direct route.
constexpr i64 kMinChannels = 128;
constexpr i64 kMinChannelsNarrow = 256;
// A group has at least this many tiles (GEMM columns), as long as its transforms stay within
// kMaxGroupElems elements: smaller groups repack the transformed weights for too few columns
// (512 channels on 4x4 ran 20% slower in groups of 64 tiles than of 128 to 256).
constexpr i64 kMinTiles = 128;
constexpr i64 kMaxGroupElems = i64{1} << 21;

i64 tiles_per_image(const Conv2dGeometry& g) {
  return (g.h / 2) * (g.w / 2);
}
// One plane's bordered rows, split into even and odd columns: 2 (h + 2) rows of w / 2 + 1.
i64 split_plane_elems(const Conv2dGeometry& g) {
  return 2 * (g.h + 2) * (g.w / 2 + 1);
}

// One plane (h, w) with a zero border, its columns split: row m of the bordered plane
// (h + 2, w + 2) has its even columns at even + m * half and its odd ones at odd + m * half,
// half = w / 2 + 1. Column 2q of a bordered row is pixel 2q - 1 (the border for q = 0), column
// 2q + 1 is pixel 2q (the border for q = w / 2). The tiles' column transforms then read whole
// runs instead of every other element.
template <typename T>
void split_plane(const Conv2dGeometry& g, const T* plane, T* even, T* odd) {
  const i64 half = g.w / 2 + 1, tw = g.w / 2;
  zero_run(even, half);
  zero_run(odd, half);
  for (i64 r = 0; r < g.h; ++r) {
    const T* __restrict src = plane + r * g.w;
    T* __restrict e = even + (r + 1) * half;
    T* __restrict o = odd + (r + 1) * half;
    e[0] = T(0);
    for (i64 q = 0; q < tw; ++q) {
      e[q + 1] = src[2 * q + 1];
      o[q] = src[2 * q];
    }
    o[tw] = T(0);
  }
  zero_run(even + (g.h + 1) * half, half);
  zero_run(odd + (g.h + 1) * half, half);
}

// One input plane's tiles: V[xi * ld_xi + t] = (B^T d_t B)[xi] for its tiles t (row-major over
// the tile grid), d_t the 4x4 block of the bordered plane at (2 ty, 2 tx), from the plane's
// split columns (split_plane).
template <typename T>
void input_tiles(const Conv2dGeometry& g, const T* even, const T* odd, T* V, i64 ld_xi) {
  const i64 half = g.w / 2 + 1, tw = g.w / 2;
  for (i64 ty = 0; ty < g.h / 2; ++ty) {
    // Rows 2 ty .. 2 ty + 3 of the bordered plane, their even and odd columns.
    const T* __restrict e0 = even + 2 * ty * half;
    const T* __restrict e1 = e0 + half;
    const T* __restrict e2 = e1 + half;
    const T* __restrict e3 = e2 + half;
    const T* __restrict o0 = odd + 2 * ty * half;
    const T* __restrict o1 = o0 + half;
    const T* __restrict o2 = o1 + half;
    const T* __restrict o3 = o2 + half;
    // The 16 output streams never overlap, which GCC cannot prove: hence omp simd.
    T* v[16];
    for (int xi = 0; xi < 16; ++xi) v[xi] = V + xi * ld_xi + ty * tw;
#pragma omp simd
    for (i64 tx = 0; tx < tw; ++tx) {
      // The tile's columns 2 tx .. 2 tx + 3 are even[tx], odd[tx], even[tx + 1], odd[tx + 1].
      // B^T d, column by column (the rows' combinations).
      const T a00 = e0[tx] - e2[tx], a10 = e1[tx] + e2[tx], a20 = e2[tx] - e1[tx],
              a30 = e1[tx] - e3[tx];
      const T a01 = o0[tx] - o2[tx], a11 = o1[tx] + o2[tx], a21 = o2[tx] - o1[tx],
              a31 = o1[tx] - o3[tx];
      const T a02 = e0[tx + 1] - e2[tx + 1], a12 = e1[tx + 1] + e2[tx + 1],
              a22 = e2[tx + 1] - e1[tx + 1], a32 = e1[tx + 1] - e3[tx + 1];
      const T a03 = o0[tx + 1] - o2[tx + 1], a13 = o1[tx + 1] + o2[tx + 1],
              a23 = o2[tx + 1] - o1[tx + 1], a33 = o1[tx + 1] - o3[tx + 1];
      // (B^T d) B: the columns' combinations, row by row.
      v[0][tx] = a00 - a02;
      v[1][tx] = a01 + a02;
      v[2][tx] = a02 - a01;
      v[3][tx] = a01 - a03;
      v[4][tx] = a10 - a12;
      v[5][tx] = a11 + a12;
      v[6][tx] = a12 - a11;
      v[7][tx] = a11 - a13;
      v[8][tx] = a20 - a22;
      v[9][tx] = a21 + a22;
      v[10][tx] = a22 - a21;
      v[11][tx] = a21 - a23;
      v[12][tx] = a30 - a32;
      v[13][tx] = a31 + a32;
      v[14][tx] = a32 - a31;
      v[15][tx] = a31 - a33;
    }
  }
}

// One output plane (h, w) (=|+= by mode) from its tiles' products M[xi * ld_xi + t]: each 2x2
// block is A^T m_t A.
template <typename T>
void output_tiles(const Conv2dGeometry& g, const T* M, i64 ld_xi, T* y, GradMode mode) {
  const i64 tw = g.w / 2;
  const bool add = mode == GradMode::Accumulate;
  for (i64 ty = 0; ty < g.h / 2; ++ty) {
    const T* m[16];
    for (int xi = 0; xi < 16; ++xi) m[xi] = M + xi * ld_xi + ty * tw;
    T* __restrict y0 = y + 2 * ty * g.w;
    T* __restrict y1 = y0 + g.w;
#pragma omp simd
    for (i64 tx = 0; tx < tw; ++tx) {
      T s0[4], s1[4];
      for (int j = 0; j < 4; ++j) {  // A^T m: the rows
        s0[j] = m[j][tx] + m[4 + j][tx] + m[8 + j][tx];
        s1[j] = m[4 + j][tx] - m[8 + j][tx] - m[12 + j][tx];
      }
      const T o00 = s0[0] + s0[1] + s0[2], o01 = s0[1] - s0[2] - s0[3];
      const T o10 = s1[0] + s1[1] + s1[2], o11 = s1[1] - s1[2] - s1[3];
      if (add) {
        y0[2 * tx] += o00;
        y0[2 * tx + 1] += o01;
        y1[2 * tx] += o10;
        y1[2 * tx + 1] += o11;
      } else {
        y0[2 * tx] = o00;
        y0[2 * tx + 1] = o01;
        y1[2 * tx] = o10;
        y1[2 * tx + 1] = o11;
      }
    }
  }
}

// One output-gradient plane's tiles: dM[xi * ld_xi + t] = (A dy_t A^T)[xi], dy_t its 2x2 block
// at (2 ty, 2 tx). `rows` holds four rows of w.
template <typename T>
void gradient_tiles(const Conv2dGeometry& g, const T* dy, T* dM, i64 ld_xi, T* rows) {
  const i64 tw = g.w / 2;
  T* __restrict a0 = rows;
  T* __restrict a1 = rows + g.w;
  T* __restrict a2 = rows + 2 * g.w;
  T* __restrict a3 = rows + 3 * g.w;
  for (i64 ty = 0; ty < g.h / 2; ++ty) {
    const T* __restrict e0 = dy + 2 * ty * g.w;
    const T* __restrict e1 = e0 + g.w;
    for (i64 q = 0; q < g.w; ++q) {  // A dy: the rows
      a0[q] = e0[q];
      a1[q] = e0[q] + e1[q];
      a2[q] = e0[q] - e1[q];
      a3[q] = -e1[q];
    }
    const T* a[4] = {a0, a1, a2, a3};
    for (int i = 0; i < 4; ++i) {  // (A dy) A^T: the columns
      const T* __restrict s = a[i];
      T* __restrict v0 = dM + (4 * i + 0) * ld_xi + ty * tw;
      T* __restrict v1 = dM + (4 * i + 1) * ld_xi + ty * tw;
      T* __restrict v2 = dM + (4 * i + 2) * ld_xi + ty * tw;
      T* __restrict v3 = dM + (4 * i + 3) * ld_xi + ty * tw;
#pragma omp simd
      for (i64 tx = 0; tx < tw; ++tx) {
        v0[tx] = s[2 * tx];
        v1[tx] = s[2 * tx] + s[2 * tx + 1];
        v2[tx] = s[2 * tx] - s[2 * tx + 1];
        v3[tx] = -s[2 * tx + 1];
      }
    }
  }
}

// b images of `channels` planes each into V: [xi][channel][image * tiles + t].
template <typename T>
void transform_inputs(const Conv2dGeometry& g, i64 channels, const T* x, i64 b, T* V, T* split) {
  const i64 tiles = tiles_per_image(g), ld = b * tiles, ld_xi = channels * ld;
  T* even = split;
  T* odd = split + split_plane_elems(g) / 2;
  for (i64 k = 0; k < b; ++k) {
    for (i64 c = 0; c < channels; ++c) {
      split_plane(g, x + (k * channels + c) * g.h * g.w, even, odd);
      input_tiles(g, even, odd, V + c * ld + k * tiles, ld_xi);
    }
  }
}

// G g G^T of one 3x3 kernel (tap (i, j) at k[3 i + j]) into u[xi * ld_xi].
template <typename T>
void kernel_tile(const T (&k)[9], T* u, i64 ld_xi) {
  const T half(0.5);
  T r[4][3];  // G g: the rows
  for (int j = 0; j < 3; ++j) {
    r[0][j] = k[j];
    r[1][j] = half * (k[j] + k[3 + j] + k[6 + j]);
    r[2][j] = half * (k[j] - k[3 + j] + k[6 + j]);
    r[3][j] = k[6 + j];
  }
  for (int i = 0; i < 4; ++i) {  // (G g) G^T: the columns
    u[(4 * i + 0) * ld_xi] = r[i][0];
    u[(4 * i + 1) * ld_xi] = half * (r[i][0] + r[i][1] + r[i][2]);
    u[(4 * i + 2) * ld_xi] = half * (r[i][0] - r[i][1] + r[i][2]);
    u[(4 * i + 3) * ld_xi] = r[i][2];
  }
}

}  // namespace

bool conv3x3_winograd_suits(const Conv2dGeometry& g) {
  return g.kh == 3 && g.kw == 3 && g.stride_h == 1 && g.stride_w == 1 && g.pad_h == 1 &&
         g.pad_w == 1 && g.h >= 2 && g.w >= 2 && g.h % 2 == 0 && g.w % 2 == 0 &&
         std::min(g.c_in, g.c_out) >= (g.w >= 8 ? kMinChannels : kMinChannelsNarrow);
}

i64 conv3x3_winograd_images_per_group(const Conv2dGeometry& g) {
  const i64 tiles = tiles_per_image(g);
  const i64 per_image = 16 * (g.c_in + g.c_out) * tiles;
  const i64 by_tiles = (kMinTiles + tiles - 1) / tiles;
  const i64 by_size = std::max<i64>(1, kMaxGroupElems / per_image);
  return std::clamp<i64>(std::min(by_tiles, by_size), 1, std::max<i64>(1, g.n));
}

i64 conv3x3_winograd_weights_elems(const Conv2dGeometry& g) {
  return 16 * g.c_in * g.c_out;
}

i64 conv3x3_winograd_scratch(const Conv2dGeometry& g) {
  const i64 tiles = conv3x3_winograd_images_per_group(g) * tiles_per_image(g);
  return 16 * (g.c_in + g.c_out) * tiles + std::max(split_plane_elems(g), 4 * g.w);
}

template <typename T>
void conv3x3_winograd_weights(const Conv2dGeometry& d, const T* w, bool transposed, T* U,
                              int threads) {
  const i64 ld_xi = d.c_out * d.c_in;
  parallel_for(threads, ld_xi, 4096, [&](i64 begin, i64 end, int) {
    for (i64 e = begin; e < end; ++e) {
      const i64 o = e / d.c_in, c = e % d.c_in;
      T k[9];
      if (transposed) {  // w (d.c_in, d.c_out, 3, 3): entry (c, o), flipped
        const T* src = w + (c * d.c_out + o) * 9;
        for (int t = 0; t < 9; ++t) k[t] = src[8 - t];
      } else {
        const T* src = w + (o * d.c_in + c) * 9;
        for (int t = 0; t < 9; ++t) k[t] = src[t];
      }
      kernel_tile(k, U + e, ld_xi);
    }
  });
}

template <typename T>
void conv3x3_winograd(const Conv2dGeometry& d, const T* x, i64 b, const T* U, T* y, GradMode mode,
                      T* scratch) {
  const i64 C = d.c_in, K = d.c_out, tiles = tiles_per_image(d), cols = b * tiles;
  T* V = scratch;
  T* M = V + 16 * C * cols;
  transform_inputs(d, C, x, b, V, M + 16 * K * cols);
  for (int xi = 0; xi < 16; ++xi) {
    matrix(M + xi * K * cols, K, cols).noalias() =
        matrix(U + xi * K * C, K, C) * matrix(V + xi * C * cols, C, cols);
  }
  for (i64 k = 0; k < b; ++k) {
    for (i64 o = 0; o < K; ++o) {
      output_tiles(d, M + o * cols + k * tiles, K * cols, y + (k * K + o) * d.h * d.w, mode);
    }
  }
}

template <typename T>
void conv3x3_winograd_filter(const Conv2dGeometry& g, const T* x, const T* dy, i64 b, T* dU,
                             T* scratch) {
  const i64 C = g.c_in, K = g.c_out, tiles = tiles_per_image(g), cols = b * tiles;
  T* V = scratch;
  T* dM = V + 16 * C * cols;
  T* work = dM + 16 * K * cols;  // a plane's split columns, then four rows of dy
  transform_inputs(g, C, x, b, V, work);
  for (i64 k = 0; k < b; ++k) {
    for (i64 o = 0; o < K; ++o) {
      gradient_tiles(g, dy + (k * K + o) * g.h * g.w, dM + o * cols + k * tiles, K * cols, work);
    }
  }
  for (int xi = 0; xi < 16; ++xi) {
    matrix(dU + xi * K * C, K, C).noalias() +=
        matrix(dM + xi * K * cols, K, cols) * matrix(V + xi * C * cols, C, cols).transpose();
  }
}

template <typename T>
void conv3x3_winograd_filter_finish(const Conv2dGeometry& g, const T* dU, T* dw, GradMode mode,
                                    int threads) {
  const i64 ld_xi = g.c_out * g.c_in;
  const T half(0.5);
  parallel_for(threads, ld_xi, 4096, [&](i64 begin, i64 end, int) {
    for (i64 e = begin; e < end; ++e) {
      T u[16];
      for (int xi = 0; xi < 16; ++xi) u[xi] = dU[xi * ld_xi + e];
      T r[3][4];  // G^T dU: the rows
      for (int j = 0; j < 4; ++j) {
        r[0][j] = u[j] + half * (u[4 + j] + u[8 + j]);
        r[1][j] = half * (u[4 + j] - u[8 + j]);
        r[2][j] = half * (u[4 + j] + u[8 + j]) + u[12 + j];
      }
      T* out = dw + e * 9;
      for (int i = 0; i < 3; ++i) {  // (G^T dU) G: the columns
        const T v[3] = {r[i][0] + half * (r[i][1] + r[i][2]), half * (r[i][1] - r[i][2]),
                        half * (r[i][1] + r[i][2]) + r[i][3]};
        for (int j = 0; j < 3; ++j) write_grad(out[3 * i + j], v[j], mode);
      }
    }
  });
}

#define RP_INSTANTIATE(T)                                                                         \
  template void conv3x3_winograd_weights<T>(const Conv2dGeometry&, const T*, bool, T*, int);      \
  template void conv3x3_winograd<T>(const Conv2dGeometry&, const T*, i64, const T*, T*, GradMode, \
                                    T*);                                                          \
  template void conv3x3_winograd_filter<T>(const Conv2dGeometry&, const T*, const T*, i64, T*,    \
                                           T*);                                                   \
  template void conv3x3_winograd_filter_finish<T>(const Conv2dGeometry&, const T*, T*, GradMode,  \
                                                  int);
RP_INSTANTIATE(float)
RP_INSTANTIATE(double)
#undef RP_INSTANTIATE

}  // namespace rp::cpu
