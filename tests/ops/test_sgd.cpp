#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "engine/core/error.h"
#include "engine/ops/sgd.h"
#include "tests/support/test_support.h"

namespace rp {
namespace {

// PyTorch's torch.optim.SGD step (dampening 0) for one parameter, written out.
void torch_sgd(double& p, double g, double& buf, bool& has_buf, const SgdParams& h) {
  double d = g + h.weight_decay * p;
  if (h.momentum != 0) {
    buf = has_buf ? h.momentum * buf + d : d;  // PyTorch clones d on the first step
    has_buf = true;
    d = h.nesterov ? d + h.momentum * buf : buf;
  }
  p -= h.lr * d;
}

TEST(Sgd, ClosedFormValues) {
  // p = 1, g = 0.5, lr 0.1, momentum 0.9, wd 0.01, worked by hand:
  //   step 1: d = 0.51, buf = 0.51, p = 0.949
  //   step 2: d = 0.5 + 0.00949 = 0.50949, buf = 0.9 * 0.51 + 0.50949 = 0.96849, p = 0.852151
  //   Nesterov step 1: p = 1 - 0.1 * (0.51 + 0.9 * 0.51) = 0.9031
  Context& ctx = test::cpu_context();
  Tensor p = Tensor::from_vector(std::vector<double>{1.0}, Shape{1});
  Tensor g = Tensor::from_vector(std::vector<double>{0.5}, Shape{1});
  Tensor buf = Tensor::zeros(Shape{1}, DType::F64);
  const SgdParams h{0.1, 0.9, 0.01, false};
  sgd_step(ctx, p, g, buf, h);
  EXPECT_NEAR(test::value_at(p, 0), 0.949, 1e-15);
  sgd_step(ctx, p, g, buf, h);
  EXPECT_NEAR(test::value_at(buf, 0), 0.96849, 1e-15);
  EXPECT_NEAR(test::value_at(p, 0), 0.852151, 1e-15);
  Tensor pn = Tensor::from_vector(std::vector<double>{1.0}, Shape{1});
  Tensor bn = Tensor::zeros(Shape{1}, DType::F64);
  sgd_step(ctx, pn, g, bn, SgdParams{0.1, 0.9, 0.01, true});
  EXPECT_NEAR(test::value_at(pn, 0), 0.9031, 1e-15);
}

TEST(Sgd, MatchesTorchSemanticsOverManySteps) {
  Context& ctx = test::cpu_context();
  const std::int64_t n = 70001;  // above the threading grain, odd
  for (const SgdParams& h : {SgdParams{0.1, 0.9, 5e-4, false}, SgdParams{0.05, 0.9, 5e-4, true},
                             SgdParams{0.2, 0.0, 0.0, false}, SgdParams{0.01, 0.5, 0.1, true}}) {
    Tensor p = test::random_tensor(Shape{n}, DType::F64, 1);
    Tensor buf = Tensor::zeros(Shape{n}, DType::F64);
    std::vector<double> ref_p = test::values(p), ref_buf(static_cast<std::size_t>(n), 0.0);
    std::vector<char> has(static_cast<std::size_t>(n), 0);
    for (int step = 0; step < 4; ++step) {
      Tensor g = test::random_tensor(Shape{n}, DType::F64, 10 + static_cast<std::uint64_t>(step));
      sgd_step(ctx, p, g, h.momentum != 0 ? buf : Tensor(), h);
      for (std::int64_t i = 0; i < n; ++i) {
        bool hb = has[static_cast<std::size_t>(i)];
        torch_sgd(ref_p[static_cast<std::size_t>(i)], test::value_at(g, i),
                  ref_buf[static_cast<std::size_t>(i)], hb, h);
        has[static_cast<std::size_t>(i)] = hb;
      }
    }
    test::expect_close(p, ref_p, 1e-14, 1e-15,
                       "params after 4 steps, nesterov " + std::to_string(h.nesterov));
  }
}

TEST(Sgd, FloatMatchesDouble) {
  Context& ctx = test::cpu_context();
  const std::int64_t n = 1000;
  Tensor p64 = test::random_tensor(Shape{n}, DType::F64, 2),
         g64 = test::random_tensor(Shape{n}, DType::F64, 3);
  Tensor p32 = test::to_dtype(p64, DType::F32), g32 = test::to_dtype(g64, DType::F32);
  Tensor b64 = Tensor::zeros(Shape{n}, DType::F64), b32 = Tensor::zeros(Shape{n}, DType::F32);
  for (int i = 0; i < 3; ++i) {
    sgd_step(ctx, p64, g64, b64, {});
    sgd_step(ctx, p32, g32, b32, {});
  }
  test::expect_close(p32, p64, 1e-6, 1e-6, "f32 vs f64");
}

// As PyTorch: with no weight decay an infinite parameter gets no 0 * inf = NaN term.
TEST(Sgd, ZeroWeightDecayAddsNoTerm) {
  Tensor p = Tensor::from_vector(std::vector<double>{INFINITY, 1.0}, Shape{2});
  Tensor g = Tensor::from_vector(std::vector<double>{0.5, 0.5}, Shape{2});
  sgd_step(test::cpu_context(), p, g, Tensor(), SgdParams{0.1, 0.0, 0.0, false});
  EXPECT_EQ(test::value_at(p, 0), INFINITY);
  EXPECT_EQ(test::value_at(p, 1), 0.95);
}

TEST(Sgd, RefusesBadHyperparameters) {
  Context& ctx = test::cpu_context();
  Tensor p = Tensor::zeros(Shape{4}), g = Tensor::zeros(Shape{4}), b = Tensor::zeros(Shape{4});
  EXPECT_THROW(sgd_step(ctx, p, g, b, SgdParams{-0.1, 0.9, 0, false}), Error);
  EXPECT_THROW(sgd_step(ctx, p, g, b, SgdParams{0.1, 1.5, 0, false}), Error);
  EXPECT_THROW(sgd_step(ctx, p, g, b, SgdParams{0.1, 0.9, -1, false}), Error);
  EXPECT_THROW(sgd_step(ctx, p, g, b, SgdParams{0.1, 0.0, 0, true}), Error);
  EXPECT_THROW(sgd_step(ctx, p, g, Tensor(), SgdParams{0.1, 0.9, 0, false}), Error);
  EXPECT_THROW(sgd_step(ctx, p, p, b, SgdParams{}), Error);  // grads aliasing params
}

}  // namespace
}  // namespace rp
