#include "tests/support/test_support.h"

#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <random>

#include "engine/core/cuda_runtime.h"
#include "engine/ops/elementwise.h"

namespace rp::test {

std::string gpu_unavailable_reason() {
  const CudaRuntimeInfo info = cuda_runtime_info();
  if (info.devices.empty()) return "no usable CUDA device: " + info.why_none;
#if !RP_CUDA_KERNELS
  return "this build has no CUDA kernels (built without the CUDA backend)";
#endif
  // Nothing else turns into a skip: with a device and the kernels, a failing op fails its test.
  return "";
}

Context& gpu_context() {
  static Context ctx(ContextOptions{Device::cuda(0), 1234, 1});
  return ctx;
}

Context& cpu_context(int threads) {
  static std::map<int, std::unique_ptr<Context>> contexts;
  auto& slot = contexts[threads];
  if (!slot) slot = std::make_unique<Context>(ContextOptions{Device::cpu(), 1234, threads});
  return *slot;
}

Tensor random_tensor(const Shape& shape, DType dtype, std::uint64_t seed, double lo, double hi) {
  return random_tensor_avoiding(shape, dtype, seed, lo, hi, {}, 0.0);
}

Tensor random_tensor_avoiding(const Shape& shape, DType dtype, std::uint64_t seed, double lo,
                              double hi, const std::vector<double>& avoid, double gap) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  Tensor t = Tensor::empty(shape, dtype);
  for (std::int64_t i = 0; i < t.numel(); ++i) {
    double v = dist(gen);
    for (bool ok = false; !ok;) {
      ok = true;
      for (double a : avoid) {
        if (std::abs(v - a) < gap) ok = false;
      }
      if (!ok) v = dist(gen);
    }
    set_value(t, i, v);
  }
  return t;
}

std::vector<Shape> random_image_shapes(std::uint64_t seed, int count) {
  std::mt19937_64 gen(seed);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(gen); };
  std::vector<Shape> shapes;
  for (int i = 0; i < count; ++i) {
    shapes.push_back(Shape{i == 0 ? 1 : pick(1, 3), pick(1, 4), pick(1, 7), pick(1, 7)});
  }
  return shapes;
}

Tensor random_labels(std::int64_t n, std::int64_t k, std::uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::uniform_int_distribution<std::int32_t> dist(0, static_cast<std::int32_t>(k - 1));
  Tensor t = Tensor::empty(Shape{n}, DType::I32);
  for (std::int64_t i = 0; i < n; ++i) t.data<std::int32_t>()[i] = dist(gen);
  return t;
}

Tensor poisoned(const Shape& shape, DType dtype) {
  Tensor t = Tensor::empty(shape, dtype);
  for (std::int64_t i = 0; i < t.numel(); ++i) {
    set_value(t, i, std::numeric_limits<double>::quiet_NaN());
  }
  return t;
}

double value_at(const Tensor& t, std::int64_t i) {
  if (t.dtype() == DType::F64) return t.data<double>()[i];
  return static_cast<double>(t.data<float>()[i]);
}

void set_value(const Tensor& t, std::int64_t i, double v) {
  if (t.dtype() == DType::F64) {
    t.data<double>()[i] = v;
  } else {
    t.data<float>()[i] = static_cast<float>(v);
  }
}

std::vector<double> values(const Tensor& t) {
  std::vector<double> out(static_cast<std::size_t>(t.numel()));
  for (std::int64_t i = 0; i < t.numel(); ++i) out[static_cast<std::size_t>(i)] = value_at(t, i);
  return out;
}

Tensor clone(const Tensor& t) {
  return t.to(t.device());
}

Tensor to_dtype(const Tensor& t, DType dtype) {
  Tensor out = Tensor::empty(t.shape(), dtype);
  for (std::int64_t i = 0; i < t.numel(); ++i) set_value(out, i, value_at(t, i));
  return out;
}

void expect_all_finite(const Tensor& t, const std::string& what) {
  int reported = 0;
  for (std::int64_t i = 0; i < t.numel(); ++i) {
    const double v = value_at(t, i);
    if (!std::isfinite(v) && reported++ < 5) {
      ADD_FAILURE() << what << ": element " << i << " of " << t.str()
                    << " is not finite (unwritten?): " << v;
    }
  }
}

void expect_equal_exact(const Tensor& actual, const Tensor& expected, const std::string& what) {
  ASSERT_EQ(actual.shape(), expected.shape()) << what;
  int reported = 0;
  for (std::int64_t i = 0; i < actual.numel(); ++i) {
    const double a = value_at(actual, i), e = value_at(expected, i);
    if (!(a == e) && reported++ < 5) {
      ADD_FAILURE() << what << ": element " << i << " is " << a << ", expected exactly " << e;
    }
  }
}

void expect_close(const Tensor& actual, const std::vector<double>& expected, double rtol,
                  double atol, const std::string& what) {
  ASSERT_EQ(static_cast<std::size_t>(actual.numel()), expected.size()) << what;
  int reported = 0;
  for (std::int64_t i = 0; i < actual.numel(); ++i) {
    const double a = value_at(actual, i), e = expected[static_cast<std::size_t>(i)];
    const bool ok = std::abs(a - e) <= atol + rtol * std::abs(e);
    if (!ok && reported++ < 5) {
      ADD_FAILURE() << what << ": element " << i << " is " << a << ", expected " << e << " (|diff| "
                    << std::abs(a - e) << ", rtol " << rtol << ", atol " << atol << ")";
    }
  }
}

void expect_close(const Tensor& actual, const Tensor& expected, double rtol, double atol,
                  const std::string& what) {
  ASSERT_EQ(actual.shape(), expected.shape()) << what;
  expect_close(actual, values(expected), rtol, atol, what);
}

}  // namespace rp::test
