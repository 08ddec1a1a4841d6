// Matrix products checked against their floating-point error bound instead of a fixed
// tolerance: C = init + A B is computed in long double, with each element's magnitude
// |init| + sum_t |A(r,t)| |B(t,c)|, and a result computed in precision u (2^-24 for f32, 2^-53
// for f64) in any summation order must lie within (k + 1) u magnitude of it (the classic
// gamma_(k+1) bound, doubled for the rounding of the result and the inputs' conversions). A
// fixed relative tolerance fails for long inner dimensions (k = 2048 with 1e-5) and is
// needlessly loose for short ones.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/core/tensor.h"

namespace rp::test {

struct ProductReference {
  std::int64_t rows = 0, cols = 0, k = 0;
  std::vector<double> value, magnitude;  // row-major (rows, cols)
};

using MatrixEntry = std::function<double(std::int64_t row, std::int64_t col)>;

// init may be empty (an assigned product).
ProductReference product_reference(std::int64_t rows, std::int64_t cols, std::int64_t k,
                                   const MatrixEntry& a, const MatrixEntry& b,
                                   const MatrixEntry& init = {});

// Every element of actual (rows, cols; CPU, F32 or F64 as `dtype` says) within the bound.
void expect_within_product_bound(const Tensor& actual, const ProductReference& ref,
                                 const std::string& what);

}  // namespace rp::test
