#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "engine/ops/activation.h"
#include "engine/ops/elementwise.h"
#include "tests/support/gradcheck.h"
#include "tests/support/test_support.h"

namespace rp {
namespace {

const Shape kShapes[] = {Shape{1, 1}, Shape{3, 5, 7}, Shape{2, 3, 4, 5}, Shape{5, 8193}};

TEST(Relu, ForwardIsMaxWithZeroAndPropagatesNan) {
  for (const Shape& s : kShapes) {
    Tensor x = test::random_tensor(s, DType::F32, 1), y = test::poisoned(s, DType::F32);
    relu_forward(test::cpu_context(), x, y);
    std::vector<double> expected = test::values(x);
    for (double& v : expected) v = v < 0 ? 0 : v;
    test::expect_close(y, expected, 0, 0, "relu " + s.str());
  }
  Tensor x = Tensor::from_vector(std::vector<float>{-1.f, std::nanf(""), 2.f}, Shape{1, 3});
  Tensor y = test::poisoned(Shape{1, 3}, DType::F32);
  relu_forward(test::cpu_context(), x, y);
  EXPECT_EQ(test::value_at(y, 0), 0.0);
  EXPECT_TRUE(std::isnan(test::value_at(y, 1)));
  EXPECT_EQ(test::value_at(y, 2), 2.0);
}

TEST(Relu, InPlaceForward) {
  Tensor x = test::random_tensor(Shape{4, 6}, DType::F64, 2),
         expected = Tensor::empty(Shape{4, 6}, DType::F64);
  relu_forward(test::cpu_context(), x, expected);
  relu_forward(test::cpu_context(), x, x);
  test::expect_equal_exact(x, expected, "in place");
}

TEST(Relu, GradCheck) {
  Context& ctx = test::cpu_context();
  std::vector<Shape> shapes = test::random_image_shapes(30, 4);
  shapes.push_back(Shape{3, 5, 7});
  for (const Shape& s : shapes) {
    // Away from the kink at 0, where the derivative is undefined.
    Tensor x = test::random_tensor_avoiding(s, DType::F64, 3, -1, 1, {0.0}, 1e-3);
    Tensor r = test::random_tensor(s, DType::F64, 4), y = Tensor::empty(s, DType::F64);
    relu_forward(ctx, x, y);
    Tensor dx = test::poisoned(s, DType::F64);
    relu_backward(ctx, y, r, dx, GradMode::Assign);
    test::check_gradient("relu dx " + s.str(), x, dx, [&] {
      relu_forward(ctx, x, y);
      return test::weighted_sum(y, r);
    });
  }
}

TEST(Relu, BackwardAccumulates) {
  const Shape s{3, 17};
  Context& ctx = test::cpu_context();
  Tensor x = test::random_tensor(s, DType::F64, 5), y = Tensor::empty(s, DType::F64);
  Tensor dy = test::random_tensor(s, DType::F64, 6);
  relu_forward(ctx, x, y);
  Tensor once = test::poisoned(s, DType::F64), twice = Tensor::zeros(s, DType::F64);
  relu_backward(ctx, y, dy, once, GradMode::Assign);
  relu_backward(ctx, y, dy, twice, GradMode::Accumulate);
  relu_backward(ctx, y, dy, twice, GradMode::Accumulate);
  std::vector<double> expected = test::values(once);
  for (double& v : expected) v *= 2;
  test::expect_close(twice, expected, 0, 0, "relu dx x2");
}

// Fake-ReLU: ReLU forward, identity backward - even where the output is 0, which is the point:
// a representation coordinate that is off still receives the gradient that turns it on.
TEST(FakeRelu, ForwardIsReluBackwardIsIdentity) {
  Context& ctx = test::cpu_context();
  const Shape s{2, 3, 4, 5};
  Tensor x = test::random_tensor(s, DType::F64, 7), y = test::poisoned(s, DType::F64);
  Tensor dy = test::random_tensor(s, DType::F64, 8), dx = test::poisoned(s, DType::F64);
  relu_forward(ctx, x, y);
  for (std::int64_t i = 0; i < s.numel(); ++i) {
    EXPECT_EQ(test::value_at(y, i), std::max(0.0, test::value_at(x, i)));
  }
  fake_relu_backward(ctx, y, dy, dx, GradMode::Assign);
  test::expect_equal_exact(dx, dy, "fake relu dx = dy, also where y = 0");
  fake_relu_backward(ctx, y, dy, dx, GradMode::Accumulate);
  std::vector<double> expected = test::values(dy);
  for (double& v : expected) v *= 2;
  test::expect_close(dx, expected, 0, 0, "fake relu accumulate");
}

// In a chain a -> a + b -> fake-ReLU -> sum r.y, the backward is the gradient of the same chain
// without the ReLU: checked by finite differences of that surrogate, and it differs from the
// true ReLU gradient exactly where the ReLU is off.
TEST(FakeRelu, GradCheckAsTheChainWithoutTheRelu) {
  Context& ctx = test::cpu_context();
  const Shape s{3, 2, 3, 3};
  Tensor a = test::random_tensor_avoiding(s, DType::F64, 9, -1, 1, {0.0}, 1e-3);
  Tensor b = test::random_tensor(s, DType::F64, 10, -0.2, 0.2);
  Tensor r = test::random_tensor(s, DType::F64, 11), sum = Tensor::empty(s, DType::F64);
  Tensor y = Tensor::empty(s, DType::F64), g = test::poisoned(s, DType::F64);
  Tensor da = test::poisoned(s, DType::F64);
  add_forward(ctx, a, b, sum);
  relu_forward(ctx, sum, y);
  fake_relu_backward(ctx, y, r, g, GradMode::Assign);
  add_backward(ctx, g, da, Tensor(), GradMode::Assign);
  test::check_gradient("fake relu chain da", a, da, [&] {
    add_forward(ctx, a, b, sum);
    return test::weighted_sum(sum, r);  // the surrogate: no ReLU
  });
  Tensor relu_da = test::poisoned(s, DType::F64);
  relu_backward(ctx, y, r, g, GradMode::Assign);
  add_backward(ctx, g, relu_da, Tensor(), GradMode::Assign);
  int off = 0;
  for (std::int64_t i = 0; i < s.numel(); ++i) {
    if (test::value_at(y, i) > 0) {
      EXPECT_EQ(test::value_at(relu_da, i), test::value_at(da, i));
    } else {
      EXPECT_EQ(test::value_at(relu_da, i), 0.0);
      off += test::value_at(da, i) != 0.0;
    }
  }
  EXPECT_GT(off, 0) << "some ReLUs should be off and still pass a gradient";
}

}  // namespace
}  // namespace rp
