// Shared helpers for the tests: fresh random inputs (from std::mt19937_64, independent of the
// engine's own RNG), NaN-poisoned outputs, element access and comparisons.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/core/context.h"
#include "engine/core/tensor.h"

// Skips the calling test, with the reason, where the GPU tests cannot run.
#define RP_SKIP_WITHOUT_GPU()                                                         \
  do {                                                                                \
    if (const std::string why = ::rp::test::gpu_unavailable_reason(); !why.empty()) { \
      GTEST_SKIP() << why;                                                            \
    }                                                                                 \
  } while (0)

namespace rp::test {

// Why GPU tests cannot run here, or "" when they can: a CUDA device is visible and the build
// has CUDA kernels.
std::string gpu_unavailable_reason();
// The CUDA context of device 0 the GPU tests share (only where a GPU is available).
Context& gpu_context();

// A CPU context with a fixed thread count (2 unless told), so tests exercise the threaded
// paths on any machine.
Context& cpu_context(int threads = 2);

// Uniform in [lo, hi), deterministic in `seed`. F32 or F64.
Tensor random_tensor(const Shape& shape, DType dtype, std::uint64_t seed, double lo = -1.0,
                     double hi = 1.0);
// Uniform in [lo, hi) but at least `gap` away from every point in `avoid` (kinks of relu,
// clamp bounds), so finite differences never straddle a kink.
Tensor random_tensor_avoiding(const Shape& shape, DType dtype, std::uint64_t seed, double lo,
                              double hi, const std::vector<double>& avoid, double gap);
// `count` image-like shapes (N, C, H, W) with N in [1, 3], C in [1, 4], H and W in [1, 7] from
// a fixed seed; the first is always a batch of 1.
std::vector<Shape> random_image_shapes(std::uint64_t seed, int count);
// Integer labels in [0, k).
Tensor random_labels(std::int64_t n, std::int64_t k, std::uint64_t seed);
// Every element NaN: an output poisoned before the op runs shows any element left unwritten.
Tensor poisoned(const Shape& shape, DType dtype);

// Elements as double (F32 or F64 tensors on the CPU).
std::vector<double> values(const Tensor& t);
double value_at(const Tensor& t, std::int64_t i);
void set_value(const Tensor& t, std::int64_t i, double v);
Tensor clone(const Tensor& t);
Tensor to_dtype(const Tensor& t, DType dtype);  // F32 <-> F64 conversion (CPU)

// Assertions with element-level messages.
void expect_all_finite(const Tensor& t, const std::string& what);
void expect_equal_exact(const Tensor& actual, const Tensor& expected, const std::string& what);
void expect_close(const Tensor& actual, const Tensor& expected, double rtol, double atol,
                  const std::string& what);
void expect_close(const Tensor& actual, const std::vector<double>& expected, double rtol,
                  double atol, const std::string& what);

}  // namespace rp::test
