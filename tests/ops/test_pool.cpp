#include <gtest/gtest.h>

#include <vector>

#include "engine/ops/pool.h"
#include "tests/support/gradcheck.h"
#include "tests/support/test_support.h"

namespace rp {
namespace {

const Shape kShapes[] = {Shape{1, 1, 1, 1}, Shape{2, 3, 4, 4}, Shape{3, 5, 3, 7},
                         Shape{2, 512, 4, 4}};

TEST(GlobalAvgPool, ForwardIsThePlaneMean) {
  for (const Shape& s : kShapes) {
    Tensor x = test::random_tensor(s, DType::F32, 1);
    Tensor y = test::poisoned(Shape{s[0], s[1]}, DType::F32);
    global_avg_pool_forward(test::cpu_context(), x, y);
    const std::int64_t hw = s[2] * s[3];
    std::vector<double> expected(static_cast<std::size_t>(s[0] * s[1]), 0.0);
    for (std::int64_t i = 0; i < x.numel(); ++i) {
      expected[static_cast<std::size_t>(i / hw)] += test::value_at(x, i) / static_cast<double>(hw);
    }
    test::expect_close(y, expected, 1e-6, 1e-7, "pool " + s.str());
  }
}

TEST(GlobalAvgPool, GradCheck) {
  Context& ctx = test::cpu_context();
  std::vector<Shape> shapes = test::random_image_shapes(50, 4);
  shapes.push_back(Shape{2, 3, 4, 4});
  for (const Shape& s : shapes) {
    Tensor x = test::random_tensor(s, DType::F64, 2);
    const Shape ys{s[0], s[1]};
    Tensor r = test::random_tensor(ys, DType::F64, 3), y = Tensor::empty(ys, DType::F64);
    Tensor dx = test::poisoned(s, DType::F64);
    global_avg_pool_backward(ctx, r, dx, GradMode::Assign);
    test::check_gradient("pool dx " + s.str(), x, dx, [&] {
      global_avg_pool_forward(ctx, x, y);
      return test::weighted_sum(y, r);
    });
    Tensor twice = Tensor::zeros(s, DType::F64);
    global_avg_pool_backward(ctx, r, twice, GradMode::Accumulate);
    global_avg_pool_backward(ctx, r, twice, GradMode::Accumulate);
    std::vector<double> expected = test::values(dx);
    for (double& v : expected) v *= 2;
    test::expect_close(twice, expected, 1e-15, 0, "pool dx x2");
  }
}

}  // namespace
}  // namespace rp
