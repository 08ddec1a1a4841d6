// Global average pooling and max pooling against direct evaluations, finite differences in
// double, f32 against f64, and bad arguments refused before anything is written.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "engine/core/error.h"
#include "engine/ops/pool.h"
#include "tests/support/gradcheck.h"
#include "tests/support/test_support.h"

namespace rp {
namespace {

const Shape kShapes[] = {Shape{1, 1, 1, 1}, Shape{2, 3, 4, 4}, Shape{3, 5, 3, 7},
                         Shape{2, 512, 4, 4}};

TEST(GlobalAvgPool, ForwardIsThePlaneMean) {
  for (const Shape& s : kShapes) {
    Tensor x = test::random_tensor(s, DType::F32, 1);
    Tensor y = test::poisoned(Shape{s[0], s[1]}, DType::F32);
    global_avg_pool_forward(test::cpu_context(), x, y);
    const std::int64_t hw = s[2] * s[3];
    std::vector<double> expected(static_cast<std::size_t>(s[0] * s[1]), 0.0);
    for (std::int64_t i = 0; i < x.numel(); ++i) {
      expected[static_cast<std::size_t>(i / hw)] += test::value_at(x, i) / static_cast<double>(hw);
    }
    test::expect_close(y, expected, 1e-6, 1e-7, "pool " + s.str());
  }
}

TEST(GlobalAvgPool, GradCheck) {
  Context& ctx = test::cpu_context();
  std::vector<Shape> shapes = test::random_image_shapes(50, 4);
  shapes.push_back(Shape{2, 3, 4, 4});
  for (const Shape& s : shapes) {
    Tensor x = test::random_tensor(s, DType::F64, 2);
    const Shape ys{s[0], s[1]};
    Tensor r = test::random_tensor(ys, DType::F64, 3), y = Tensor::empty(ys, DType::F64);
    Tensor dx = test::poisoned(s, DType::F64);
    global_avg_pool_backward(ctx, r, dx, GradMode::Assign);
    test::check_gradient("pool dx " + s.str(), x, dx, [&] {
      global_avg_pool_forward(ctx, x, y);
      return test::weighted_sum(y, r);
    });
    Tensor twice = Tensor::zeros(s, DType::F64);
    global_avg_pool_backward(ctx, r, twice, GradMode::Accumulate);
    global_avg_pool_backward(ctx, r, twice, GradMode::Accumulate);
    std::vector<double> expected = test::values(dx);
    for (double& v : expected) v *= 2;
    test::expect_close(twice, expected, 1e-15, 0, "pool dx x2");
  }
}

struct MaxPoolCase {
  Shape x;
  MaxPool2dParams p;
};

std::string text(const MaxPoolCase& c) {
  const MaxPool2dParams& p = c.p;
  return c.x.str() + " k" + std::to_string(p.kernel_h) + "x" + std::to_string(p.kernel_w) + " s" +
         std::to_string(p.stride_h) + "x" + std::to_string(p.stride_w) + " p" +
         std::to_string(p.pad_h) + "x" + std::to_string(p.pad_w);
}

// torchvision's stem (3/2/1) on odd and even sizes, overlapping and disjoint windows, a
// rectangular kernel with unequal strides and pads, windows the size of the padded input.
const MaxPoolCase kMaxPoolCases[] = {
    {Shape{2, 3, 8, 8}, MaxPool2dParams::square(3, 2, 1)},
    {Shape{1, 2, 7, 9}, MaxPool2dParams::square(3, 2, 1)},
    {Shape{3, 2, 6, 6}, MaxPool2dParams::square(2, 2, 0)},
    {Shape{2, 2, 5, 5}, MaxPool2dParams::square(3, 1, 1)},
    {Shape{1, 3, 7, 6}, MaxPool2dParams{3, 2, 2, 1, 1, 0}},
    {Shape{2, 1, 1, 1}, MaxPool2dParams::square(3, 2, 1)},
    {Shape{1, 2, 4, 4}, MaxPool2dParams::square(5, 3, 2)},
    {Shape{2, 4, 16, 16}, MaxPool2dParams::square(3, 2, 1)},
};

// The window of output (p, q) position by position, padding as -inf, scanned rows then columns:
// y = the first maximum (NaN wins and stays), argmax its in-plane index.
struct Direct {
  std::vector<double> y;
  std::vector<std::int32_t> argmax;
};
Direct direct_max_pool(const Tensor& x, const MaxPool2dParams& p) {
  const std::int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  const std::int64_t ho = (h + 2 * p.pad_h - p.kernel_h) / p.stride_h + 1;
  const std::int64_t wo = (w + 2 * p.pad_w - p.kernel_w) / p.stride_w + 1;
  Direct d;
  for (std::int64_t plane = 0; plane < n * c; ++plane) {
    for (std::int64_t oh = 0; oh < ho; ++oh) {
      for (std::int64_t ow = 0; ow < wo; ++ow) {
        double best = -std::numeric_limits<double>::infinity();
        std::int64_t at = -1;
        for (std::int64_t i = 0; i < p.kernel_h; ++i) {
          for (std::int64_t j = 0; j < p.kernel_w; ++j) {
            const std::int64_t r = oh * p.stride_h - p.pad_h + i, s = ow * p.stride_w - p.pad_w + j;
            const bool inside = r >= 0 && r < h && s >= 0 && s < w;
            if (!inside) continue;  // -inf: never greater, never NaN
            const double v = test::value_at(x, plane * h * w + r * w + s);
            if (at < 0 || v > best || std::isnan(v)) {
              best = v;
              at = r * w + s;
            }
          }
        }
        d.y.push_back(best);
        d.argmax.push_back(static_cast<std::int32_t>(at));
      }
    }
  }
  return d;
}

// Distinct values at least 1/numel apart, shuffled: no ties, and no finite-difference step can
// change a window's winner.
Tensor distinct_values(const Shape& s, DType dtype, std::uint64_t seed) {
  std::vector<double> v(static_cast<std::size_t>(s.numel()));
  std::iota(v.begin(), v.end(), 0.0);
  std::mt19937_64 gen(seed);
  std::shuffle(v.begin(), v.end(), gen);
  Tensor t = Tensor::empty(s, dtype);
  for (std::size_t i = 0; i < v.size(); ++i) {
    test::set_value(t, static_cast<std::int64_t>(i), 2 * v[i] / static_cast<double>(v.size()) - 1);
  }
  return t;
}

Tensor poisoned_indices(const Shape& s) {
  Tensor t = Tensor::empty(s, DType::I32);
  std::fill(t.data<std::int32_t>(), t.data<std::int32_t>() + t.numel(), -7);
  return t;
}

TEST(MaxPool, OutputShapeIsPyTorchs) {
  const MaxPool2dParams stem = MaxPool2dParams::square(3, 2, 1);
  EXPECT_EQ(max_pool2d_output_shape(Shape{2, 64, 112, 112}, stem), (Shape{2, 64, 56, 56}));
  EXPECT_EQ(max_pool2d_output_shape(Shape{1, 8, 16, 16}, stem), (Shape{1, 8, 8, 8}));
  EXPECT_EQ(max_pool2d_output_shape(Shape{1, 8, 7, 7}, stem), (Shape{1, 8, 4, 4}));
  EXPECT_EQ(max_pool2d_output_shape(Shape{1, 1, 7, 7}, MaxPool2dParams::square(2, 2, 0)),
            (Shape{1, 1, 3, 3}));  // floor, not ceil
  EXPECT_EQ(max_pool2d_output_shape(Shape{1, 1, 1, 1}, stem), (Shape{1, 1, 1, 1}));
}

TEST(MaxPool, ForwardIsTheWindowMaximumAndItsIndex) {
  std::uint64_t seed = 40;
  for (DType dt : {DType::F32, DType::F64}) {
    for (const MaxPoolCase& c : kMaxPoolCases) {
      Tensor x = test::random_tensor(c.x, dt, ++seed);
      const Shape out = max_pool2d_output_shape(c.x, c.p);
      Tensor y = test::poisoned(out, dt), argmax = poisoned_indices(out);
      max_pool2d_forward(test::cpu_context(), x, y, argmax, c.p);
      const Direct d = direct_max_pool(x, c.p);
      test::expect_close(y, d.y, 0, 0, "max_pool2d y " + text(c));
      EXPECT_EQ(argmax.to_vector<std::int32_t>(), d.argmax) << text(c);
    }
  }
}

// PyTorch's CPU kernel: ties keep the first maximum in window order; a NaN propagates (its
// index kept); -inf everywhere leaves the first pixel of the window.
TEST(MaxPool, TiesNaNAndInfinityAsPyTorch) {
  const double inf = std::numeric_limits<double>::infinity(), nan = std::nan("");
  // One 4x4 plane, 2x2 windows stride 2: [ties, NaN after the max, -inf only, NaN first].
  const std::vector<double> plane = {0.5,  0.2,  0.1, nan,  //
                                     0.5,  0.5,  0.9, 0.3,  //
                                     -inf, -inf, nan, 0.7,  //
                                     -inf, -inf, 0.2, 0.8};
  for (DType dt : {DType::F32, DType::F64}) {
    Tensor x = Tensor::empty(Shape{1, 1, 4, 4}, dt);
    for (std::size_t i = 0; i < plane.size(); ++i) {
      test::set_value(x, static_cast<std::int64_t>(i), plane[i]);
    }
    Tensor y = test::poisoned(Shape{1, 1, 2, 2}, dt), argmax = poisoned_indices(Shape{1, 1, 2, 2});
    max_pool2d_forward(test::cpu_context(), x, y, argmax, MaxPool2dParams::square(2, 2, 0));
    EXPECT_EQ(test::value_at(y, 0), 0.5);
    EXPECT_TRUE(std::isnan(test::value_at(y, 1)));
    EXPECT_EQ(test::value_at(y, 2), -inf);
    EXPECT_TRUE(std::isnan(test::value_at(y, 3)));
    EXPECT_EQ(argmax.to_vector<std::int32_t>(), (std::vector<std::int32_t>{0, 3, 8, 10}));
  }
}

TEST(MaxPool, GradCheckAndBothModes) {
  Context& ctx = test::cpu_context();
  std::uint64_t seed = 60;
  for (const MaxPoolCase& c : kMaxPoolCases) {
    Tensor x = distinct_values(c.x, DType::F64, ++seed);
    const Shape out = max_pool2d_output_shape(c.x, c.p);
    Tensor y = Tensor::empty(out, DType::F64), argmax = Tensor::empty(out, DType::I32);
    Tensor r = test::random_tensor(out, DType::F64, ++seed);
    max_pool2d_forward(ctx, x, y, argmax, c.p);
    Tensor dx = test::poisoned(c.x, DType::F64);
    max_pool2d_backward(ctx, r, argmax, dx, c.p, GradMode::Assign);
    test::check_gradient("max_pool2d dx " + text(c), x, dx, [&] {
      max_pool2d_forward(ctx, x, y, argmax, c.p);
      return test::weighted_sum(y, r);
    });
    Tensor twice = test::random_tensor(c.x, DType::F64, ++seed);
    std::vector<double> expected = test::values(twice);
    for (std::size_t i = 0; i < expected.size(); ++i) expected[i] += 2 * test::value_at(dx, i);
    max_pool2d_backward(ctx, r, argmax, twice, c.p, GradMode::Accumulate);
    max_pool2d_backward(ctx, r, argmax, twice, c.p, GradMode::Accumulate);
    test::expect_close(twice, expected, 1e-15, 1e-15, "max_pool2d dx += x2 " + text(c));
  }
}

// Overlapping windows (3/2/1) share pixels: a pixel that wins two windows gets both gradients.
TEST(MaxPool, OverlappingWindowsAddTheirGradients) {
  Tensor x = Tensor::zeros(Shape{1, 1, 3, 3}, DType::F64);
  test::set_value(x, 4, 1.0);  // the centre wins all four windows
  const MaxPool2dParams p = MaxPool2dParams::square(3, 2, 1);
  Tensor y = Tensor::empty(Shape{1, 1, 2, 2}, DType::F64);
  Tensor argmax = Tensor::empty(Shape{1, 1, 2, 2}, DType::I32);
  max_pool2d_forward(test::cpu_context(), x, y, argmax, p);
  Tensor dy = Tensor::from_vector(std::vector<double>{1, 2, 4, 8}, Shape{1, 1, 2, 2});
  Tensor dx = test::poisoned(Shape{1, 1, 3, 3}, DType::F64);
  max_pool2d_backward(test::cpu_context(), dy, argmax, dx, p, GradMode::Assign);
  test::expect_close(dx, std::vector<double>{0, 0, 0, 0, 15, 0, 0, 0, 0}, 0, 0, "centre");
}

TEST(MaxPool, Float32MatchesFloat64) {
  Context& ctx = test::cpu_context();
  std::uint64_t seed = 80;
  for (const MaxPoolCase& c : kMaxPoolCases) {
    Tensor x64 = test::random_tensor(c.x, DType::F64, ++seed);
    Tensor x32 = test::to_dtype(x64, DType::F32);
    const Shape out = max_pool2d_output_shape(c.x, c.p);
    Tensor y32 = Tensor::empty(out, DType::F32), y64 = Tensor::empty(out, DType::F64);
    Tensor a32 = Tensor::empty(out, DType::I32), a64 = Tensor::empty(out, DType::I32);
    max_pool2d_forward(ctx, x32, y32, a32, c.p);
    max_pool2d_forward(ctx, test::to_dtype(x32, DType::F64), y64, a64, c.p);
    test::expect_close(y32, test::values(y64), 0, 0, "max_pool2d f32 vs f64 " + text(c));
    EXPECT_EQ(a32.to_vector<std::int32_t>(), a64.to_vector<std::int32_t>()) << text(c);
    Tensor dy64 = test::random_tensor(out, DType::F64, ++seed);
    Tensor dx32 = Tensor::empty(c.x, DType::F32), dx64 = Tensor::empty(c.x, DType::F64);
    max_pool2d_backward(ctx, test::to_dtype(dy64, DType::F32), a32, dx32, c.p, GradMode::Assign);
    max_pool2d_backward(ctx, dy64, a64, dx64, c.p, GradMode::Assign);
    test::expect_close(dx32, test::values(dx64), 1e-6, 1e-7, "max_pool2d dx f32 vs f64 " + text(c));
  }
}

TEST(MaxPool, BadArgumentsAreRefusedBeforeAnyWrite) {
  Context& ctx = test::cpu_context();
  const MaxPool2dParams stem = MaxPool2dParams::square(3, 2, 1);
  const Shape xs{2, 3, 8, 8}, ys{2, 3, 4, 4};
  Tensor x = test::random_tensor(xs, DType::F32, 90);
  Tensor y = test::poisoned(ys, DType::F32), argmax = poisoned_indices(ys);
  auto expect_refused = [&](const std::function<void()>& call, const std::string& has) {
    try {
      call();
      ADD_FAILURE() << "not refused: " << has;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(has), std::string::npos) << e.what();
    }
  };
  expect_refused(
      [&] {
        max_pool2d_forward(ctx, x, test::poisoned(Shape{2, 3, 8, 8}, DType::F32), argmax, stem);
      },
      "y: expected shape");
  expect_refused([&] { max_pool2d_forward(ctx, x, y, Tensor::empty(ys, DType::F32), stem); },
                 "argmax: expected i32");
  expect_refused([&] { max_pool2d_forward(ctx, x, test::poisoned(ys, DType::F64), argmax, stem); },
                 "dtype");
  expect_refused([&] { max_pool2d_forward(ctx, x.slice(0, 0), y, argmax, stem); }, "empty");
  expect_refused(
      [&] {
        max_pool2d_forward(ctx, test::random_tensor(Shape{3, 8, 8}, DType::F32, 1), y, argmax,
                           stem);
      },
      "x: expected 4-D");
  expect_refused([&] { max_pool2d_forward(ctx, x, y, argmax, MaxPool2dParams::square(3, 2, 2)); },
                 "pad must be in [0, kernel / 2]");
  expect_refused([&] { max_pool2d_forward(ctx, x, y, argmax, MaxPool2dParams::square(0, 2, 0)); },
                 "kernel must be >= 1");
  expect_refused([&] { max_pool2d_forward(ctx, x, y, argmax, MaxPool2dParams::square(3, 0, 1)); },
                 "stride must be >= 1");
  expect_refused([&] { max_pool2d_forward(ctx, x, y, argmax, MaxPool2dParams::square(9, 1, 0)); },
                 "does not fit");
  expect_refused([&] { max_pool2d_forward(ctx, y, y, argmax, MaxPool2dParams::square(1, 1, 0)); },
                 "y must not share memory with x");
  expect_refused(
      [&] {
        max_pool2d_backward(ctx, test::poisoned(Shape{2, 3, 3, 3}, DType::F32), argmax, x, stem,
                            GradMode::Assign);
      },
      "dy: expected shape");
  expect_refused(
      [&] {
        max_pool2d_backward(ctx, y, argmax, x, MaxPool2dParams::square(3, 1, 1), GradMode::Assign);
      },
      "dy: expected shape");
  test::expect_close(x, test::values(test::random_tensor(xs, DType::F32, 90)), 0, 0, "x intact");
  for (double v : test::values(y)) ASSERT_TRUE(std::isnan(v)) << "y written by a refused call";
  for (std::int32_t v : argmax.to_vector<std::int32_t>()) ASSERT_EQ(v, -7) << "argmax written";
  EXPECT_THROW(max_pool2d_output_shape(Shape{8, 8}, stem), Error);
}

}  // namespace
}  // namespace rp
