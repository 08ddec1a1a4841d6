// Gradient checking by central finite differences, in double.
//
// For an op y = f(x) and a fixed random weighting r, the scalar L(x) = sum r . f(x) has
// dL/dx = backward(dy = r). check_gradient perturbs every element of `input` by +-step,
// re-evaluates L through `loss` (which must read the input's current contents) and compares
// (L(x+h) - L(x-h)) / 2h with the analytic gradient element by element:
//   |analytic - numeric| <= atol + rtol * max(|analytic|, |numeric|)
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/core/tensor.h"

namespace rp::test {

struct GradCheckTolerance {
  double step = 1e-6;
  double rtol = 1e-6;
  double atol = 1e-9;
};

// Checks every element; reports the first few mismatches as test failures.
void check_gradient(const std::string& what, const Tensor& input, const Tensor& analytic,
                    const std::function<double()>& loss, GradCheckTolerance tol = {});
// Checks only the listed elements (large inputs such as a network's parameters).
void check_gradient_at(const std::string& what, const Tensor& input, const Tensor& analytic,
                       const std::vector<std::int64_t>& elements,
                       const std::function<double()>& loss, GradCheckTolerance tol = {});

// sum r . y in double: the scalar loss most checks differentiate.
double weighted_sum(const Tensor& y, const Tensor& r);

}  // namespace rp::test
