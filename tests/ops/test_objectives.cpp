// The objectives' ops: forwards against their definitions, gradients by finite differences,
// keep_better's selection.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "engine/core/error.h"
#include "engine/ops/objectives.h"
#include "tests/support/gradcheck.h"
#include "tests/support/test_support.h"

namespace rp {
namespace {

TEST(RepresentationDistance, ForwardAndGradCheck) {
  Context& ctx = test::cpu_context();
  for (auto [n, f] : {std::pair<std::int64_t, std::int64_t>{1, 1}, {3, 7}, {4, 512}}) {
    Tensor r = test::random_tensor(Shape{n, f}, DType::F64, 1),
           t = test::random_tensor(Shape{n, f}, DType::F64, 2);
    Tensor v = test::poisoned(Shape{n}, DType::F64);
    representation_distance_forward(ctx, r, t, v);
    for (std::int64_t i = 0; i < n; ++i) {
      double d = 0, nt = 0;
      for (std::int64_t j = 0; j < f; ++j) {
        d += std::pow(test::value_at(r, i * f + j) - test::value_at(t, i * f + j), 2);
        nt += std::pow(test::value_at(t, i * f + j), 2);
      }
      EXPECT_NEAR(test::value_at(v, i), std::sqrt(d) / std::sqrt(nt), 1e-14);
    }
    if (f > 64) continue;
    Tensor up = test::random_tensor(Shape{n}, DType::F64, 3),
           dr = test::poisoned(Shape{n, f}, DType::F64);
    representation_distance_backward(ctx, r, t, up, dr, GradMode::Assign);
    test::check_gradient("representation distance dr", r, dr, [&] {
      representation_distance_forward(ctx, r, t, v);
      return test::weighted_sum(v, up);
    });
  }
}

TEST(RepresentationDistance, ZeroDistanceHasZeroGradient) {
  Context& ctx = test::cpu_context();
  Tensor t = test::random_tensor(Shape{2, 5}, DType::F32, 4);
  Tensor up = Tensor::from_vector(std::vector<float>{1.f, 1.f}, Shape{2});
  Tensor dr = test::poisoned(Shape{2, 5}, DType::F32), v = test::poisoned(Shape{2}, DType::F32);
  representation_distance_forward(ctx, t, t, v);
  representation_distance_backward(ctx, t, t, up, dr, GradMode::Assign);
  for (double x : test::values(v)) EXPECT_EQ(x, 0.0);
  for (double x : test::values(dr)) EXPECT_EQ(x, 0.0);
}

TEST(Coordinate, ForwardHingeAndGradCheck) {
  Context& ctx = test::cpu_context();
  const std::int64_t n = 4, f = 6;
  Tensor r = test::random_tensor_avoiding(Shape{n, f}, DType::F64, 5, -2, 2, {0.5}, 1e-3);
  Tensor k = Tensor::from_vector(std::vector<std::int32_t>{0, 5, 2, 2}, Shape{n});
  Tensor up = test::random_tensor(Shape{n}, DType::F64, 6);
  for (std::optional<double> hinge : {std::optional<double>{}, std::optional<double>{0.5}}) {
    Tensor v = test::poisoned(Shape{n}, DType::F64), dr = test::poisoned(Shape{n, f}, DType::F64);
    coordinate_forward(ctx, r, k, hinge, v);
    for (std::int64_t i = 0; i < n; ++i) {
      const double rk = test::value_at(r, i * f + k.data<std::int32_t>()[i]);
      EXPECT_EQ(test::value_at(v, i), hinge ? std::min(rk - 0.5, 0.0) : rk);
    }
    coordinate_backward(ctx, r, k, hinge, up, dr, GradMode::Assign);
    test::check_gradient(hinge ? "feature addition dr" : "coordinate dr", r, dr, [&] {
      coordinate_forward(ctx, r, k, hinge, v);
      return test::weighted_sum(v, up);
    });
  }
  Tensor bad = Tensor::from_vector(std::vector<std::int32_t>{0, 6, 0, 0}, Shape{n});
  Tensor v = Tensor::empty(Shape{n}, DType::F64);
  EXPECT_THROW(coordinate_forward(ctx, r, bad, std::nullopt, v), Error);
}

TEST(KeepBetter, CopiesStrictlyBetterExamplesOnly) {
  Context& ctx = test::cpu_context();
  Tensor x = Tensor::from_vector(std::vector<double>{1, 1, 2, 2, 3, 3, 4, 4}, Shape{4, 2});
  Tensor values = Tensor::from_vector(std::vector<double>{5, 1, std::nan(""), 2}, Shape{4});
  for (bool maximize : {true, false}) {
    Tensor best = Tensor::from_vector(std::vector<double>{3, 3, 3, 2}, Shape{4});
    Tensor best_x = Tensor::from_vector(std::vector<double>(8, 0.0), Shape{4, 2});
    keep_better(ctx, values, x, maximize, best, best_x);
    // maximize: only example 0 (5 > 3); minimize: only example 1 (1 < 3). NaN never wins,
    // equal values (example 3) keep the earlier one. (Spelled out with if/else: GCC 12
    // targeting AVX-512 was seen to miscompile `c ? std::vector<double>{...} : ...{...}` here.)
    std::vector<double> want_best, want_x;
    if (maximize) {
      want_best = {5, 3, 3, 2};
      want_x = {1, 1, 0, 0, 0, 0, 0, 0};
    } else {
      want_best = {3, 1, 3, 2};
      want_x = {0, 0, 2, 2, 0, 0, 0, 0};
    }
    test::expect_close(best, want_best, 0, 0, "best values");
    test::expect_close(best_x, want_x, 0, 0, "best x");
  }
}

}  // namespace
}  // namespace rp
