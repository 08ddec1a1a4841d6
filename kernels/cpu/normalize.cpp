#include "kernels/cpu/normalize.h"

#include <algorithm>

#include "kernels/cpu/grad_write.h"
#include "kernels/cpu/parallel.h"

namespace rp::cpu {

using i64 = std::int64_t;

namespace {
i64 plane_grain(i64 hw) {
  return std::max<i64>(1, 32768 / std::max<i64>(1, hw));
}
}  // namespace

template <typename T>
void normalize_forward(i64 n, i64 c, i64 hw, const T* x, const T* mean, const T* std, T* y,
                       int threads) {
  parallel_for(threads, n * c, plane_grain(hw), [&](i64 begin, i64 end, int) {
    for (i64 plane = begin; plane < end; ++plane) {
      const i64 ch = plane % c;
      const T m = mean[ch], s = std[ch];
      for (i64 i = plane * hw; i < (plane + 1) * hw; ++i) {
        const T v = x[i] < T(0) ? T(0) : (x[i] > T(1) ? T(1) : x[i]);
        y[i] = (v - m) / s;
      }
    }
  });
}

template <typename T>
void normalize_backward(i64 n, i64 c, i64 hw, const T* x, const T* dy, const T* std, T* dx,
                        GradMode mode, int threads) {
  parallel_for(threads, n * c, plane_grain(hw), [&](i64 begin, i64 end, int) {
    for (i64 plane = begin; plane < end; ++plane) {
      const T s = std[plane % c];
      for (i64 i = plane * hw; i < (plane + 1) * hw; ++i) {
        const bool inside = x[i] >= T(0) && x[i] <= T(1);
        write_grad(dx[i], inside ? dy[i] / s : T(0), mode);
      }
    }
  });
}

#define RP_INSTANTIATE(T)                                                                        \
  template void normalize_forward<T>(i64, i64, i64, const T*, const T*, const T*, T*, int);      \
  template void normalize_backward<T>(i64, i64, i64, const T*, const T*, const T*, T*, GradMode, \
                                      int);
RP_INSTANTIATE(float)
RP_INSTANTIATE(double)
#undef RP_INSTANTIATE

}  // namespace rp::cpu
