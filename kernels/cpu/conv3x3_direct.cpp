#include "kernels/cpu/conv3x3_direct.h"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>

namespace rp::cpu {
namespace {

using i64 = std::int64_t;

// A tile: kOutBlock output channels x kPixelBlock pixels of a row, 64 floats: eight AVX2
// registers of accumulators, fed per tap by two loads of the row and four broadcast weights.
constexpr i64 kOutBlock = 4, kPixelBlock = 16;
// Above this many output channels the GEMM route packs its operands into enough work to win.
constexpr i64 kMaxDirectOutChannels = 32;

// acc[o][k] += w[o] * row[k] over the taps (c, i, j), for a tile of n < kPixelBlock pixels
// (an image's last, narrower tile).
template <typename T>
void partial_tile(const T* rows, i64 c_in, i64 plane, i64 pw, const T* wb, i64 n,
                  T (&acc)[kOutBlock][kPixelBlock]) {
  for (i64 c = 0; c < c_in; ++c) {
    for (i64 i = 0; i < 3; ++i) {
      for (i64 j = 0; j < 3; ++j) {
        const T* xr = rows + c * plane + i * pw + j;
        const T* wv = wb + ((c * 3 + i) * 3 + j) * kOutBlock;
        for (i64 o = 0; o < kOutBlock; ++o) {
          for (i64 k = 0; k < n; ++k) acc[o][k] = std::fma(wv[o], xr[k], acc[o][k]);
        }
      }
    }
  }
}

// The same for a full tile, in Eigen's SIMD packets (8 floats or 4 doubles under AVX2): the
// accumulators stay in registers for the whole sum. pmadd is a fused multiply-add, as
// std::fma above, so both tiles round alike.
template <typename T>
void full_tile(const T* rows, i64 c_in, i64 plane, i64 pw, const T* wb,
               T (&out)[kOutBlock][kPixelBlock]) {
  namespace ei = Eigen::internal;
  using Packet = typename ei::packet_traits<T>::type;
  constexpr i64 L = ei::packet_traits<T>::size, V = kPixelBlock / L;
  static_assert(kPixelBlock % L == 0, "a tile is whole packets");
  Packet acc[kOutBlock][V];
  for (i64 o = 0; o < kOutBlock; ++o) {
    for (i64 v = 0; v < V; ++v) acc[o][v] = ei::pset1<Packet>(T(0));
  }
  for (i64 c = 0; c < c_in; ++c) {
    for (i64 i = 0; i < 3; ++i) {
      for (i64 j = 0; j < 3; ++j) {
        const T* xr = rows + c * plane + i * pw + j;
        const T* wv = wb + ((c * 3 + i) * 3 + j) * kOutBlock;
        Packet x[V];
        for (i64 v = 0; v < V; ++v) x[v] = ei::ploadu<Packet>(xr + v * L);
        for (i64 o = 0; o < kOutBlock; ++o) {
          const Packet w = ei::pset1<Packet>(wv[o]);
          for (i64 v = 0; v < V; ++v) acc[o][v] = ei::pmadd(w, x[v], acc[o][v]);
        }
      }
    }
  }
  for (i64 o = 0; o < kOutBlock; ++o) {
    for (i64 v = 0; v < V; ++v) ei::pstoreu(&out[o][v * L], acc[o][v]);
  }
}

}  // namespace

bool conv3x3_direct_suits(const Conv2dGeometry& g) {
  return g.kh == 3 && g.kw == 3 && g.stride_h == 1 && g.stride_w == 1 && g.pad_h == 1 &&
         g.pad_w == 1 && g.w >= kPixelBlock && g.c_out <= kMaxDirectOutChannels;
}

Conv2dGeometry conv3x3_data_gradient_geometry(const Conv2dGeometry& g) {
  Conv2dGeometry d = g;
  d.c_in = g.c_out;
  d.c_out = g.c_in;
  return d;
}

i64 conv3x3_direct_scratch(const Conv2dGeometry& g) {
  return g.c_in * (g.h + 2) * (g.w + 2);
}

i64 conv3x3_packed_weights_size(const Conv2dGeometry& g) {
  return (g.c_out + kOutBlock - 1) / kOutBlock * kOutBlock * g.c_in * 9;
}

template <typename T>
void conv3x3_pack_weights(const Conv2dGeometry& g, const T* w, bool transposed, T* packed) {
  const i64 blocks = (g.c_out + kOutBlock - 1) / kOutBlock;
  for (i64 b = 0; b < blocks; ++b) {
    for (i64 c = 0; c < g.c_in; ++c) {
      for (i64 t = 0; t < 9; ++t) {
        for (i64 k = 0; k < kOutBlock; ++k) {
          const i64 o = b * kOutBlock + k;
          T v = T(0);
          if (o < g.c_out) {
            // Forward weights (c_out, c_in, 3, 3); transposed: (c_in, c_out, 3, 3), tap flipped.
            v = transposed ? w[(c * g.c_out + o) * 9 + (8 - t)] : w[(o * g.c_in + c) * 9 + t];
          }
          packed[((b * g.c_in + c) * 9 + t) * kOutBlock + k] = v;
        }
      }
    }
  }
}

template <typename T>
void conv3x3_direct(const Conv2dGeometry& g, const T* x, const T* packed, T* y, GradMode mode,
                    T* scratch) {
  const i64 h = g.h, w = g.w, pw = w + 2, plane = (h + 2) * pw;
  for (i64 c = 0; c < g.c_in; ++c) {  // the image, bordered with zeros
    T* pl = scratch + c * plane;
    std::fill(pl, pl + pw, T(0));
    std::fill(pl + (h + 1) * pw, pl + plane, T(0));
    for (i64 r = 0; r < h; ++r) {
      T* row = pl + (r + 1) * pw;
      row[0] = T(0);
      std::copy(x + (c * h + r) * w, x + (c * h + r + 1) * w, row + 1);
      row[w + 1] = T(0);
    }
  }
  const i64 blocks = (g.c_out + kOutBlock - 1) / kOutBlock;
  for (i64 b = 0; b < blocks; ++b) {
    const T* wb = packed + b * g.c_in * 9 * kOutBlock;
    const i64 outs = std::min(kOutBlock, g.c_out - b * kOutBlock);
    for (i64 p = 0; p < h; ++p) {
      for (i64 q0 = 0; q0 < w; q0 += kPixelBlock) {
        const i64 n = std::min(kPixelBlock, w - q0);
        T acc[kOutBlock][kPixelBlock] = {};
        const T* rows = scratch + p * pw + q0;  // output (p, q) reads bordered rows p..p+2
        if (n == kPixelBlock) {
          full_tile(rows, g.c_in, plane, pw, wb, acc);
        } else {
          partial_tile(rows, g.c_in, plane, pw, wb, n, acc);
        }
        for (i64 o = 0; o < outs; ++o) {
          T* yo = y + ((b * kOutBlock + o) * h + p) * w + q0;
          if (mode == GradMode::Assign) {
            for (i64 k = 0; k < n; ++k) yo[k] = acc[o][k];
          } else {
            for (i64 k = 0; k < n; ++k) yo[k] += acc[o][k];
          }
        }
      }
    }
  }
}

#define RP_INSTANTIATE(T)                                                           \
  template void conv3x3_pack_weights<T>(const Conv2dGeometry&, const T*, bool, T*); \
  template void conv3x3_direct<T>(const Conv2dGeometry&, const T*, const T*, T*, GradMode, T*);
RP_INSTANTIATE(float)
RP_INSTANTIATE(double)
#undef RP_INSTANTIATE

}  // namespace rp::cpu
