#include "kernels/cpu/square.h"

#include <algorithm>

#include "kernels/attack_math.h"
#include "kernels/cpu/parallel.h"
#include "kernels/perturb_math.h"

namespace rp::cpu {

using i64 = std::int64_t;

namespace {

i64 plane_grain(i64 hw) {
  return std::max<i64>(1, 32768 / std::max<i64>(1, hw));
}

}  // namespace

template <typename T>
void square_init_linf(const SquareShape& s, const T* x0, double eps, RngStream rng, T* out,
                      int threads) {
  const T e = static_cast<T>(eps);
  const i64 hw = s.h * s.w;
  parallel_for(threads, s.n * s.c, plane_grain(hw), [&](i64 begin, i64 end, int) {
    for (i64 plane = begin; plane < end; ++plane) {
      for (i64 r = 0; r < s.h; ++r) {
        for (i64 q = 0; q < s.w; ++q) {
          const i64 e_at = plane * hw + r * s.w + q;
          const T sign = square_sign<T>(rng, static_cast<std::uint64_t>(plane * s.w + q));
          out[e_at] = clamp01(x0[e_at] + e * sign);
        }
      }
    }
  });
}

template <typename T>
void square_propose_linf(const SquareShape& s, const T* x0, const T* x_best, double eps,
                         const SquareWindow& win, RngStream rng, T* out, int threads) {
  const T e = static_cast<T>(eps);
  const i64 hw = s.h * s.w;
  parallel_for(threads, s.n * s.c, plane_grain(hw), [&](i64 begin, i64 end, int) {
    for (i64 plane = begin; plane < end; ++plane) {
      const T sign = square_sign<T>(rng, static_cast<std::uint64_t>(plane));
      for (i64 r = 0; r < s.h; ++r) {
        for (i64 q = 0; q < s.w; ++q) {
          const i64 at = plane * hw + r * s.w + q;
          const bool inside =
              r >= win.top && r < win.top + win.side && q >= win.left && q < win.left + win.side;
          out[at] = inside ? square_vertex_value(x_best[at], x0[at], e, sign) : x_best[at];
        }
      }
    }
  });
}

#define RP_INSTANTIATE(T)                                                                      \
  template void square_init_linf<T>(const SquareShape&, const T*, double, RngStream, T*, int); \
  template void square_propose_linf<T>(const SquareShape&, const T*, const T*, double,         \
                                       const SquareWindow&, RngStream, T*, int);
RP_INSTANTIATE(float)
RP_INSTANTIATE(double)
#undef RP_INSTANTIATE

}  // namespace rp::cpu
