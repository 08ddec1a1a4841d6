#include "kernels/cpu/conv3x3_direct.h"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>

#include "kernels/cpu/padded_planes.h"

namespace rp::cpu {
namespace {

using i64 = std::int64_t;

// A tile: kOutBlock output channels x kPixelBlock pixels of a row, 64 floats: eight AVX2
// registers of accumulators, fed per tap by two loads of the row and four broadcast weights.
// (Eight output channels need sixteen accumulators and spill AVX2's sixteen registers: slower.)
constexpr i64 kOutBlock = 4;
constexpr i64 kPixelBlock = 16;
// Rows of 8 to 15 pixels: tiles of 8 output channels x 8 pixels (eight accumulators).
constexpr i64 kNarrowOutBlock = 8;
constexpr i64 kNarrowPixelBlock = 8;

// The output channels of g's tiles, which its packed weights are blocked by.
i64 out_block(const Conv2dGeometry& g) {
  return g.w >= kPixelBlock ? kOutBlock : kNarrowOutBlock;
}

// Above this many output channels the GEMM route packs its operands into enough work to win.
// Measured on a 2-core AVX2 machine, once im2col had lost its per-row library calls: on rows
// of 16 pixels or more the direct forward and data gradient were 5-15% faster at 64 channels
// (32x32 and 16x16 images) and level at 128; on rows of 8, level at 64 (tiles of 8 pixels),
// so those keep the GEMM from 33 channels. The weight gradient was 30-45% faster at 64
// channels, behind at 128; on rows narrower than 16 pixels its packets are short: it won by
// about 15% at 16 channels, lost from 32 on, and keeps the GEMM there.
constexpr i64 kMaxDirectOutChannels = 64;
constexpr i64 kMaxNarrowDirectOutChannels = 32;
constexpr i64 kMaxDirectFilterOutChannels = 64;

bool is_3x3_same(const Conv2dGeometry& g) {
  return g.kh == 3 && g.kw == 3 && g.stride_h == 1 && g.stride_w == 1 && g.pad_h == 1 &&
         g.pad_w == 1 && g.w >= kNarrowPixelBlock;
}

// acc[o][k] += w[o] * row[k] over the taps (c, i, j), for a tile of n < PB pixels
// (an image's last, narrower tile).
template <i64 OB, i64 PB, typename T>
void partial_tile(const T* rows, i64 c_in, i64 plane, i64 pw, const T* wb, i64 n,
                  T (&acc)[OB][PB]) {
  for (i64 c = 0; c < c_in; ++c) {
    for (i64 i = 0; i < 3; ++i) {
      for (i64 j = 0; j < 3; ++j) {
        const T* xr = rows + c * plane + i * pw + j;
        const T* wv = wb + ((c * 3 + i) * 3 + j) * OB;
        for (i64 o = 0; o < OB; ++o) {
          for (i64 k = 0; k < n; ++k) acc[o][k] = std::fma(wv[o], xr[k], acc[o][k]);
        }
      }
    }
  }
}

// The same for a full tile, in Eigen's SIMD packets (8 floats or 4 doubles under AVX2): the
// accumulators stay in registers for the whole sum. pmadd is a fused multiply-add, as
// std::fma above, so both tiles round alike.
template <i64 OB, i64 PB, typename T>
void full_tile(const T* rows, i64 c_in, i64 plane, i64 pw, const T* wb, T (&out)[OB][PB]) {
  namespace ei = Eigen::internal;
  using Packet = typename ei::packet_traits<T>::type;
  constexpr i64 L = ei::packet_traits<T>::size, V = PB / L;
  static_assert(PB % L == 0, "a tile is whole packets");
  Packet acc[OB][V];
  for (i64 o = 0; o < OB; ++o) {
    for (i64 v = 0; v < V; ++v) acc[o][v] = ei::pset1<Packet>(T(0));
  }
  for (i64 c = 0; c < c_in; ++c) {
    for (i64 i = 0; i < 3; ++i) {
      for (i64 j = 0; j < 3; ++j) {
        const T* xr = rows + c * plane + i * pw + j;
        const T* wv = wb + ((c * 3 + i) * 3 + j) * OB;
        Packet x[V];
        for (i64 v = 0; v < V; ++v) x[v] = ei::ploadu<Packet>(xr + v * L);
        for (i64 o = 0; o < OB; ++o) {
          const Packet w = ei::pset1<Packet>(wv[o]);
          for (i64 v = 0; v < V; ++v) acc[o][v] = ei::pmadd(w, x[v], acc[o][v]);
        }
      }
    }
  }
  for (i64 o = 0; o < OB; ++o) {
    for (i64 v = 0; v < V; ++v) ei::pstoreu(&out[o][v * L], acc[o][v]);
  }
}

template <i64 OB, i64 PB, typename T>
void direct(const Conv2dGeometry& g, const T* x, const T* packed, T* y, GradMode mode, T* scratch) {
  pad_planes(g, x, scratch);
  const i64 h = g.h, w = g.w, pw = w + 2, plane = (h + 2) * pw;
  const i64 blocks = (g.c_out + OB - 1) / OB;
  for (i64 b = 0; b < blocks; ++b) {
    const T* wb = packed + b * g.c_in * 9 * OB;
    const i64 outs = std::min(OB, g.c_out - b * OB);
    for (i64 p = 0; p < h; ++p) {
      for (i64 q0 = 0; q0 < w; q0 += PB) {
        const i64 n = std::min(PB, w - q0);
        T acc[OB][PB] = {};
        const T* rows = scratch + p * pw + q0;  // output (p, q) reads bordered rows p..p+2
        if (n == PB) {
          full_tile<OB, PB>(rows, g.c_in, plane, pw, wb, acc);
        } else {
          partial_tile<OB, PB>(rows, g.c_in, plane, pw, wb, n, acc);
        }
        for (i64 o = 0; o < outs; ++o) {
          T* yo = y + ((b * OB + o) * h + p) * w + q0;
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

// The weight gradient of one block of NO output channels from one image: for each input
// channel c and kernel row i, NO x 3 (at most twelve) accumulators of packets run along the
// image's rows - a row of dy per output channel against the bordered input row shifted by
// the tap - and are then summed across their lanes into dw.
template <i64 NO, typename T>
void filter_block(const Conv2dGeometry& g, const T* bordered, const T* dy, T* dw) {
  namespace ei = Eigen::internal;
  using Packet = typename ei::packet_traits<T>::type;
  constexpr i64 L = ei::packet_traits<T>::size;
  const i64 h = g.h, w = g.w, pw = w + 2, plane = (h + 2) * pw, full = w / L * L;
  for (i64 c = 0; c < g.c_in; ++c) {
    for (i64 i = 0; i < 3; ++i) {
      Packet acc[NO][3];
      T tail[NO][3] = {};
      for (i64 o = 0; o < NO; ++o) {
        for (i64 j = 0; j < 3; ++j) acc[o][j] = ei::pset1<Packet>(T(0));
      }
      for (i64 r = 0; r < h; ++r) {
        const T* xr =
            bordered + c * plane + (r + i) * pw;  // tap (i, j) of output (r, q): xr[q + j]
        const T* dr = dy + r * w;
        for (i64 q = 0; q < full; q += L) {
          const Packet x0 = ei::ploadu<Packet>(xr + q), x1 = ei::ploadu<Packet>(xr + q + 1),
                       x2 = ei::ploadu<Packet>(xr + q + 2);
          for (i64 o = 0; o < NO; ++o) {
            const Packet d = ei::ploadu<Packet>(dr + o * h * w + q);
            acc[o][0] = ei::pmadd(d, x0, acc[o][0]);
            acc[o][1] = ei::pmadd(d, x1, acc[o][1]);
            acc[o][2] = ei::pmadd(d, x2, acc[o][2]);
          }
        }
        for (i64 q = full; q < w; ++q) {
          for (i64 o = 0; o < NO; ++o) {
            for (i64 j = 0; j < 3; ++j)
              tail[o][j] = std::fma(dr[o * h * w + q], xr[q + j], tail[o][j]);
          }
        }
      }
      for (i64 o = 0; o < NO; ++o) {
        for (i64 j = 0; j < 3; ++j)
          dw[(o * g.c_in + c) * 9 + i * 3 + j] += ei::predux(acc[o][j]) + tail[o][j];
      }
    }
  }
}

}  // namespace

bool conv3x3_direct_suits(const Conv2dGeometry& g) {
  return is_3x3_same(g) &&
         g.c_out <= (g.w >= kPixelBlock ? kMaxDirectOutChannels : kMaxNarrowDirectOutChannels);
}

bool conv3x3_direct_filter_suits(const Conv2dGeometry& g) {
  return is_3x3_same(g) && g.w >= kPixelBlock && g.c_out <= kMaxDirectFilterOutChannels;
}

Conv2dGeometry conv3x3_data_gradient_geometry(const Conv2dGeometry& g) {
  Conv2dGeometry d = g;
  d.c_in = g.c_out;
  d.c_out = g.c_in;
  return d;
}

i64 conv3x3_direct_scratch(const Conv2dGeometry& g) {
  return padded_elems(g);
}

i64 conv3x3_packed_weights_size(const Conv2dGeometry& g) {
  const i64 ob = out_block(g);
  return (g.c_out + ob - 1) / ob * ob * g.c_in * 9;
}

template <typename T>
void conv3x3_pack_weights(const Conv2dGeometry& g, const T* w, bool transposed, T* packed) {
  const i64 ob = out_block(g), blocks = (g.c_out + ob - 1) / ob;
  for (i64 b = 0; b < blocks; ++b) {
    for (i64 c = 0; c < g.c_in; ++c) {
      for (i64 t = 0; t < 9; ++t) {
        for (i64 k = 0; k < ob; ++k) {
          const i64 o = b * ob + k;
          T v = T(0);
          if (o < g.c_out) {
            // Forward weights (c_out, c_in, 3, 3); transposed: (c_in, c_out, 3, 3), tap flipped.
            v = transposed ? w[(c * g.c_out + o) * 9 + (8 - t)] : w[(o * g.c_in + c) * 9 + t];
          }
          packed[((b * g.c_in + c) * 9 + t) * ob + k] = v;
        }
      }
    }
  }
}

template <typename T>
void conv3x3_direct(const Conv2dGeometry& g, const T* x, const T* packed, T* y, GradMode mode,
                    T* scratch) {
  if (g.w >= kPixelBlock) {
    direct<kOutBlock, kPixelBlock>(g, x, packed, y, mode, scratch);
  } else {
    direct<kNarrowOutBlock, kNarrowPixelBlock>(g, x, packed, y, mode, scratch);
  }
}

template <typename T>
void conv3x3_direct_filter(const Conv2dGeometry& g, const T* x, const T* dy, T* dw, T* scratch) {
  pad_planes(g, x, scratch);
  const i64 P = g.h * g.w;
  for (i64 o = 0; o < g.c_out; o += kOutBlock) {
    const T* d = dy + o * P;
    T* out = dw + o * g.c_in * 9;
    switch (std::min(kOutBlock, g.c_out - o)) {
      case 4:
        filter_block<4>(g, scratch, d, out);
        break;
      case 3:
        filter_block<3>(g, scratch, d, out);
        break;
      case 2:
        filter_block<2>(g, scratch, d, out);
        break;
      default:
        filter_block<1>(g, scratch, d, out);
        break;
    }
  }
}

#define RP_INSTANTIATE(T)                                                                       \
  template void conv3x3_pack_weights<T>(const Conv2dGeometry&, const T*, bool, T*);             \
  template void conv3x3_direct<T>(const Conv2dGeometry&, const T*, const T*, T*, GradMode, T*); \
  template void conv3x3_direct_filter<T>(const Conv2dGeometry&, const T*, const T*, T*, T*);
RP_INSTANTIATE(float)
RP_INSTANTIATE(double)
#undef RP_INSTANTIATE

}  // namespace rp::cpu
