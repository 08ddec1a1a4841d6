// The CPU convolution's Winograd route (kernels/cpu/conv3x3_winograd.h), which the wide 3x3
// layers take in all three directions, against the definitions evaluated in double.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "engine/ops/conv2d.h"
#include "kernels/cpu/conv3x3_winograd.h"
#include "tests/support/test_support.h"

namespace rp {
namespace {

using i64 = std::int64_t;

struct Case {
  i64 n, c_in, h, w, c_out;
  std::string name() const {
    return "n" + std::to_string(n) + "_c" + std::to_string(c_in) + "_" + std::to_string(h) + "x" +
           std::to_string(w) + "_k" + std::to_string(c_out);
  }
  Shape x() const { return Shape{n, c_in, h, w}; }
  Shape wt() const { return Shape{c_out, c_in, 3, 3}; }
  Shape y() const { return Shape{n, c_out, h, w}; }
  Conv2dGeometry geometry() const {
    Conv2dGeometry g;
    g.n = n;
    g.c_in = c_in;
    g.h = h;
    g.w = w;
    g.c_out = c_out;
    g.kh = g.kw = 3;
    g.pad_h = g.pad_w = 1;
    return g;
  }
};

// ResNet-18's stages at full width (fewer images), with a batch that leaves a partial group
// (eleven images of 8x8 go in groups of eight), more output channels than input and the
// reverse, a non-square plane, and planes one tile high.
const Case kCases[] = {
    {11, 128, 8, 8, 128}, {3, 256, 4, 4, 256}, {2, 128, 6, 10, 192},
    {2, 192, 8, 8, 128},  {3, 128, 2, 8, 136},
};

// The three definitions, in double, with x, w and dy read from the tensors as they are.
struct Reference {
  std::vector<double> y, dx, dw;
};
Reference definitions(const Case& c, const Tensor& x, const Tensor& w, const Tensor& dy) {
  const auto X = test::values(x), W = test::values(w), DY = test::values(dy);
  Reference r{std::vector<double>(DY.size(), 0.0), std::vector<double>(X.size(), 0.0),
              std::vector<double>(W.size(), 0.0)};
  for (i64 n = 0; n < c.n; ++n)
    for (i64 k = 0; k < c.c_out; ++k)
      for (i64 p = 0; p < c.h; ++p)
        for (i64 q = 0; q < c.w; ++q) {
          const std::size_t yi = static_cast<std::size_t>(((n * c.c_out + k) * c.h + p) * c.w + q);
          for (i64 ch = 0; ch < c.c_in; ++ch)
            for (i64 i = 0; i < 3; ++i)
              for (i64 j = 0; j < 3; ++j) {
                const i64 ih = p - 1 + i, iw = q - 1 + j;
                if (ih < 0 || ih >= c.h || iw < 0 || iw >= c.w) continue;
                const std::size_t xi =
                    static_cast<std::size_t>(((n * c.c_in + ch) * c.h + ih) * c.w + iw);
                const std::size_t wi =
                    static_cast<std::size_t>(((k * c.c_in + ch) * 3 + i) * 3 + j);
                r.y[yi] += X[xi] * W[wi];
                r.dx[xi] += DY[yi] * W[wi];
                r.dw[wi] += DY[yi] * X[xi];
              }
        }
  return r;
}

// Largest |actual - expected| over the largest |expected|: the error of the whole result, in
// units of its scale.
double normwise_error(const Tensor& actual, const std::vector<double>& expected) {
  const std::vector<double> a = test::values(actual);
  double diff = 0, scale = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff = std::max(diff, std::abs(a[i] - expected[i]));
    scale = std::max(scale, std::abs(expected[i]));
  }
  return diff / scale;
}

std::vector<double> sum(const Tensor& t, const std::vector<double>& v) {
  std::vector<double> out = test::values(t);
  for (std::size_t i = 0; i < out.size(); ++i) out[i] += v[i];
  return out;
}

// Every case must take the route under test: a change to the route's thresholds that moved a
// case elsewhere would leave this file testing the GEMM.
TEST(Conv2dWinograd, TheCasesTakeTheWinogradRoute) {
  for (const Case& c : kCases) EXPECT_TRUE(cpu::conv3x3_winograd_suits(c.geometry())) << c.name();
  Case narrow{1, 64, 32, 32, 64};
  EXPECT_FALSE(cpu::conv3x3_winograd_suits(narrow.geometry())) << "64 channels: the direct route";
  Case odd{1, 128, 7, 8, 128};
  EXPECT_FALSE(cpu::conv3x3_winograd_suits(odd.geometry())) << "an odd height has no 2x2 tiles";
  Case strided = odd;
  strided.h = 8;
  Conv2dGeometry g = strided.geometry();
  g.stride_h = g.stride_w = 2;
  EXPECT_FALSE(cpu::conv3x3_winograd_suits(g)) << "stride 2";
}

// The forward, the data gradient and the weight gradient, assigned over NaN and accumulated
// onto random values, against the definitions, normwise. Measured on these cases: 1-6e-15 in
// double, 2-6e-7 in float - where im2col + GEMM (the route these shapes took before) is
// 2-5e-7 - so float is held to 1e-6, the bound a 1,152-term float sum meets either way.
TEST(Conv2dWinograd, AllDirectionsMatchTheDefinitions) {
  for (const Case& c : kCases) {
    for (DType dt : {DType::F64, DType::F32}) {
      SCOPED_TRACE(c.name() + " " + dtype_name(dt));
      Context& ctx = test::cpu_context();
      const Tensor x = test::random_tensor(c.x(), dt, 31), w = test::random_tensor(c.wt(), dt, 32);
      const Tensor dy = test::random_tensor(c.y(), dt, 33);
      const Reference ref = definitions(c, x, w, dy);
      const double bound = dt == DType::F64 ? 1e-13 : 1e-6;

      Tensor y = test::poisoned(c.y(), dt), dx = test::poisoned(c.x(), dt);
      Tensor dw = test::poisoned(c.wt(), dt);
      conv2d_forward(ctx, x, w, y, Conv2dParams::square(1, 1));
      conv2d_backward_data(ctx, dy, w, dx, Conv2dParams::square(1, 1), GradMode::Assign);
      conv2d_backward_filter(ctx, x, dy, dw, Conv2dParams::square(1, 1), GradMode::Assign);
      EXPECT_LE(normwise_error(y, ref.y), bound) << "forward";
      EXPECT_LE(normwise_error(dx, ref.dx), bound) << "data gradient";
      EXPECT_LE(normwise_error(dw, ref.dw), bound) << "weight gradient";

      Tensor dx_acc = test::random_tensor(c.x(), dt, 34),
             dw_acc = test::random_tensor(c.wt(), dt, 35);
      const std::vector<double> dx_want = sum(dx_acc, ref.dx), dw_want = sum(dw_acc, ref.dw);
      conv2d_backward_data(ctx, dy, w, dx_acc, Conv2dParams::square(1, 1), GradMode::Accumulate);
      conv2d_backward_filter(ctx, x, dy, dw_acc, Conv2dParams::square(1, 1), GradMode::Accumulate);
      EXPECT_LE(normwise_error(dx_acc, dx_want), bound) << "data gradient, accumulated";
      EXPECT_LE(normwise_error(dw_acc, dw_want), bound) << "weight gradient, accumulated";
    }
  }
}

// Threads take whole groups, so the forward and the data gradient are the same bits on any
// thread count; the weight gradient's per-chunk sums agree to rounding.
TEST(Conv2dWinograd, ThreadCountsAgree) {
  const Case c = kCases[0];
  for (DType dt : {DType::F32, DType::F64}) {
    SCOPED_TRACE(dtype_name(dt));
    const Tensor x = test::random_tensor(c.x(), dt, 41), w = test::random_tensor(c.wt(), dt, 42);
    const Tensor dy = test::random_tensor(c.y(), dt, 43);
    std::vector<Tensor> y, dx, dw;
    for (int threads : {1, 2, 3}) {
      Context& ctx = test::cpu_context(threads);
      y.push_back(test::poisoned(c.y(), dt));
      dx.push_back(test::poisoned(c.x(), dt));
      dw.push_back(test::poisoned(c.wt(), dt));
      conv2d_forward(ctx, x, w, y.back(), Conv2dParams::square(1, 1));
      conv2d_backward_data(ctx, dy, w, dx.back(), Conv2dParams::square(1, 1), GradMode::Assign);
      conv2d_backward_filter(ctx, x, dy, dw.back(), Conv2dParams::square(1, 1), GradMode::Assign);
    }
    for (std::size_t t = 1; t < 3; ++t) {
      const std::string threads = ", " + std::to_string(t + 1) + " threads against 1";
      test::expect_equal_exact(y[t], y[0], "forward" + threads);
      test::expect_equal_exact(dx[t], dx[0], "data gradient" + threads);
      test::expect_close(dw[t], dw[0], dt == DType::F32 ? 1e-4 : 1e-12,
                         dt == DType::F32 ? 1e-4 : 1e-12, "weight gradient" + threads);
    }
  }
}

}  // namespace
}  // namespace rp
