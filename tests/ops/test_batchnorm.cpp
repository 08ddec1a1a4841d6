#include <gtest/gtest.h>

#include <cmath>
#include <ostream>
#include <string>
#include <vector>

#include "engine/core/error.h"
#include "engine/ops/batchnorm.h"
#include "tests/support/gradcheck.h"
#include "tests/support/test_support.h"

namespace rp {
namespace {

struct BnCase {
  std::int64_t n, c, h, w;
  Shape x() const { return Shape{n, c, h, w}; }
  Shape ch() const { return Shape{c}; }
  std::string name() const {
    return "n" + std::to_string(n) + "_c" + std::to_string(c) + "_" + std::to_string(h) + "x" +
           std::to_string(w);
  }
};

void PrintTo(const BnCase& c, std::ostream* os) {
  *os << c.name();
}

// Batch 1 (statistics over pixels only), one-pixel maps (statistics over the batch only), odd
// sizes and several channels.
std::vector<BnCase> bn_cases() {
  return {{1, 3, 4, 5}, {4, 2, 1, 1}, {3, 5, 3, 3}, {2, 1, 7, 2}, {5, 4, 2, 3}};
}

struct BnTensors {
  Tensor x, gamma, beta, running_mean, running_var, y, save_mean, save_invstd;
  BnTensors(const BnCase& c, DType dt, std::uint64_t seed)
      : x(test::random_tensor(c.x(), dt, seed, -2.0, 3.0)),
        gamma(test::random_tensor(c.ch(), dt, seed + 1, 0.5, 1.5)),
        beta(test::random_tensor(c.ch(), dt, seed + 2, -0.5, 0.5)),
        running_mean(test::random_tensor(c.ch(), dt, seed + 3, -0.5, 0.5)),
        running_var(test::random_tensor(c.ch(), dt, seed + 4, 0.5, 2.0)),
        y(test::poisoned(c.x(), dt)),
        save_mean(test::poisoned(c.ch(), dt)),
        save_invstd(test::poisoned(c.ch(), dt)) {}
};

// Per-channel mean and biased variance, computed directly.
void channel_stats(const BnCase& c, const Tensor& x, std::int64_t ch, double& mean, double& var) {
  double s = 0, sq = 0;
  const double m = static_cast<double>(c.n * c.h * c.w);
  for (std::int64_t n = 0; n < c.n; ++n)
    for (std::int64_t p = 0; p < c.h * c.w; ++p)
      s += test::value_at(x, (n * c.c + ch) * c.h * c.w + p);
  mean = s / m;
  for (std::int64_t n = 0; n < c.n; ++n)
    for (std::int64_t p = 0; p < c.h * c.w; ++p) {
      const double d = test::value_at(x, (n * c.c + ch) * c.h * c.w + p) - mean;
      sq += d * d;
    }
  var = sq / m;
}

class BatchNorm : public ::testing::TestWithParam<BnCase> {};

TEST_P(BatchNorm, TrainForwardNormalizesAndUpdatesRunningStatistics) {
  const BnCase c = GetParam();
  BnTensors t(c, DType::F64, 1);
  const auto rm0 = test::values(t.running_mean), rv0 = test::values(t.running_var);
  const BatchNormParams p{0.1, 1e-5};
  batchnorm2d_forward_train(test::cpu_context(), t.x, t.gamma, t.beta, t.running_mean,
                            t.running_var, t.y, t.save_mean, t.save_invstd, p);
  const double m = static_cast<double>(c.n * c.h * c.w);
  std::vector<double> y(static_cast<std::size_t>(t.x.numel()));
  for (std::int64_t ch = 0; ch < c.c; ++ch) {
    double mean = 0, var = 0;
    channel_stats(c, t.x, ch, mean, var);
    const double invstd = 1 / std::sqrt(var + p.eps);
    const auto i = static_cast<std::size_t>(ch);
    EXPECT_NEAR(test::value_at(t.save_mean, ch), mean, 1e-12);
    EXPECT_NEAR(test::value_at(t.save_invstd, ch), invstd, 1e-10);
    // PyTorch: biased variance normalizes, unbiased variance feeds the running estimate.
    EXPECT_NEAR(test::value_at(t.running_mean, ch), 0.9 * rm0[i] + 0.1 * mean, 1e-12);
    EXPECT_NEAR(test::value_at(t.running_var, ch), 0.9 * rv0[i] + 0.1 * var * m / (m - 1), 1e-12);
    for (std::int64_t n = 0; n < c.n; ++n)
      for (std::int64_t q = 0; q < c.h * c.w; ++q) {
        const std::int64_t e = (n * c.c + ch) * c.h * c.w + q;
        y[static_cast<std::size_t>(e)] =
            (test::value_at(t.x, e) - mean) * invstd * test::value_at(t.gamma, ch) +
            test::value_at(t.beta, ch);
      }
  }
  test::expect_close(t.y, y, 1e-10, 1e-10, "train y");
}

TEST_P(BatchNorm, EvalForwardUsesRunningStatistics) {
  const BnCase c = GetParam();
  BnTensors t(c, DType::F32, 2);
  batchnorm2d_forward_eval(test::cpu_context(), t.x, t.gamma, t.beta, t.running_mean, t.running_var,
                           t.y, 1e-5);
  std::vector<double> y(static_cast<std::size_t>(t.x.numel()));
  for (std::int64_t e = 0; e < t.x.numel(); ++e) {
    const std::int64_t ch = (e / (c.h * c.w)) % c.c;
    y[static_cast<std::size_t>(e)] = (test::value_at(t.x, e) - test::value_at(t.running_mean, ch)) /
                                         std::sqrt(test::value_at(t.running_var, ch) + 1e-5) *
                                         test::value_at(t.gamma, ch) +
                                     test::value_at(t.beta, ch);
  }
  test::expect_close(t.y, y, 1e-5, 1e-5, "eval y");
}

// With momentum 1 the running statistics become the batch's; eval mode with the biased
// variance then reproduces the training-mode output.
TEST_P(BatchNorm, EvalWithTheBatchStatisticsEqualsTrain) {
  const BnCase c = GetParam();
  BnTensors t(c, DType::F64, 3);
  batchnorm2d_forward_train(test::cpu_context(), t.x, t.gamma, t.beta, t.running_mean,
                            t.running_var, t.y, t.save_mean, t.save_invstd, {1.0, 1e-5});
  const double m = static_cast<double>(c.n * c.h * c.w);
  Tensor biased = test::clone(t.running_var);
  for (std::int64_t ch = 0; ch < c.c; ++ch) {
    test::set_value(biased, ch, test::value_at(t.running_var, ch) * (m - 1) / m);
  }
  Tensor y_eval = test::poisoned(c.x(), DType::F64);
  batchnorm2d_forward_eval(test::cpu_context(), t.x, t.gamma, t.beta, t.running_mean, biased,
                           y_eval, 1e-5);
  test::expect_close(y_eval, t.y, 1e-10, 1e-10, "eval with batch statistics vs train");
}

// Gradient of sum(r . y) with respect to x, gamma and beta, statistics included.
TEST_P(BatchNorm, GradCheckTrain) {
  const BnCase c = GetParam();
  Context& ctx = test::cpu_context();
  BnTensors t(c, DType::F64, 4);
  Tensor r = test::random_tensor(c.x(), DType::F64, 40);
  batchnorm2d_forward_train(ctx, t.x, t.gamma, t.beta, t.running_mean, t.running_var, t.y,
                            t.save_mean, t.save_invstd, {0.1, 1e-5});
  Tensor dx = test::poisoned(c.x(), DType::F64), dg = test::poisoned(c.ch(), DType::F64),
         db = test::poisoned(c.ch(), DType::F64);
  batchnorm2d_backward_train(ctx, r, t.x, t.gamma, t.save_mean, t.save_invstd, dx, dg, db,
                             GradMode::Assign);
  auto loss = [&] {
    batchnorm2d_forward_train(ctx, t.x, t.gamma, t.beta, t.running_mean, t.running_var, t.y,
                              t.save_mean, t.save_invstd, {0.1, 1e-5});
    return test::weighted_sum(t.y, r);
  };
  test::GradCheckTolerance tol;
  tol.rtol = 1e-5;  // the normalization amplifies rounding in the finite differences
  tol.atol = 1e-8;
  test::check_gradient("bn train dx", t.x, dx, loss, tol);
  test::check_gradient("bn train dgamma", t.gamma, dg, loss, tol);
  test::check_gradient("bn train dbeta", t.beta, db, loss, tol);
}

TEST_P(BatchNorm, GradCheckEval) {
  const BnCase c = GetParam();
  Context& ctx = test::cpu_context();
  BnTensors t(c, DType::F64, 5);
  Tensor r = test::random_tensor(c.x(), DType::F64, 50);
  Tensor dx = test::poisoned(c.x(), DType::F64), dg = test::poisoned(c.ch(), DType::F64),
         db = test::poisoned(c.ch(), DType::F64);
  batchnorm2d_backward_eval(ctx, r, t.x, t.gamma, t.running_mean, t.running_var, 1e-5, dx, dg, db,
                            GradMode::Assign);
  auto loss = [&] {
    batchnorm2d_forward_eval(ctx, t.x, t.gamma, t.beta, t.running_mean, t.running_var, t.y, 1e-5);
    return test::weighted_sum(t.y, r);
  };
  test::check_gradient("bn eval dx", t.x, dx, loss);
  test::check_gradient("bn eval dgamma", t.gamma, dg, loss);
  test::check_gradient("bn eval dbeta", t.beta, db, loss);
}

TEST_P(BatchNorm, AccumulateAndOptionalOutputs) {
  const BnCase c = GetParam();
  Context& ctx = test::cpu_context();
  BnTensors t(c, DType::F64, 6);
  Tensor dy = test::random_tensor(c.x(), DType::F64, 60);
  batchnorm2d_forward_train(ctx, t.x, t.gamma, t.beta, t.running_mean, t.running_var, t.y,
                            t.save_mean, t.save_invstd, {});
  for (bool train : {true, false}) {
    auto backward = [&](const Tensor& dx, const Tensor& dg, const Tensor& db, GradMode mode) {
      if (train) {
        batchnorm2d_backward_train(ctx, dy, t.x, t.gamma, t.save_mean, t.save_invstd, dx, dg, db,
                                   mode);
      } else {
        batchnorm2d_backward_eval(ctx, dy, t.x, t.gamma, t.running_mean, t.running_var, 1e-5, dx,
                                  dg, db, mode);
      }
    };
    Tensor dx = test::poisoned(c.x(), DType::F64), dg = test::poisoned(c.ch(), DType::F64),
           db = test::poisoned(c.ch(), DType::F64);
    backward(dx, dg, db, GradMode::Assign);
    Tensor dx2 = Tensor::zeros(c.x(), DType::F64), dg2 = Tensor::zeros(c.ch(), DType::F64),
           db2 = Tensor::zeros(c.ch(), DType::F64);
    backward(dx2, dg2, db2, GradMode::Accumulate);
    backward(dx2, dg2, db2, GradMode::Accumulate);
    for (auto [once, twice] : {std::pair{&dx, &dx2}, std::pair{&dg, &dg2}, std::pair{&db, &db2}}) {
      std::vector<double> expected = test::values(*once);
      for (double& v : expected) v *= 2;
      test::expect_close(*twice, expected, 1e-12, 1e-12, train ? "train x2" : "eval x2");
    }
    // Only dx wanted: the parameter gradients are skipped, dx is unchanged.
    Tensor dx_only = test::poisoned(c.x(), DType::F64);
    backward(dx_only, Tensor(), Tensor(), GradMode::Assign);
    test::expect_close(dx_only, dx, 0, 0, "dx alone");
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, BatchNorm, ::testing::ValuesIn(bn_cases()),
                         [](const auto& p) { return p.param.name(); });

TEST(BatchNormTrain, RefusesOneValuePerChannel) {
  const BnCase c{1, 2, 1, 1};
  BnTensors t(c, DType::F32, 7);
  try {
    batchnorm2d_forward_train(test::cpu_context(), t.x, t.gamma, t.beta, t.running_mean,
                              t.running_var, t.y, t.save_mean, t.save_invstd, {});
    FAIL() << "expected rp::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("more than one value per channel"), std::string::npos);
  }
}

TEST(BatchNormTrain, InPlaceMatchesOutOfPlace) {
  const BnCase c{3, 2, 2, 2};
  BnTensors a(c, DType::F64, 8), b(c, DType::F64, 8);
  batchnorm2d_forward_train(test::cpu_context(), a.x, a.gamma, a.beta, a.running_mean,
                            a.running_var, a.y, a.save_mean, a.save_invstd, {});
  batchnorm2d_forward_train(test::cpu_context(), b.x, b.gamma, b.beta, b.running_mean,
                            b.running_var, b.x, b.save_mean, b.save_invstd, {});
  test::expect_equal_exact(b.x, a.y, "in place");
}

}  // namespace
}  // namespace rp
