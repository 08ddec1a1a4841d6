#include "kernels/cpu/pool.h"

#include <algorithm>

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

#define RP_INSTANTIATE(T)                                                     \
  template void global_avg_pool_forward<T>(i64, i64, i64, const T*, T*, int); \
  template void global_avg_pool_backward<T>(i64, i64, i64, const T*, T*, GradMode, int);
RP_INSTANTIATE(float)
RP_INSTANTIATE(double)
#undef RP_INSTANTIATE

}  // namespace rp::cpu
