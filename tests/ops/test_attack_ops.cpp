// The AutoAttack ops on the CPU: the DLR loss (untargeted and targeted) and the margin against
// a direct evaluation from a sorted row, the DLR gradient by finite differences, APGD's
// momentum update against its formula, the tracking of increases and best points, the
// checkpoint's halving and restart, and bad classes refused.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "engine/core/error.h"
#include "engine/ops/apgd.h"
#include "engine/ops/dlr.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/square.h"
#include "kernels/attack_math.h"
#include "tests/support/gradcheck.h"
#include "tests/support/test_support.h"

namespace rp {
namespace {

// The DLR loss of one row, written from the definition with a full sort.
double dlr_direct(const std::vector<double>& z, int y, int t) {
  std::vector<int> order(z.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return z[a] > z[b]; });
  if (t < 0) {
    double best_other = -std::numeric_limits<double>::infinity();
    for (int j = 0; j < static_cast<int>(z.size()); ++j) {
      if (j != y) best_other = std::max(best_other, z[j]);
    }
    return -(z[y] - best_other) / (z[order[0]] - z[order[2]] + 1e-12);
  }
  return -(z[y] - z[t]) / (z[order[0]] - 0.5 * (z[order[2]] + z[order[3]]) + 1e-12);
}

std::vector<double> row(const Tensor& z, std::int64_t i) {
  const std::int64_t k = z.size(1);
  std::vector<double> r;
  for (std::int64_t j = 0; j < k; ++j) r.push_back(test::value_at(z, i * k + j));
  return r;
}

TEST(Dlr, ForwardMatchesTheDefinitionAndGradientsCheck) {
  Context& ctx = test::cpu_context();
  for (auto [n, k] : {std::pair<std::int64_t, std::int64_t>{1, 4}, {5, 10}, {7, 33}}) {
    // Spread logits: finite differences never reorder the top four.
    Tensor z = test::random_tensor(Shape{n, k}, DType::F64, 11 + k, -4, 4);
    Tensor y = test::random_labels(n, k, 12 + k);
    std::vector<std::int32_t> tv(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) {
      // The true class as the argmax for some rows (the case the untargeted loss switches on).
      if (i % 2 == 0) {
        const std::vector<double> r = row(z, i);
        y.data<std::int32_t>()[i] =
            static_cast<std::int32_t>(std::max_element(r.begin(), r.end()) - r.begin());
      }
      tv[static_cast<std::size_t>(i)] =
          static_cast<std::int32_t>((y.data<std::int32_t>()[i] + 1 + i) % k);
    }
    Tensor t = Tensor::from_vector(tv, Shape{n});
    Tensor up = test::random_tensor(Shape{n}, DType::F64, 13);
    for (bool targeted : {false, true}) {
      const Tensor targets = targeted ? t : Tensor();
      Tensor v = test::poisoned(Shape{n}, DType::F64);
      dlr_forward(ctx, z, y, targets, v);
      for (std::int64_t i = 0; i < n; ++i) {
        EXPECT_NEAR(test::value_at(v, i),
                    dlr_direct(row(z, i), y.data<std::int32_t>()[i], targeted ? tv[i] : -1), 1e-12)
            << "example " << i << (targeted ? " targeted" : "");
      }
      Tensor dz = test::poisoned(Shape{n, k}, DType::F64);
      dlr_backward(ctx, z, y, targets, up, dz, GradMode::Assign);
      test::check_gradient(targeted ? "targeted DLR dz" : "DLR dz", z, dz, [&] {
        dlr_forward(ctx, z, y, targets, v);
        return test::weighted_sum(v, up);
      });
      // Accumulate adds the same gradient again.
      Tensor twice = test::clone(dz);
      dlr_backward(ctx, z, y, targets, up, twice, GradMode::Accumulate);
      for (std::int64_t e = 0; e < n * k; ++e) {
        EXPECT_DOUBLE_EQ(test::value_at(twice, e), 2 * test::value_at(dz, e));
      }
    }
    Tensor m = test::poisoned(Shape{n}, DType::F64);
    margin_forward(ctx, z, y, m);
    for (std::int64_t i = 0; i < n; ++i) {
      const std::vector<double> r = row(z, i);
      const int yi = y.data<std::int32_t>()[i];
      double other = -std::numeric_limits<double>::infinity();
      for (int j = 0; j < k; ++j) {
        if (j != yi) other = std::max(other, r[static_cast<std::size_t>(j)]);
      }
      EXPECT_EQ(test::value_at(m, i), r[static_cast<std::size_t>(yi)] - other);
    }
  }
}

TEST(Dlr, FloatAgreesWithDouble) {
  Context& ctx = test::cpu_context();
  Tensor z = test::random_tensor(Shape{6, 10}, DType::F64, 21, -3, 3);
  Tensor y = test::random_labels(6, 10, 22), t = test::random_labels(6, 10, 23);
  for (std::int64_t i = 0; i < 6; ++i) {
    if (t.data<std::int32_t>()[i] == y.data<std::int32_t>()[i]) {
      t.data<std::int32_t>()[i] = (y.data<std::int32_t>()[i] + 1) % 10;
    }
  }
  Tensor v64 = test::poisoned(Shape{6}, DType::F64), v32 = test::poisoned(Shape{6}, DType::F32);
  dlr_forward(ctx, z, y, t, v64);
  dlr_forward(ctx, test::to_dtype(z, DType::F32), y, t, v32);
  test::expect_close(test::to_dtype(v32, DType::F64), v64, 1e-5, 1e-6, "f32 DLR");
}

TEST(Dlr, BadClassesAndTooFewClassesAreRefused) {
  Context& ctx = test::cpu_context();
  Tensor z = test::random_tensor(Shape{2, 4}, DType::F32, 31);
  Tensor v = test::poisoned(Shape{2}, DType::F32);
  const Tensor good = Tensor::from_vector(std::vector<std::int32_t>{0, 3}, Shape{2});
  const Tensor bad = Tensor::from_vector(std::vector<std::int32_t>{0, 4}, Shape{2});
  EXPECT_THROW(dlr_forward(ctx, z, bad, Tensor(), v), Error);
  EXPECT_THROW(dlr_forward(ctx, z, good, bad, v), Error);
  EXPECT_THROW(margin_forward(ctx, z, bad, v), Error);
  for (double x : test::values(v)) EXPECT_TRUE(std::isnan(x)) << "written before refusing";
  Tensor z3 = test::random_tensor(Shape{2, 3}, DType::F32, 32);
  const Tensor y3 = Tensor::from_vector(std::vector<std::int32_t>{0, 2}, Shape{2});
  EXPECT_THROW(dlr_forward(ctx, z3, y3, y3, v), Error);  // targeted needs 4 classes
  EXPECT_NO_THROW(dlr_forward(ctx, z3, y3, Tensor(), v));
}

// The momentum update against its formula, element by element in double.
TEST(ApgdUpdate, LinfAndL2FollowTheFormula) {
  Context& ctx = test::cpu_context();
  const std::int64_t n = 3, d = 50;
  const double eps = 0.1, a = 0.75;
  Tensor x0 = test::random_tensor(Shape{n, d}, DType::F64, 41, 0.05, 0.95);
  Tensor g = test::random_tensor(Shape{n, d}, DType::F64, 42);
  Tensor step = Tensor::from_vector(std::vector<double>{0.2, 0.05, 0.0125}, Shape{n});
  for (bool l2 : {false, true}) {
    const double e = l2 ? 0.5 : eps;
    // x inside the ball, x_prev a little away from it.
    Tensor x = test::clone(x0), xp = test::clone(x0);
    for (std::int64_t j = 0; j < n * d; ++j) {
      test::set_value(x, j,
                      test::value_at(x0, j) +
                          0.3 * e / std::sqrt(l2 ? d : 1.0) * std::sin(static_cast<double>(j)));
      test::set_value(xp, j,
                      test::value_at(x0, j) +
                          0.2 * e / std::sqrt(l2 ? d : 1.0) * std::cos(static_cast<double>(j)));
    }
    const Tensor x_before = test::clone(x);
    const auto project = [&](std::vector<double> v, std::int64_t i) {
      if (l2) {
        double sq = 0;
        for (std::int64_t j = 0; j < d; ++j) {
          sq += std::pow(v[j] - test::value_at(x0, i * d + j), 2);
        }
        const double s = std::sqrt(sq) > e ? e / std::sqrt(sq) : 1.0;
        for (std::int64_t j = 0; j < d; ++j) {
          const double c = test::value_at(x0, i * d + j);
          v[j] = s < 1 ? c + s * (v[j] - c) : v[j];
        }
      } else {
        for (std::int64_t j = 0; j < d; ++j) {
          const double c = test::value_at(x0, i * d + j);
          v[j] = std::clamp(v[j], c - e, c + e);
        }
      }
      for (double& q : v) q = std::clamp(q, 0.0, 1.0);
      return v;
    };
    if (l2) {
      apgd_update_l2(ctx, g, x0, step, a, e, x, xp);
    } else {
      apgd_update_linf(ctx, g, x0, step, a, e, x, xp);
    }
    for (std::int64_t i = 0; i < n; ++i) {
      double gn = 0;
      for (std::int64_t j = 0; j < d; ++j) gn += std::pow(test::value_at(g, i * d + j), 2);
      gn = std::sqrt(gn);
      std::vector<double> z(d), w(d);
      for (std::int64_t j = 0; j < d; ++j) {
        const double gj = test::value_at(g, i * d + j), xj = test::value_at(x_before, i * d + j);
        z[j] = xj + test::value_at(step, i) * (l2 ? gj / (gn + 1e-10) : (gj > 0 ? 1 : -1));
      }
      z = project(z, i);
      for (std::int64_t j = 0; j < d; ++j) {
        const double xj = test::value_at(x_before, i * d + j);
        // x_prev was overwritten with x: the old x_prev is recomputed from its formula.
        const double pj =
            test::value_at(x0, i * d + j) +
            0.2 * e / std::sqrt(l2 ? d : 1.0) * std::cos(static_cast<double>(i * d + j));
        w[j] = xj + a * (z[j] - xj) + (1 - a) * (xj - pj);
      }
      w = project(w, i);
      for (std::int64_t j = 0; j < d; ++j) {
        EXPECT_NEAR(test::value_at(x, i * d + j), w[j], 1e-12) << (l2 ? "L2" : "Linf");
        EXPECT_EQ(test::value_at(xp, i * d + j), test::value_at(x_before, i * d + j));
      }
    }
  }
}

TEST(ApgdTrackAndCheckpoint, CountIncreasesKeepTheBestAndHalveAsTheRuleSays) {
  Context& ctx = test::cpu_context();
  const std::int64_t n = 3, d = 4;
  ApgdState s;
  for (Tensor* t :
       {&s.prev_loss, &s.increases, &s.best_loss, &s.best_last, &s.halved_last, &s.step}) {
    *t = Tensor::empty(Shape{n}, DType::F64);
  }
  s.best_x = test::poisoned(Shape{n, d}, DType::F64);
  s.best_g = test::poisoned(Shape{n, d}, DType::F64);
  fill(ctx, s.prev_loss, std::numeric_limits<double>::infinity());
  fill(ctx, s.best_loss, -std::numeric_limits<double>::infinity());
  fill(ctx, s.increases, 0);
  fill(ctx, s.step, 1.0);
  // Scripted losses over 4 iterations (the first is the starting point): example 0 rises
  // every time, example 1 falls after its start, example 2 rises once then stalls.
  const double script[4][3] = {{1, 5, 2}, {2, 4, 3}, {3, 3, 3}, {4, 2, 3}};
  Tensor x = Tensor::empty(Shape{n, d}, DType::F64), g = Tensor::empty(Shape{n, d}, DType::F64);
  for (int it = 0; it < 4; ++it) {
    for (std::int64_t e = 0; e < n * d; ++e) {
      test::set_value(x, e, 10 * it + static_cast<double>(e));
      test::set_value(g, e, -(10 * it + static_cast<double>(e)));
    }
    Tensor loss = Tensor::from_vector(std::vector<double>(script[it], script[it] + 3), Shape{n});
    apgd_track(ctx, loss, x, g, s);
    if (it == 0) {
      // AutoAttack starts the window after the first point: best_last = the start's loss,
      // "halved at the last checkpoint" true so condition 2 cannot fire first.
      fill(ctx, s.increases, 0);
      ctx.copy(s.best_last, s.best_loss);
      fill(ctx, s.halved_last, 1);
    }
  }
  EXPECT_EQ(test::values(s.increases), (std::vector<double>{3, 0, 1}));
  EXPECT_EQ(test::values(s.best_loss), (std::vector<double>{4, 5, 3}));
  // Best points: example 0 from iteration 3, example 1 from 0, example 2 from 1.
  EXPECT_EQ(test::value_at(s.best_x, 0 * d), 30.0);
  EXPECT_EQ(test::value_at(s.best_x, 1 * d), 4.0);
  EXPECT_EQ(test::value_at(s.best_g, 2 * d), -(10.0 + 8.0));
  // A window of 3 with rho 0.75: example 0 increased 3 > 2.25 times (keeps its step); 1 and 2
  // increased at most 2.25 times (halve and restart from the best point).
  apgd_checkpoint(ctx, 3, 0.75, s, x, g);
  EXPECT_EQ(test::values(s.step), (std::vector<double>{1, 0.5, 0.5}));
  EXPECT_EQ(test::values(s.halved_last), (std::vector<double>{0, 1, 1}));
  EXPECT_EQ(test::values(s.increases), (std::vector<double>{0, 0, 0}));
  EXPECT_EQ(test::values(s.best_last), test::values(s.best_loss));
  EXPECT_EQ(test::value_at(x, 0 * d), 30.0);       // kept its iterate
  EXPECT_EQ(test::value_at(x, 1 * d), 4.0);        // back to its best point
  EXPECT_EQ(test::value_at(g, 2 * d + 1), -19.0);  // and to that point's gradient
  // Next window: examples 0 and 2 never increased (condition 1 halves them); example 1 rose
  // every time and was halved last time, so neither condition holds and its step stays.
  fill(ctx, s.increases, 0);
  s.increases.data<double>()[1] = 3;
  apgd_checkpoint(ctx, 3, 0.75, s, x, g);
  EXPECT_EQ(test::values(s.step), (std::vector<double>{0.5, 0.5, 0.25}));
}

TEST(ApgdHalves, BothConditions) {
  // Condition 1: at most rho * window increases (<=, as AutoAttack's code counts).
  EXPECT_TRUE(apgd_halves(7, 10, 0.75, true, 1.0, 2.0));
  EXPECT_TRUE(apgd_halves(7.5, 10, 0.75, true, 1.0, 2.0));
  EXPECT_FALSE(apgd_halves(8, 10, 0.75, true, 1.0, 2.0));
  // Condition 2: not halved last time and the best loss did not improve.
  EXPECT_TRUE(apgd_halves(8, 10, 0.75, false, 2.0, 2.0));
  EXPECT_FALSE(apgd_halves(8, 10, 0.75, false, 1.0, 2.0));
  EXPECT_FALSE(apgd_halves(8, 10, 0.75, true, 2.0, 2.0));
}

TEST(ApgdOps, BadArgumentsAreRefusedBeforeWork) {
  Context& ctx = test::cpu_context();
  Tensor x = test::random_tensor(Shape{2, 3}, DType::F32, 51, 0, 1);
  const Tensor before = test::clone(x);
  Tensor xp = test::clone(x), g = test::random_tensor(Shape{2, 3}, DType::F32, 52);
  Tensor step = Tensor::from_vector(std::vector<float>{0.1f, 0.1f}, Shape{2});
  Tensor short_step = Tensor::from_vector(std::vector<float>{0.1f}, Shape{1});
  EXPECT_THROW(apgd_update_linf(ctx, g, before, short_step, 0.75, 0.1, x, xp), Error);
  EXPECT_THROW(apgd_update_linf(ctx, g, before, step, 1.5, 0.1, x, xp), Error);
  EXPECT_THROW(apgd_update_l2(ctx, g, before, step, 0.75, -1, x, xp), Error);
  EXPECT_THROW(apgd_update_l2(ctx, g, before, step, 0.75, 0.1, x, x), Error);
  test::expect_equal_exact(x, before, "x after refused updates");
}

// Square's proposals: stripes at +-eps (constant down each column), and a window moved to a
// vertex of the ball with nothing outside it touched.
TEST(SquareOps, StripesAndWindowProposals) {
  Context& ctx = test::cpu_context();
  const std::int64_t n = 2, c = 3, h = 5, w = 6;
  const double eps = 0.05;
  Tensor x0 = test::random_tensor(Shape{n, c, h, w}, DType::F64, 91, 0.1, 0.9);
  Tensor stripes = test::poisoned(x0.shape(), DType::F64);
  square_init_linf(ctx, x0, eps, RngStream{1, 2, 3}, stripes);
  for (std::int64_t plane = 0; plane < n * c; ++plane) {
    for (std::int64_t q = 0; q < w; ++q) {
      const double top =
          test::value_at(stripes, plane * h * w + q) - test::value_at(x0, plane * h * w + q);
      EXPECT_NEAR(std::abs(top), eps, 1e-15);
      for (std::int64_t r = 1; r < h; ++r) {
        const std::int64_t at = plane * h * w + r * w + q;
        EXPECT_NEAR(test::value_at(stripes, at) - test::value_at(x0, at), top, 1e-15);
      }
    }
  }
  Tensor out = test::poisoned(x0.shape(), DType::F64);
  const SquareWindow win{2, 1, 3};
  square_propose_linf(ctx, x0, stripes, eps, win, RngStream{4, 5, 6}, out);
  for (std::int64_t plane = 0; plane < n * c; ++plane) {
    double sign = 0;
    for (std::int64_t r = 0; r < h; ++r) {
      for (std::int64_t q = 0; q < w; ++q) {
        const std::int64_t at = plane * h * w + r * w + q;
        const bool inside = r >= 1 && r < 3 && q >= 3 && q < 5;
        if (!inside) {
          EXPECT_EQ(test::value_at(out, at), test::value_at(stripes, at));
          continue;
        }
        const double d = test::value_at(out, at) - test::value_at(x0, at);
        EXPECT_NEAR(std::abs(d), eps, 1e-15);
        if (sign == 0) sign = d > 0 ? 1 : -1;
        EXPECT_EQ(d > 0 ? 1 : -1, sign) << "one sign per example and channel";
      }
    }
  }
  EXPECT_THROW(square_propose_linf(ctx, x0, stripes, eps, SquareWindow{3, 3, 0}, RngStream{}, out),
               Error);  // rows 3..5 of a 5-row image
}

// eta(side): unit norm, positive top half and negative bottom half, symmetric left to right,
// largest at the centre column of each half.
TEST(SquareOps, EtaPatterns) {
  for (std::int64_t side : {1, 3, 4, 7}) {
    const std::vector<double> e = square_eta(side);
    ASSERT_EQ(static_cast<std::int64_t>(e.size()), side * side);
    double sq = 0;
    for (double v : e) sq += v * v;
    EXPECT_NEAR(sq, 1.0, 1e-12) << side;
    for (std::int64_t r = 0; r < side; ++r) {
      for (std::int64_t q = 0; q < side; ++q) {
        const double v = e[static_cast<std::size_t>(r * side + q)];
        EXPECT_TRUE(r < side / 2 ? v > 0 : v < 0) << side << " at " << r << "," << q;
        if (side % 2 == 1) {
          EXPECT_NEAR(v, e[static_cast<std::size_t>(r * side + side - 1 - q)], 1e-15);
          EXPECT_LE(std::abs(v), std::abs(e[static_cast<std::size_t>(r * side + side / 2)]));
        }
      }
    }
  }
}

// The L2 start and queries: the perturbation's norm is eps (no clipping here); a query leaves
// everything outside its windows at the old perturbation times one common factor and empties
// window 2.
TEST(SquareOps, L2StartAndQueryKeepTheNormAtEps) {
  Context& ctx = test::cpu_context();
  const std::int64_t n = 2, c = 3, h = 10, w = 10;
  const double eps = 0.3;
  Tensor x0 = test::random_tensor(Shape{n, c, h, w}, DType::F64, 92, 0.3, 0.7);
  const auto norm_of = [&](const Tensor& x, std::int64_t i) {
    double sq = 0;
    for (std::int64_t j = i * c * h * w; j < (i + 1) * c * h * w; ++j) {
      sq += std::pow(test::value_at(x, j) - test::value_at(x0, j), 2);
    }
    return std::sqrt(sq);
  };
  const std::vector<double> e2 = square_eta(2), e3 = square_eta(3);
  Tensor start = test::poisoned(x0.shape(), DType::F64);
  square_init_l2(ctx, x0, eps, Tensor::from_vector(e2, Shape{4}), RngStream{1, 2, 3}, start);
  for (std::int64_t i = 0; i < n; ++i) EXPECT_NEAR(norm_of(start, i), eps, 1e-12);
  Tensor out = test::poisoned(x0.shape(), DType::F64);
  SquareL2Window win;
  win.side = 3;
  win.top = 1;
  win.left = 1;
  win.top2 = 6;
  win.left2 = 5;
  square_propose_l2(ctx, x0, start, eps, win, Tensor::from_vector(e3, Shape{9}), RngStream{4, 5, 6},
                    out);
  for (std::int64_t i = 0; i < n; ++i) {
    EXPECT_NEAR(norm_of(out, i), eps, 1e-12);
    double factor = 0;
    for (std::int64_t ch = 0; ch < c; ++ch) {
      for (std::int64_t r = 0; r < h; ++r) {
        for (std::int64_t q = 0; q < w; ++q) {
          const std::int64_t at = ((i * c + ch) * h + r) * w + q;
          const double before = test::value_at(start, at) - test::value_at(x0, at);
          const double after = test::value_at(out, at) - test::value_at(x0, at);
          if (r >= 6 && r < 9 && q >= 5 && q < 8) {
            EXPECT_NEAR(after, 0.0, 1e-15);
          } else if (!(r >= 1 && r < 4 && q >= 1 && q < 4) && std::abs(before) > 1e-9) {
            if (factor == 0) factor = after / before;
            EXPECT_NEAR(after / before, factor, 1e-9);
          }
        }
      }
    }
  }
  EXPECT_THROW(square_propose_l2(ctx, x0, start, eps, win, Tensor::from_vector(e2, Shape{4}),
                                 RngStream{}, out),
               Error);  // eta of the wrong side
}

}  // namespace
}  // namespace rp
