#include "tests/support/gradcheck.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "tests/support/test_support.h"

namespace rp::test {

void check_gradient_at(const std::string& what, const Tensor& input, const Tensor& analytic,
                       const std::vector<std::int64_t>& elements,
                       const std::function<double()>& loss, GradCheckTolerance tol) {
  ASSERT_EQ(input.dtype(), DType::F64) << what << ": gradient checks run in double";
  ASSERT_EQ(input.shape(), analytic.shape()) << what;
  int failures = 0;
  double max_abs = 0;
  for (std::int64_t i : elements) {
    const double v = value_at(input, i);
    set_value(input, i, v + tol.step);
    const double plus = loss();
    set_value(input, i, v - tol.step);
    const double minus = loss();
    set_value(input, i, v);
    const double numeric = (plus - minus) / (2 * tol.step);
    const double a = value_at(analytic, i);
    max_abs = std::max(max_abs, std::abs(a));
    const double bound = tol.atol + tol.rtol * std::max(std::abs(a), std::abs(numeric));
    if (!(std::abs(a - numeric) <= bound) && failures++ < 5) {
      ADD_FAILURE() << what << ": element " << i << " of " << input.str() << ": analytic " << a
                    << ", finite difference " << numeric << " (|diff| " << std::abs(a - numeric)
                    << " > " << bound << ")";
    }
  }
  // A gradient that is zero everywhere would pass trivially; the inputs are chosen so it isn't.
  EXPECT_GT(max_abs, 0.0) << what << ": the analytic gradient is identically zero";
}

void check_gradient(const std::string& what, const Tensor& input, const Tensor& analytic,
                    const std::function<double()>& loss, GradCheckTolerance tol) {
  std::vector<std::int64_t> all(static_cast<std::size_t>(input.numel()));
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<std::int64_t>(i);
  check_gradient_at(what, input, analytic, all, loss, tol);
}

double weighted_sum(const Tensor& y, const Tensor& r) {
  double s = 0;
  for (std::int64_t i = 0; i < y.numel(); ++i) s += value_at(y, i) * value_at(r, i);
  return s;
}

}  // namespace rp::test
