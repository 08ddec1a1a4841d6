#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "engine/ops/normalize.h"
#include "tests/support/gradcheck.h"
#include "tests/support/test_support.h"

namespace rp {
namespace {

// CIFAR-10's statistics, as the robustness library normalizes.
Tensor cifar_mean(DType dt) {
  Tensor t = Tensor::empty(Shape{3}, dt);
  for (int c = 0; c < 3; ++c) test::set_value(t, c, std::vector<double>{0.4914, 0.4822, 0.4465}[c]);
  return t;
}
Tensor cifar_std(DType dt) {
  Tensor t = Tensor::empty(Shape{3}, dt);
  for (int c = 0; c < 3; ++c) test::set_value(t, c, std::vector<double>{0.2023, 0.1994, 0.2010}[c]);
  return t;
}

TEST(Normalize, ForwardClampsThenStandardizes) {
  const Shape s{2, 3, 5, 4};
  // Values beyond [0, 1] on both sides exercise the clamp.
  Tensor x = test::random_tensor(s, DType::F32, 1, -0.5, 1.5);
  Tensor y = test::poisoned(s, DType::F32);
  normalize_forward(test::cpu_context(), x, cifar_mean(DType::F32), cifar_std(DType::F32), y);
  std::vector<double> expected(static_cast<std::size_t>(s.numel()));
  const Tensor m = cifar_mean(DType::F32), sd = cifar_std(DType::F32);
  for (std::int64_t i = 0; i < s.numel(); ++i) {
    const std::int64_t c = (i / 20) % 3;
    const double v = std::min(1.0, std::max(0.0, test::value_at(x, i)));
    expected[static_cast<std::size_t>(i)] = (v - test::value_at(m, c)) / test::value_at(sd, c);
  }
  test::expect_close(y, expected, 1e-6, 1e-6, "normalized");
}

TEST(Normalize, GradCheckInsideAndOutsideThePixelRange) {
  Context& ctx = test::cpu_context();
  for (const Shape& rs : test::random_image_shapes(60, 3)) {
    const Shape s{rs[0], 3, rs[2] + 1, rs[3] + 1};
    // Away from the clamp's kinks at 0 and 1; some values outside [0, 1] get no gradient.
    Tensor x = test::random_tensor_avoiding(s, DType::F64, 2, -0.3, 1.3, {0.0, 1.0}, 1e-3);
    Tensor r = test::random_tensor(s, DType::F64, 3), y = Tensor::empty(s, DType::F64);
    Tensor m = cifar_mean(DType::F64), sd = cifar_std(DType::F64);
    Tensor dx = test::poisoned(s, DType::F64);
    normalize_backward(ctx, x, r, sd, dx, GradMode::Assign);
    test::check_gradient("normalize dx", x, dx, [&] {
      normalize_forward(ctx, x, m, sd, y);
      return test::weighted_sum(y, r);
    });
    int zeroed = 0;
    for (std::int64_t i = 0; i < s.numel(); ++i) {
      const double v = test::value_at(x, i);
      if (v < 0 || v > 1) {
        EXPECT_EQ(test::value_at(dx, i), 0.0);
        ++zeroed;
      }
    }
    EXPECT_GT(zeroed, 0) << "the inputs should reach outside [0, 1]";
  }
}

// Saturated pixels (exactly 0 or 1) keep their gradient, as with torch.clamp.
TEST(Normalize, GradientPassesAtTheBounds) {
  Context& ctx = test::cpu_context();
  Tensor x = Tensor::from_vector(std::vector<double>{0.0, 1.0, 0.5}, Shape{1, 1, 1, 3});
  Tensor dy = Tensor::from_vector(std::vector<double>{1.0, 1.0, 1.0}, Shape{1, 1, 1, 3});
  Tensor sd = Tensor::from_vector(std::vector<double>{0.25}, Shape{1});
  Tensor dx = test::poisoned(x.shape(), DType::F64);
  normalize_backward(ctx, x, dy, sd, dx, GradMode::Assign);
  test::expect_close(dx, std::vector<double>{4, 4, 4}, 0, 0, "bounds");
  normalize_backward(ctx, x, dy, sd, dx, GradMode::Accumulate);
  test::expect_close(dx, std::vector<double>{8, 8, 8}, 0, 0, "accumulated");
}

}  // namespace
}  // namespace rp
