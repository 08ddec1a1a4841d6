#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "engine/ops/elementwise.h"
#include "tests/support/gradcheck.h"
#include "tests/support/test_support.h"

namespace rp {
namespace {

TEST(Add, ForwardInPlaceAndOutOfPlace) {
  for (const Shape& s : {Shape{1, 1}, Shape{2, 3, 5, 7}, Shape{3, 40000}}) {
    Tensor a = test::random_tensor(s, DType::F32, 1), b = test::random_tensor(s, DType::F32, 2);
    Tensor y = test::poisoned(s, DType::F32);
    add_forward(test::cpu_context(), a, b, y);
    std::vector<double> expected(static_cast<std::size_t>(s.numel()));
    for (std::int64_t i = 0; i < s.numel(); ++i) {
      expected[static_cast<std::size_t>(i)] =
          static_cast<double>(a.data<float>()[i] + b.data<float>()[i]);
    }
    test::expect_close(y, expected, 0, 0, "a + b " + s.str());
    add_forward(test::cpu_context(), a, b, a);
    test::expect_equal_exact(a, y, "in place");
  }
}

TEST(Add, GradCheck) {
  Context& ctx = test::cpu_context();
  for (const Shape& s : test::random_image_shapes(40, 4)) {
    Tensor a = test::random_tensor(s, DType::F64, 3), b = test::random_tensor(s, DType::F64, 4);
    Tensor r = test::random_tensor(s, DType::F64, 5), y = Tensor::empty(s, DType::F64);
    Tensor da = test::poisoned(s, DType::F64), db = test::poisoned(s, DType::F64);
    add_backward(ctx, r, da, db, GradMode::Assign);
    auto loss = [&] {
      add_forward(ctx, a, b, y);
      return test::weighted_sum(y, r);
    };
    test::check_gradient("add da " + s.str(), a, da, loss);
    test::check_gradient("add db " + s.str(), b, db, loss);
  }
}

TEST(Add, BackwardAccumulatesAndSkipsUnwantedOutputs) {
  Context& ctx = test::cpu_context();
  const Shape s{4, 9};
  Tensor dy = test::random_tensor(s, DType::F64, 6);
  Tensor da = Tensor::zeros(s, DType::F64), db = test::poisoned(s, DType::F64);
  add_backward(ctx, dy, da, Tensor(), GradMode::Accumulate);
  add_backward(ctx, dy, da, Tensor(), GradMode::Accumulate);
  std::vector<double> expected = test::values(dy);
  for (double& v : expected) v *= 2;
  test::expect_close(da, expected, 0, 0, "da x2");
  add_backward(ctx, dy, Tensor(), db, GradMode::Assign);
  test::expect_equal_exact(db, dy, "db alone");
  add_backward(ctx, dy, Tensor(), db, GradMode::Accumulate);
  test::expect_close(db, expected, 0, 0, "db x2");
}

TEST(Fill, EveryDtype) {
  Context& ctx = test::cpu_context();
  Tensor f = test::poisoned(Shape{3, 50000}, DType::F32);
  fill(ctx, f, 0.25);
  for (double v : test::values(f)) ASSERT_EQ(v, 0.25);
  Tensor i = Tensor::empty(Shape{5}, DType::I32);
  fill(ctx, i, -7);
  for (int v : i.to_vector<std::int32_t>()) EXPECT_EQ(v, -7);
  Tensor u = Tensor::empty(Shape{5}, DType::U8);
  fill(ctx, u, 200);
  for (auto v : u.to_vector<std::uint8_t>()) EXPECT_EQ(v, 200);
  EXPECT_THROW(fill(ctx, u, 256), Error);
  EXPECT_THROW(fill(ctx, i, 0.5), Error);
  EXPECT_THROW(fill(ctx, i, 1e20), Error);
  EXPECT_THROW(fill(ctx, i, INFINITY), Error);
  EXPECT_THROW(fill(ctx, Tensor::empty(Shape{2}, DType::BF16), 1.0), Error);
}

}  // namespace
}  // namespace rp
