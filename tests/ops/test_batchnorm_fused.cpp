// The fused BN-add-ReLU forms against the separate ops they replace: the same values, bit for
// bit, forward and backward, train and eval, f32 and f64, in place or not.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <limits>
#include <ostream>
#include <string>
#include <vector>

#include "engine/core/error.h"
#include "engine/ops/activation.h"
#include "engine/ops/batchnorm.h"
#include "engine/ops/elementwise.h"
#include "tests/support/test_support.h"

namespace rp {
namespace {

struct FusedCase {
  Shape x;
  DType dtype;
  std::string name() const {
    return std::string(dtype == DType::F32 ? "f32" : "f64") + "_n" + std::to_string(x[0]) + "_c" +
           std::to_string(x[1]) + "_" + std::to_string(x[2]) + "x" + std::to_string(x[3]);
  }
};

void PrintTo(const FusedCase& c, std::ostream* os) {
  *os << c.name();
}

// Batches and maps of odd sizes (runs that end mid-vector), in both dtypes.
std::vector<FusedCase> fused_cases() {
  std::vector<FusedCase> cases;
  for (DType dt : {DType::F32, DType::F64}) {
    for (const Shape& s : {Shape{3, 5, 3, 3}, Shape{2, 3, 7, 5}, Shape{1, 2, 4, 9}}) {
      cases.push_back({s, dt});
    }
  }
  return cases;
}

// BN parameters whose outputs fall on both sides of zero, so that every ReLU both passes and
// stops values.
struct BnParams {
  Tensor gamma, beta, running_mean, running_var;
  BnParams(const FusedCase& c, std::uint64_t seed)
      : gamma(test::random_tensor(Shape{c.x[1]}, c.dtype, seed, 0.5, 1.5)),
        beta(test::random_tensor(Shape{c.x[1]}, c.dtype, seed + 1, -0.5, 0.5)),
        running_mean(test::random_tensor(Shape{c.x[1]}, c.dtype, seed + 2, -0.5, 0.5)),
        running_var(test::random_tensor(Shape{c.x[1]}, c.dtype, seed + 3, 0.5, 2.0)) {}
  BnParams clone() const {
    BnParams p = *this;
    for (Tensor* t : {&p.gamma, &p.beta, &p.running_mean, &p.running_var}) *t = test::clone(*t);
    return p;
  }
};

class BatchNormFused : public ::testing::TestWithParam<FusedCase> {};

// y = relu(bn(x) + residual) in one op equals bn, add_forward and relu_forward one after the
// other; each of residual and relu alone too; and the running statistics move the same way.
TEST_P(BatchNormFused, ForwardEqualsTheSeparateOps) {
  const FusedCase c = GetParam();
  Context& ctx = test::cpu_context();
  const Tensor x = test::random_tensor(c.x, c.dtype, 11, -2.0, 3.0);
  const Tensor residual = test::random_tensor(c.x, c.dtype, 12, -1.0, 1.0);
  const BnParams params(c, 13);
  const Shape ch{c.x[1]};
  for (bool train : {true, false}) {
    for (const BnEpilogue& e :
         {BnEpilogue{residual, true}, BnEpilogue{Tensor(), true}, BnEpilogue{residual, false}}) {
      const std::string what = std::string(train ? "train" : "eval") +
                               (e.residual.defined() ? " +residual" : "") + (e.relu ? " relu" : "");
      BnParams pf = params.clone(), ps = params.clone();
      Tensor fused = test::poisoned(c.x, c.dtype), separate = test::poisoned(c.x, c.dtype);
      Tensor mf = test::poisoned(ch, c.dtype), sf = test::poisoned(ch, c.dtype);
      Tensor ms = test::poisoned(ch, c.dtype), ss = test::poisoned(ch, c.dtype);
      if (train) {
        batchnorm2d_forward_train(ctx, x, pf.gamma, pf.beta, pf.running_mean, pf.running_var, fused,
                                  mf, sf, {}, e);
        batchnorm2d_forward_train(ctx, x, ps.gamma, ps.beta, ps.running_mean, ps.running_var,
                                  separate, ms, ss, {});
      } else {
        batchnorm2d_forward_eval(ctx, x, pf.gamma, pf.beta, pf.running_mean, pf.running_var, fused,
                                 1e-5, e);
        batchnorm2d_forward_eval(ctx, x, ps.gamma, ps.beta, ps.running_mean, ps.running_var,
                                 separate, 1e-5);
      }
      if (e.residual.defined()) add_forward(ctx, separate, e.residual, separate);
      if (e.relu) relu_forward(ctx, separate, separate);
      test::expect_equal_exact(fused, separate, what);
      test::expect_equal_exact(pf.running_mean, ps.running_mean, what + " running_mean");
      test::expect_equal_exact(pf.running_var, ps.running_var, what + " running_var");
      if (e.relu) {
        const std::vector<double> v = test::values(fused);
        EXPECT_GT(std::count(v.begin(), v.end(), 0.0), 0) << what << ": no ReLU stopped a value";
        EXPECT_GT(std::count_if(v.begin(), v.end(), [](double a) { return a > 0; }), 0) << what;
      }
    }
  }
}

// The backward with relu_out equals relu_backward then the BN backward: dx, dgamma and dbeta,
// assigned and accumulated, dx out of place or on dy itself. dy holds inf and NaN where the
// ReLU stopped the value: they must not leak through the mask.
TEST_P(BatchNormFused, BackwardEqualsTheSeparateOps) {
  const FusedCase c = GetParam();
  Context& ctx = test::cpu_context();
  const Tensor x = test::random_tensor(c.x, c.dtype, 21, -2.0, 3.0);
  const BnParams params(c, 23);
  const Shape ch{c.x[1]};
  BnParams p = params.clone();
  Tensor relu_out = Tensor::empty(c.x, c.dtype), mean = Tensor::empty(ch, c.dtype),
         invstd = Tensor::empty(ch, c.dtype);
  batchnorm2d_forward_train(ctx, x, p.gamma, p.beta, p.running_mean, p.running_var, relu_out, mean,
                            invstd, {}, BnEpilogue{Tensor(), true});
  Tensor dy = test::random_tensor(c.x, c.dtype, 24);
  int stopped = 0;
  for (std::int64_t i = 0; i < dy.numel(); ++i) {
    if (test::value_at(relu_out, i) > 0) continue;
    test::set_value(dy, i,
                    stopped++ % 2 == 0 ? std::numeric_limits<double>::infinity()
                                       : std::numeric_limits<double>::quiet_NaN());
  }
  ASSERT_GT(stopped, 0);
  for (bool train : {true, false}) {
    for (GradMode mode : {GradMode::Assign, GradMode::Accumulate}) {
      for (bool in_place : {false, true}) {
        if (in_place && mode == GradMode::Accumulate) continue;  // dx = dy: nothing to add to
        const std::string what = std::string(train ? "train" : "eval") +
                                 (mode == GradMode::Assign ? " assign" : " accumulate") +
                                 (in_place ? " in place" : "");
        // Accumulating outputs start from values, assigned ones from poison.
        auto start = [&](const Shape& s, std::uint64_t seed) {
          return mode == GradMode::Assign ? test::poisoned(s, c.dtype)
                                          : test::random_tensor(s, c.dtype, seed);
        };
        Tensor dyf = test::clone(dy);
        Tensor dxf = in_place ? dyf : start(c.x, 31), dgf = start(ch, 32), dbf = start(ch, 33);
        Tensor masked = Tensor::empty(c.x, c.dtype);
        relu_backward(ctx, relu_out, dy, masked, GradMode::Assign);
        Tensor dxs = in_place ? masked : start(c.x, 31), dgs = start(ch, 32), dbs = start(ch, 33);
        auto backward = [&](const Tensor& g, const Tensor& dx, const Tensor& dgam,
                            const Tensor& dbet, const Tensor& mask) {
          if (train) {
            batchnorm2d_backward_train(ctx, g, x, p.gamma, mean, invstd, dx, dgam, dbet, mode,
                                       mask);
          } else {
            batchnorm2d_backward_eval(ctx, g, x, p.gamma, p.running_mean, p.running_var, 1e-5, dx,
                                      dgam, dbet, mode, mask);
          }
        };
        backward(dyf, dxf, dgf, dbf, relu_out);
        backward(masked, dxs, dgs, dbs, Tensor());
        test::expect_equal_exact(dxf, dxs, what + " dx");
        test::expect_equal_exact(dgf, dgs, what + " dgamma");
        test::expect_equal_exact(dbf, dbs, what + " dbeta");
        test::expect_all_finite(dxf, what + " dx");
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, BatchNormFused, ::testing::ValuesIn(fused_cases()),
                         [](const auto& p) { return p.param.name(); });

void expect_refused(const std::function<void()>& call, const std::string& message) {
  try {
    call();
    FAIL() << "expected rp::Error containing '" << message << "'";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
  }
}

TEST(BatchNormFusedArgs, RefusesMisshapenOrOverlappingInputs) {
  Context& ctx = test::cpu_context();
  const FusedCase c{Shape{2, 3, 4, 4}, DType::F32};
  const BnParams p(c, 41);
  const Tensor x = test::random_tensor(c.x, c.dtype, 42);
  const Tensor y = Tensor::empty(c.x, c.dtype), dx = Tensor::empty(c.x, c.dtype);
  const Tensor wrong = Tensor::empty(Shape{2, 3, 4, 5}, c.dtype);
  expect_refused(
      [&] {
        batchnorm2d_forward_eval(ctx, x, p.gamma, p.beta, p.running_mean, p.running_var, y, 1e-5,
                                 BnEpilogue{wrong, true});
      },
      "residual: expected shape [2,3,4,4]");
  expect_refused(
      [&] {
        batchnorm2d_forward_eval(ctx, x, p.gamma, p.beta, p.running_mean, p.running_var, y, 1e-5,
                                 BnEpilogue{y, true});
      },
      "y must not share memory with residual");
  expect_refused(
      [&] {
        batchnorm2d_backward_eval(ctx, x, x, p.gamma, p.running_mean, p.running_var, 1e-5, dx,
                                  Tensor(), Tensor(), GradMode::Assign, dx);
      },
      "dx must not share memory with relu_out");
  expect_refused(
      [&] {
        batchnorm2d_backward_eval(ctx, x, x, p.gamma, p.running_mean, p.running_var, 1e-5, dx,
                                  Tensor(), Tensor(), GradMode::Assign, wrong);
      },
      "relu_out: expected shape [2,3,4,4]");
}

}  // namespace
}  // namespace rp
