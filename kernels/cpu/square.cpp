#include "kernels/cpu/square.h"

#include <algorithm>
#include <cmath>

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

namespace {

// eta_rectangles(x, y) of square.py: nested rectangles around the centre weighted 1 / (k + 1)^2,
// normalized (an empty one stays empty).
std::vector<double> eta_rectangles(i64 x, i64 y) {
  std::vector<double> d(static_cast<std::size_t>(x * y), 0.0);
  i64 c0 = x / 2, c1 = y / 2;  // x // 2 + 1 - 1
  for (i64 k = 0; k < std::max(x / 2 + 1, y / 2 + 1); ++k) {
    for (i64 r = std::max<i64>(c0, 0); r < std::min(c0 + 2 * k + 1, x); ++r) {
      for (i64 q = std::max<i64>(c1, 0); q < std::min(c1 + 2 * k + 1, y); ++q) {
        d[static_cast<std::size_t>(r * y + q)] += 1.0 / static_cast<double>((k + 1) * (k + 1));
      }
    }
    --c0;
    --c1;
  }
  double sq = 0;
  for (double v : d) sq += v * v;
  if (sq > 0) {
    for (double& v : d) v /= std::sqrt(sq);
  }
  return d;
}

}  // namespace

std::vector<double> square_eta(i64 side) {
  std::vector<double> e(static_cast<std::size_t>(side * side), 0.0);
  const i64 top = side / 2;
  const std::vector<double> a = eta_rectangles(top, side), b = eta_rectangles(side - top, side);
  for (std::size_t j = 0; j < a.size(); ++j) e[j] = a[j];
  for (std::size_t j = 0; j < b.size(); ++j) e[a.size() + j] = -b[j];
  double sq = 0;
  for (double v : e) sq += v * v;
  for (double& v : e) v /= std::sqrt(sq);
  return e;
}

template <typename T>
void square_init_l2(const SquareShape& s, const T* x0, double eps, const T* eta, RngStream rng,
                    T* out, int threads) {
  const i64 side = s.h / 5, chw = s.c * s.h * s.w;
  const i64 tiles = (s.h / side) * (s.w / side);
  const auto value = [&](i64 i, i64 c, i64 r, i64 q) {
    const SquareTile t = square_tile_of(r, q, s.h, s.w, side);
    if (t.tile < 0) return 0.0;
    const bool transpose =
        rng_uniform(rng, static_cast<std::uint64_t>(s.n * s.c * tiles + t.tile)) >= 0.5f;
    const T sign = square_sign<T>(rng, static_cast<std::uint64_t>((i * s.c + c) * tiles + t.tile));
    return square_eta_at(eta, side, t.r, t.q, transpose) * static_cast<double>(sign);
  };
  parallel_for(threads, s.n, plane_grain(chw), [&](i64 begin, i64 end, int) {
    for (i64 i = begin; i < end; ++i) {
      double sq = 0;
      for (i64 c = 0; c < s.c; ++c) {
        for (i64 r = 0; r < s.h; ++r) {
          for (i64 q = 0; q < s.w; ++q) sq += value(i, c, r, q) * value(i, c, r, q);
        }
      }
      const double scale = eps / (std::sqrt(sq) + 1e-12);
      for (i64 c = 0; c < s.c; ++c) {
        for (i64 r = 0; r < s.h; ++r) {
          for (i64 q = 0; q < s.w; ++q) {
            const i64 at = i * chw + (c * s.h + r) * s.w + q;
            out[at] = clamp01(x0[at] + static_cast<T>(value(i, c, r, q) * scale));
          }
        }
      }
    }
  });
}

template <typename T>
void square_propose_l2(const SquareShape& s, const T* x0, const T* x_best, double eps,
                       const SquareL2Window& win, const T* eta, RngStream rng, T* out,
                       int threads) {
  const i64 chw = s.c * s.h * s.w, k = win.side;
  parallel_for(threads, s.n, plane_grain(chw), [&](i64 begin, i64 end, int) {
    std::vector<double> window_norm(static_cast<std::size_t>(s.c)),
        new_norm(static_cast<std::size_t>(s.c));
    for (i64 i = begin; i < end; ++i) {
      const auto delta = [&](i64 at) { return static_cast<double>(x_best[at] - x0[at]); };
      double image = 0, windows = 0;
      for (i64 c = 0; c < s.c; ++c) {
        double w1 = 0;
        for (i64 r = 0; r < s.h; ++r) {
          for (i64 q = 0; q < s.w; ++q) {
            const double d = delta(i * chw + (c * s.h + r) * s.w + q);
            image += d * d;
            const bool in1 = square_inside(r, q, win.top, win.left, k);
            if (in1) w1 += d * d;
            if (in1 || square_inside(r, q, win.top2, win.left2, k)) windows += d * d;
          }
        }
        window_norm[static_cast<std::size_t>(c)] = std::sqrt(w1);
      }
      const auto proposed = [&](i64 c, i64 r, i64 q) {
        const double sign =
            static_cast<double>(square_sign<T>(rng, static_cast<std::uint64_t>(i * s.c + c)));
        return square_eta_at(eta, k, r - win.top, q - win.left, win.transpose) * sign +
               delta(i * chw + (c * s.h + r) * s.w + q) /
                   (1e-12 + window_norm[static_cast<std::size_t>(c)]);
      };
      for (i64 c = 0; c < s.c; ++c) {
        double sq = 0;
        for (i64 r = win.top; r < win.top + k; ++r) {
          for (i64 q = win.left; q < win.left + k; ++q) sq += proposed(c, r, q) * proposed(c, r, q);
        }
        new_norm[static_cast<std::size_t>(c)] = std::sqrt(sq);
      }
      const double target =
          std::sqrt(std::max(eps * eps - image, 0.0) / static_cast<double>(s.c) + windows);
      const auto next = [&](i64 c, i64 r, i64 q) {
        if (square_inside(r, q, win.top, win.left, k)) {
          return proposed(c, r, q) * target / (1e-12 + new_norm[static_cast<std::size_t>(c)]);
        }
        if (square_inside(r, q, win.top2, win.left2, k)) return 0.0;
        return delta(i * chw + (c * s.h + r) * s.w + q);
      };
      double sq = 0;
      for (i64 c = 0; c < s.c; ++c) {
        for (i64 r = 0; r < s.h; ++r) {
          for (i64 q = 0; q < s.w; ++q) sq += next(c, r, q) * next(c, r, q);
        }
      }
      const double scale = eps / (std::sqrt(sq) + 1e-12);
      for (i64 c = 0; c < s.c; ++c) {
        for (i64 r = 0; r < s.h; ++r) {
          for (i64 q = 0; q < s.w; ++q) {
            const i64 at = i * chw + (c * s.h + r) * s.w + q;
            out[at] = clamp01(x0[at] + static_cast<T>(next(c, r, q) * scale));
          }
        }
      }
    }
  });
}

#define RP_INSTANTIATE(T)                                                                        \
  template void square_init_linf<T>(const SquareShape&, const T*, double, RngStream, T*, int);   \
  template void square_propose_linf<T>(const SquareShape&, const T*, const T*, double,           \
                                       const SquareWindow&, RngStream, T*, int);                 \
  template void square_init_l2<T>(const SquareShape&, const T*, double, const T*, RngStream, T*, \
                                  int);                                                          \
  template void square_propose_l2<T>(const SquareShape&, const T*, const T*, double,             \
                                     const SquareL2Window&, const T*, RngStream, T*, int);
RP_INSTANTIATE(float)
RP_INSTANTIATE(double)
#undef RP_INSTANTIATE

}  // namespace rp::cpu
