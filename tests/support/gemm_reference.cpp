#include "tests/support/gemm_reference.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "tests/support/test_support.h"

namespace rp::test {

ProductReference product_reference(std::int64_t rows, std::int64_t cols, std::int64_t k,
                                   const MatrixEntry& a, const MatrixEntry& b,
                                   const MatrixEntry& init) {
  ProductReference ref;
  ref.rows = rows;
  ref.cols = cols;
  ref.k = k;
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t c = 0; c < cols; ++c) {
      long double sum = init ? static_cast<long double>(init(r, c)) : 0.0L;
      long double mag = init ? std::fabs(static_cast<long double>(init(r, c))) : 0.0L;
      for (std::int64_t t = 0; t < k; ++t) {
        const long double p = static_cast<long double>(a(r, t)) * static_cast<long double>(b(t, c));
        sum += p;
        mag += std::fabs(p);
      }
      ref.value.push_back(static_cast<double>(sum));
      ref.magnitude.push_back(static_cast<double>(mag));
    }
  }
  return ref;
}

void expect_within_product_bound(const Tensor& actual, const ProductReference& ref,
                                 const std::string& what) {
  ASSERT_EQ(actual.shape(), (Shape{ref.rows, ref.cols})) << what;
  const double u = actual.dtype() == DType::F64 ? std::ldexp(1.0, -53) : std::ldexp(1.0, -24);
  const double factor = 2.0 * static_cast<double>(ref.k + 1) * u;
  const std::vector<double> got = values(actual);
  int reported = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double bound =
        factor * ref.magnitude[i] + static_cast<double>(std::numeric_limits<float>::denorm_min());
    const double diff = std::abs(got[i] - ref.value[i]);
    if (!(diff <= bound) && reported++ < 5) {  // !(<=) also catches NaN
      ADD_FAILURE() << what << ": element " << i << " is " << got[i] << ", expected "
                    << ref.value[i] << " (|diff| " << diff << " above the bound " << bound
                    << " for k = " << ref.k << ")";
    }
  }
}

}  // namespace rp::test
