#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/ops/linear.h"
#include "tests/support/gradcheck.h"
#include "tests/support/linear_check.h"
#include "tests/support/test_support.h"

namespace rp {
namespace {

struct LinCase {
  std::int64_t n, in, out;
};
const LinCase kCases[] = {{1, 1, 1}, {3, 5, 2}, {4, 7, 10}, {2, 512, 10}, {33, 17, 9}};

std::string name(const LinCase& c) {
  return std::to_string(c.n) + "x" + std::to_string(c.in) + "->" + std::to_string(c.out);
}

// The reference within the error bound the GPU's cuBLAS products are held to (linear_check.h),
// at ResNet-50's k = 2048 and with empty dimensions.
TEST(Linear, ProductsLieWithinTheirErrorBound) {
  const cpu::LinearShape sizes[] = {{64, 2048, 10}, {3, 7, 5}, {4, 0, 3}, {5, 6, 0}};
  std::uint64_t seed = 40;
  for (DType dt : {DType::F32, DType::F64}) {
    for (const cpu::LinearShape& s : sizes) {
      test::check_linear_products(test::cpu_context(), s, dt, seed += 100);
    }
  }
}

TEST(Linear, ForwardMatchesTheDefinition) {
  for (const LinCase& c : kCases) {
    for (bool bias : {true, false}) {
      Tensor x = test::random_tensor(Shape{c.n, c.in}, DType::F64, 1);
      Tensor w = test::random_tensor(Shape{c.out, c.in}, DType::F64, 2);
      Tensor b = bias ? test::random_tensor(Shape{c.out}, DType::F64, 3) : Tensor();
      Tensor y = test::poisoned(Shape{c.n, c.out}, DType::F64);
      linear_forward(test::cpu_context(), x, w, b, y);
      std::vector<double> expected(static_cast<std::size_t>(c.n * c.out));
      for (std::int64_t i = 0; i < c.n; ++i)
        for (std::int64_t o = 0; o < c.out; ++o) {
          double s = bias ? test::value_at(b, o) : 0.0;
          for (std::int64_t k = 0; k < c.in; ++k) {
            s += test::value_at(x, i * c.in + k) * test::value_at(w, o * c.in + k);
          }
          expected[static_cast<std::size_t>(i * c.out + o)] = s;
        }
      test::expect_close(y, expected, 1e-12, 1e-12, "linear " + name(c));
    }
  }
}

TEST(Linear, GradCheck) {
  Context& ctx = test::cpu_context();
  for (const LinCase& c : kCases) {
    if (c.in > 100) continue;  // the finite-difference loop is quadratic in the size
    Tensor x = test::random_tensor(Shape{c.n, c.in}, DType::F64, 4);
    Tensor w = test::random_tensor(Shape{c.out, c.in}, DType::F64, 5);
    Tensor b = test::random_tensor(Shape{c.out}, DType::F64, 6);
    Tensor r = test::random_tensor(Shape{c.n, c.out}, DType::F64, 7);
    Tensor y = Tensor::empty(Shape{c.n, c.out}, DType::F64);
    Tensor dx = test::poisoned(x.shape(), DType::F64), dw = test::poisoned(w.shape(), DType::F64),
           db = test::poisoned(b.shape(), DType::F64);
    linear_backward_data(ctx, r, w, dx, GradMode::Assign);
    linear_backward_weight(ctx, x, r, dw, db, GradMode::Assign);
    auto loss = [&] {
      linear_forward(ctx, x, w, b, y);
      return test::weighted_sum(y, r);
    };
    test::check_gradient("linear dx " + name(c), x, dx, loss);
    test::check_gradient("linear dw " + name(c), w, dw, loss);
    test::check_gradient("linear db " + name(c), b, db, loss);
  }
}

TEST(Linear, BackwardAccumulatesAndSkipsTheBias) {
  Context& ctx = test::cpu_context();
  const LinCase c{5, 6, 4};
  Tensor x = test::random_tensor(Shape{c.n, c.in}, DType::F64, 8);
  Tensor w = test::random_tensor(Shape{c.out, c.in}, DType::F64, 9);
  Tensor dy = test::random_tensor(Shape{c.n, c.out}, DType::F64, 10);
  Tensor dx = test::poisoned(x.shape(), DType::F64), dw = test::poisoned(w.shape(), DType::F64),
         db = test::poisoned(Shape{c.out}, DType::F64);
  linear_backward_data(ctx, dy, w, dx, GradMode::Assign);
  linear_backward_weight(ctx, x, dy, dw, db, GradMode::Assign);
  Tensor dx2 = Tensor::zeros(x.shape(), DType::F64), dw2 = Tensor::zeros(w.shape(), DType::F64),
         db2 = Tensor::zeros(Shape{c.out}, DType::F64);
  for (int i = 0; i < 2; ++i) {
    linear_backward_data(ctx, dy, w, dx2, GradMode::Accumulate);
    linear_backward_weight(ctx, x, dy, dw2, db2, GradMode::Accumulate);
  }
  for (auto [once, twice] : {std::pair{&dx, &dx2}, std::pair{&dw, &dw2}, std::pair{&db, &db2}}) {
    std::vector<double> expected = test::values(*once);
    for (double& v : expected) v *= 2;
    test::expect_close(*twice, expected, 1e-14, 1e-14, "x2");
  }
  Tensor dw_only = test::poisoned(w.shape(), DType::F64);
  linear_backward_weight(ctx, x, dy, dw_only, Tensor(), GradMode::Assign);
  test::expect_close(dw_only, dw, 0, 0, "dw without db");
}

}  // namespace
}  // namespace rp
