#include "kernels/cpu/pool.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/cpu/grad_write.h"
#include "kernels/cpu/parallel.h"

namespace rp::cpu {

using i64 = std::int64_t;

namespace {
i64 plane_grain(i64 hw) {
  return std::max<i64>(1, 16384 / std::max<i64>(1, hw));
}
}  // namespace

template <typename T>
void global_avg_pool_forward(i64 n, i64 c, i64 hw, const T* x, T* y, int threads) {
  parallel_for(threads, n * c, plane_grain(hw), [&](i64 begin, i64 end, int) {
    for (i64 plane = begin; plane < end; ++plane) {
      double sum = 0;
      const T* p = x + plane * hw;
      for (i64 i = 0; i < hw; ++i) sum += static_cast<double>(p[i]);
      y[plane] = static_cast<T>(sum / static_cast<double>(hw));
    }
  });
}

template <typename T>
void global_avg_pool_backward(i64 n, i64 c, i64 hw, const T* dy, T* dx, GradMode mode,
                              int threads) {
  parallel_for(threads, n * c, plane_grain(hw), [&](i64 begin, i64 end, int) {
    for (i64 plane = begin; plane < end; ++plane) {
      const T g = static_cast<T>(static_cast<double>(dy[plane]) / static_cast<double>(hw));
      T* p = dx + plane * hw;
      for (i64 i = 0; i < hw; ++i) write_grad(p[i], g, mode);
    }
  });
}

template <typename T>
void max_pool2d_forward(const MaxPool2dGeometry& g, const T* x, T* y, std::int32_t* argmax,
                        int threads) {
  const i64 ho = g.h_out(), wo = g.w_out(), hw = g.h * g.w;
  parallel_for(threads, g.planes(), plane_grain(ho * wo * g.kh * g.kw),
               [&](i64 begin, i64 end, int) {
                 for (i64 plane = begin; plane < end; ++plane) {
                   const T* xp = x + plane * hw;
                   T* yp = y + plane * ho * wo;
                   std::int32_t* ap = argmax + plane * ho * wo;
                   for (i64 p = 0; p < ho; ++p) {
                     // The window clipped to the image: padding is -inf and never wins.
                     const i64 h0 = std::max<i64>(p * g.stride_h - g.pad_h, 0);
                     const i64 h1 = std::min<i64>(p * g.stride_h - g.pad_h + g.kh, g.h);
                     for (i64 q = 0; q < wo; ++q) {
                       const i64 w0 = std::max<i64>(q * g.stride_w - g.pad_w, 0);
                       const i64 w1 = std::min<i64>(q * g.stride_w - g.pad_w + g.kw, g.w);
                       T best = -std::numeric_limits<T>::infinity();
                       i64 best_at = h0 * g.w + w0;
                       for (i64 i = h0; i < h1; ++i) {
                         for (i64 j = w0; j < w1; ++j) {
                           const T v = xp[i * g.w + j];
                           if (v > best || std::isnan(v)) {
                             best = v;
                             best_at = i * g.w + j;
                           }
                         }
                       }
                       yp[p * wo + q] = best;
                       ap[p * wo + q] = static_cast<std::int32_t>(best_at);
                     }
                   }
                 }
               });
}

template <typename T>
void max_pool2d_backward(const MaxPool2dGeometry& g, const T* dy, const std::int32_t* argmax, T* dx,
                         GradMode mode, int threads) {
  const i64 out = g.h_out() * g.w_out(), hw = g.h * g.w;
  parallel_for(threads, g.planes(), plane_grain(hw + out), [&](i64 begin, i64 end, int) {
    for (i64 plane = begin; plane < end; ++plane) {
      T* dxp = dx + plane * hw;
      if (mode == GradMode::Assign) std::fill(dxp, dxp + hw, T(0));
      const T* dyp = dy + plane * out;
      const std::int32_t* ap = argmax + plane * out;
      for (i64 o = 0; o < out; ++o) dxp[ap[o]] += dyp[o];
    }
  });
}

#define RP_INSTANTIATE(T)                                                                          \
  template void global_avg_pool_forward<T>(i64, i64, i64, const T*, T*, int);                      \
  template void global_avg_pool_backward<T>(i64, i64, i64, const T*, T*, GradMode, int);           \
  template void max_pool2d_forward<T>(const MaxPool2dGeometry&, const T*, T*, std::int32_t*, int); \
  template void max_pool2d_backward<T>(const MaxPool2dGeometry&, const T*, const std::int32_t*,    \
                                       T*, GradMode, int);
RP_INSTANTIATE(float)
RP_INSTANTIATE(double)
#undef RP_INSTANTIATE

}  // namespace rp::cpu
