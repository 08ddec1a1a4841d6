#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "engine/core/error.h"
#include "engine/ops/cross_entropy.h"
#include "engine/ops/elementwise.h"
#include "tests/support/gradcheck.h"
#include "tests/support/test_support.h"

namespace rp {
namespace {

// -log softmax(z)[label], in long double for a reference that is more exact than the op.
double naive_loss(const Tensor& z, std::int64_t i, std::int64_t k, int label) {
  long double m = -1e300L;
  for (std::int64_t j = 0; j < k; ++j) m = std::max<long double>(m, test::value_at(z, i * k + j));
  long double s = 0;
  for (std::int64_t j = 0; j < k; ++j) s += std::exp(test::value_at(z, i * k + j) - m);
  return static_cast<double>(m + std::log(s) - test::value_at(z, i * k + label));
}

TEST(CrossEntropy, ForwardPerExampleAndMean) {
  for (auto [n, k] : {std::pair<std::int64_t, std::int64_t>{1, 1}, {1, 10}, {7, 3}, {64, 10}}) {
    for (DType dt : {DType::F64, DType::F32}) {
      Tensor z = test::random_tensor(Shape{n, k}, dt, 1, -5, 5);
      Tensor labels = test::random_labels(n, k, 2);
      Tensor losses = test::poisoned(Shape{n}, dt), mean = test::poisoned(Shape{1}, dt);
      cross_entropy_forward(test::cpu_context(), z, labels, losses, mean);
      std::vector<double> expected;
      double sum = 0;
      for (std::int64_t i = 0; i < n; ++i) {
        expected.push_back(naive_loss(z, i, k, labels.data<std::int32_t>()[i]));
        sum += expected.back();
      }
      const double tol = dt == DType::F64 ? 1e-12 : 1e-6;
      test::expect_close(losses, expected, tol, tol, "losses");
      EXPECT_NEAR(test::value_at(mean, 0), sum / static_cast<double>(n), tol * 10);
    }
  }
}

TEST(CrossEntropy, StableForHugeLogits) {
  const std::vector<float> z{1e4f, -1e4f, 0.f, 3e4f, 3e4f, -3e4f};
  Tensor logits = Tensor::from_vector(z, Shape{2, 3});
  Tensor labels = Tensor::from_vector(std::vector<std::int32_t>{1, 0}, Shape{2});
  Tensor losses = test::poisoned(Shape{2}, DType::F32),
         dz = test::poisoned(Shape{2, 3}, DType::F32);
  cross_entropy_forward(test::cpu_context(), logits, labels, losses, Tensor());
  EXPECT_NEAR(test::value_at(losses, 0), 2e4, 1e-2);            // log-sum-exp = 1e4
  EXPECT_NEAR(test::value_at(losses, 1), std::log(2.0), 1e-6);  // two equal maxima
  Tensor ones = Tensor::from_vector(std::vector<float>{1.f, 1.f}, Shape{2});
  cross_entropy_backward(test::cpu_context(), logits, labels, ones, dz, GradMode::Assign);
  test::expect_all_finite(dz, "gradient at huge logits");
  test::expect_close(dz, std::vector<double>{1, -1, 0, -0.5, 0.5, 0}, 1e-6, 1e-6, "dz");
}

TEST(CrossEntropy, GradCheckWithPerExampleUpstream) {
  Context& ctx = test::cpu_context();
  for (auto [n, k] : {std::pair<std::int64_t, std::int64_t>{1, 2}, {5, 3}, {4, 10}}) {
    Tensor z = test::random_tensor(Shape{n, k}, DType::F64, 3, -3, 3);
    Tensor labels = test::random_labels(n, k, 4);
    Tensor r = test::random_tensor(Shape{n}, DType::F64, 5);  // e.g. -1 for targeted, 1/N for mean
    Tensor losses = Tensor::empty(Shape{n}, DType::F64), dz = test::poisoned(z.shape(), DType::F64);
    cross_entropy_backward(ctx, z, labels, r, dz, GradMode::Assign);
    test::check_gradient("cross entropy dz", z, dz, [&] {
      cross_entropy_forward(ctx, z, labels, losses, Tensor());
      return test::weighted_sum(losses, r);
    });
    Tensor twice = Tensor::zeros(z.shape(), DType::F64);
    cross_entropy_backward(ctx, z, labels, r, twice, GradMode::Accumulate);
    cross_entropy_backward(ctx, z, labels, r, twice, GradMode::Accumulate);
    std::vector<double> expected = test::values(dz);
    for (double& v : expected) v *= 2;
    test::expect_close(twice, expected, 1e-15, 0, "dz x2");
  }
}

TEST(CrossEntropy, MeanGradientIsUpstreamOneOverN) {
  Context& ctx = test::cpu_context();
  const std::int64_t n = 6, k = 4;
  Tensor z = test::random_tensor(Shape{n, k}, DType::F64, 6);
  Tensor labels = test::random_labels(n, k, 7);
  Tensor upstream = Tensor::empty(Shape{n}, DType::F64);
  fill(ctx, upstream, 1.0 / n);
  Tensor dz = test::poisoned(z.shape(), DType::F64);
  cross_entropy_backward(ctx, z, labels, upstream, dz, GradMode::Assign);
  Tensor losses = Tensor::empty(Shape{n}, DType::F64), mean = Tensor::empty(Shape{1}, DType::F64);
  test::check_gradient("mean cross entropy", z, dz, [&] {
    cross_entropy_forward(ctx, z, labels, losses, mean);
    return test::value_at(mean, 0);
  });
}

TEST(CrossEntropy, RefusesLabelsOutOfRange) {
  Tensor z = test::random_tensor(Shape{3, 4}, DType::F32, 8);
  Tensor losses = Tensor::empty(Shape{3}, DType::F32);
  for (int bad : {-1, 4, 100}) {
    Tensor labels = Tensor::from_vector(std::vector<std::int32_t>{0, bad, 2}, Shape{3});
    try {
      cross_entropy_forward(test::cpu_context(), z, labels, losses, Tensor());
      FAIL() << "expected rp::Error for label " << bad;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("of example 1 is outside [0, 4)"), std::string::npos)
          << e.what();
    }
  }
}

}  // namespace
}  // namespace rp
