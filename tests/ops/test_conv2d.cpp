#include <gtest/gtest.h>

#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "engine/core/error.h"
#include "engine/ops/conv2d.h"
#include "tests/support/gradcheck.h"
#include "tests/support/test_support.h"

namespace rp {
namespace {

struct ConvCase {
  std::int64_t n, c_in, h, w, c_out, kh, kw, sh, sw, ph, pw;
  std::string name() const {
    return "n" + std::to_string(n) + "_c" + std::to_string(c_in) + "_" + std::to_string(h) + "x" +
           std::to_string(w) + "_k" + std::to_string(c_out) + "x" + std::to_string(kh) + "x" +
           std::to_string(kw) + "_s" + std::to_string(sh) + std::to_string(sw) + "_p" +
           std::to_string(ph) + std::to_string(pw);
  }
  Shape x() const { return Shape{n, c_in, h, w}; }
  Shape wt() const { return Shape{c_out, c_in, kh, kw}; }
  Conv2dParams params() const { return {sh, sw, ph, pw}; }
};

void PrintTo(const ConvCase& c, std::ostream* os) {
  *os << c.name();
}

// Odd sizes, stride 2, padding 0 and 1, batch 1, 1x1 (pointwise and strided shortcut),
// non-square kernels and asymmetric strides, then random shapes from a fixed seed.
std::vector<ConvCase> conv_cases() {
  std::vector<ConvCase> cases = {
      {1, 3, 5, 7, 4, 3, 3, 1, 1, 1, 1},
      {2, 2, 6, 6, 3, 3, 3, 2, 2, 1, 1},
      {2, 3, 7, 5, 2, 3, 3, 2, 2, 0, 0},
      {3, 4, 4, 5, 2, 1, 1, 1, 1, 0, 0},
      {2, 3, 5, 5, 4, 1, 1, 2, 2, 0, 0},
      {1, 2, 6, 5, 3, 2, 3, 1, 2, 1, 0},
      {1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0},
      {2, 1, 3, 3, 2, 3, 3, 1, 1, 1, 1},
      // Stride 1 with the output as wide as the input (im2col's one-copy path): 5x5 shifts by
      // two columns, one-row and one-column images, a 1x3 kernel, an image narrower than the
      // shift.
      {2, 2, 4, 6, 3, 5, 5, 1, 1, 2, 2},
      {1, 2, 1, 4, 2, 3, 3, 1, 1, 1, 1},
      {1, 2, 5, 1, 2, 3, 3, 1, 1, 1, 1},
      {2, 3, 4, 4, 2, 1, 3, 1, 1, 0, 1},
      {1, 1, 3, 2, 2, 5, 5, 1, 1, 2, 2},
      // Wider rows, as CIFAR's, which take the direct 3x3 route (conv3x3_direct.h): 16, 24 and
      // 32 columns, rows of 21 and 17 (a partial pixel block and a partial packet), blocks of
      // 1 to 4 output channels (5 = 4 + 1, 6 = 4 + 2, 7 = 4 + 3), one input channel; 33 output
      // channels take the direct route in every direction, 65 the GEMM in all but the data
      // gradient.
      {2, 3, 4, 16, 5, 3, 3, 1, 1, 1, 1},
      {1, 2, 3, 21, 6, 3, 3, 1, 1, 1, 1},
      {1, 2, 2, 17, 33, 3, 3, 1, 1, 1, 1},
      {1, 3, 2, 32, 4, 3, 3, 1, 1, 1, 1},
      {2, 1, 3, 24, 7, 3, 3, 1, 1, 1, 1},
      {1, 2, 2, 16, 65, 3, 3, 1, 1, 1, 1},
      // Rows of 8 to 15 pixels take the direct forward and data gradient in tiles of 8
      // channels x 8 pixels: a whole block, a partial pixel block (13 = 8 + 5), a partial block
      // of channels (9 = 8 + 1), two images (the GEMM's weight gradient groups them); 33
      // output channels take the GEMM forward there, and the direct data gradient.
      {2, 3, 3, 8, 9, 3, 3, 1, 1, 1, 1},
      {1, 2, 2, 13, 8, 3, 3, 1, 1, 1, 1},
      {1, 2, 2, 9, 33, 3, 3, 1, 1, 1, 1},
      // im2col and col2im through padded planes at other strides: stride 3 (the general
      // gather), stride 2 with a padding of 2, and ResNet's downsampling 3x3 on an 8x8 image
      // (4x4 outputs: three images share one product).
      {2, 2, 7, 8, 3, 3, 3, 3, 3, 1, 1},
      {1, 2, 9, 11, 3, 5, 5, 2, 2, 2, 2},
      {3, 2, 8, 8, 3, 3, 3, 2, 2, 1, 1},
      // Output rows of 8 and 4 on the GEMM route, whose im2col and col2im unroll those widths:
      // stride 2 from 16x16, stride 1 on rows of 8 with more channels than the direct route
      // takes, a strided 1x1 shortcut.
      {2, 3, 16, 16, 5, 3, 3, 2, 2, 1, 1},
      {2, 2, 8, 8, 40, 3, 3, 1, 1, 1, 1},
      {2, 3, 8, 8, 4, 1, 1, 2, 2, 0, 0},
  };
  std::mt19937 gen(2024);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(gen); };
  for (int i = 0; i < 4; ++i) {
    ConvCase c{pick(1, 3), pick(1, 4), pick(3, 9), pick(3, 9), pick(1, 4), pick(1, 3),
               pick(1, 3), pick(1, 2), pick(1, 2), pick(0, 1), pick(0, 1)};
    cases.push_back(c);
  }
  return cases;
}

// Direct evaluation of the definition, in double.
std::vector<double> naive_conv(const ConvCase& c, const Tensor& x, const Tensor& w) {
  const auto X = test::values(x), W = test::values(w);
  const std::int64_t ho = (c.h + 2 * c.ph - c.kh) / c.sh + 1,
                     wo = (c.w + 2 * c.pw - c.kw) / c.sw + 1;
  std::vector<double> y(static_cast<std::size_t>(c.n * c.c_out * ho * wo), 0.0);
  for (std::int64_t n = 0; n < c.n; ++n)
    for (std::int64_t k = 0; k < c.c_out; ++k)
      for (std::int64_t p = 0; p < ho; ++p)
        for (std::int64_t q = 0; q < wo; ++q) {
          double s = 0;
          for (std::int64_t ch = 0; ch < c.c_in; ++ch)
            for (std::int64_t i = 0; i < c.kh; ++i)
              for (std::int64_t j = 0; j < c.kw; ++j) {
                const std::int64_t ih = p * c.sh - c.ph + i, iw = q * c.sw - c.pw + j;
                if (ih < 0 || ih >= c.h || iw < 0 || iw >= c.w) continue;
                s += X[static_cast<std::size_t>(((n * c.c_in + ch) * c.h + ih) * c.w + iw)] *
                     W[static_cast<std::size_t>(((k * c.c_in + ch) * c.kh + i) * c.kw + j)];
              }
          y[static_cast<std::size_t>(((n * c.c_out + k) * ho + p) * wo + q)] = s;
        }
  return y;
}

// The gradient checks' loss, sum(conv(x, w) * r), is linear in x and in w, so the central
// difference has no truncation error and a larger step than the default 1e-6 only shrinks its
// rounding error (about |y| x 1e-16 / step per output the element touches): at 1e-6 a weight
// with a small gradient (1e-3) sat at the bound's edge, which side depending on the build's
// rounding, and an input of a stride-2 16x16 case passed it. The bounds are the defaults.
constexpr test::GradCheckTolerance kLinearLoss{1e-3, 1e-6, 1e-9};

class Conv2d : public ::testing::TestWithParam<ConvCase> {};

TEST_P(Conv2d, ForwardMatchesTheDefinition) {
  const ConvCase c = GetParam();
  for (DType dt : {DType::F64, DType::F32}) {
    Tensor x = test::random_tensor(c.x(), dt, 1), w = test::random_tensor(c.wt(), dt, 2);
    Tensor y = test::poisoned(conv2d_output_shape(c.x(), c.wt(), c.params()), dt);
    conv2d_forward(test::cpu_context(), x, w, y, c.params());
    const double tol = dt == DType::F64 ? 1e-12 : 1e-5;
    test::expect_close(y, naive_conv(c, x, w), tol, tol, "y " + std::string(dtype_name(dt)));
  }
}

TEST_P(Conv2d, GradCheckData) {
  const ConvCase c = GetParam();
  Context& ctx = test::cpu_context();
  Tensor x = test::random_tensor(c.x(), DType::F64, 3),
         w = test::random_tensor(c.wt(), DType::F64, 4);
  const Shape ys = conv2d_output_shape(c.x(), c.wt(), c.params());
  Tensor r = test::random_tensor(ys, DType::F64, 5), y = Tensor::empty(ys, DType::F64);
  Tensor dx = test::poisoned(c.x(), DType::F64);
  conv2d_backward_data(ctx, r, w, dx, c.params(), GradMode::Assign);
  test::check_gradient(
      "conv2d dx", x, dx,
      [&] {
        conv2d_forward(ctx, x, w, y, c.params());
        return test::weighted_sum(y, r);
      },
      kLinearLoss);
}

TEST_P(Conv2d, GradCheckFilter) {
  const ConvCase c = GetParam();
  Context& ctx = test::cpu_context();
  Tensor x = test::random_tensor(c.x(), DType::F64, 6),
         w = test::random_tensor(c.wt(), DType::F64, 7);
  const Shape ys = conv2d_output_shape(c.x(), c.wt(), c.params());
  Tensor r = test::random_tensor(ys, DType::F64, 8), y = Tensor::empty(ys, DType::F64);
  Tensor dw = test::poisoned(c.wt(), DType::F64);
  conv2d_backward_filter(ctx, x, r, dw, c.params(), GradMode::Assign);
  test::check_gradient(
      "conv2d dw", w, dw,
      [&] {
        conv2d_forward(ctx, x, w, y, c.params());
        return test::weighted_sum(y, r);
      },
      kLinearLoss);
}

TEST_P(Conv2d, AccumulateAddsToTheOutput) {
  const ConvCase c = GetParam();
  Context& ctx = test::cpu_context();
  Tensor x = test::random_tensor(c.x(), DType::F64, 9),
         w = test::random_tensor(c.wt(), DType::F64, 10);
  Tensor dy = test::random_tensor(conv2d_output_shape(c.x(), c.wt(), c.params()), DType::F64, 11);
  Tensor dx = test::poisoned(c.x(), DType::F64), dw = test::poisoned(c.wt(), DType::F64);
  conv2d_backward_data(ctx, dy, w, dx, c.params(), GradMode::Assign);
  conv2d_backward_filter(ctx, x, dy, dw, c.params(), GradMode::Assign);
  test::expect_all_finite(dx, "dx assigned over poison");
  test::expect_all_finite(dw, "dw assigned over poison");
  Tensor dx2 = Tensor::zeros(c.x(), DType::F64), dw2 = Tensor::zeros(c.wt(), DType::F64);
  for (int i = 0; i < 2; ++i) {
    conv2d_backward_data(ctx, dy, w, dx2, c.params(), GradMode::Accumulate);
    conv2d_backward_filter(ctx, x, dy, dw2, c.params(), GradMode::Accumulate);
  }
  std::vector<double> twice_dx = test::values(dx), twice_dw = test::values(dw);
  for (double& v : twice_dx) v *= 2;
  for (double& v : twice_dw) v *= 2;
  test::expect_close(dx2, twice_dx, 1e-12, 1e-12, "dx accumulated twice");
  test::expect_close(dw2, twice_dw, 1e-12, 1e-12, "dw accumulated twice");
}

TEST_P(Conv2d, ThreadCountDoesNotChangeResults) {
  const ConvCase c = GetParam();
  Tensor x = test::random_tensor(c.x(), DType::F64, 12),
         w = test::random_tensor(c.wt(), DType::F64, 13);
  const Shape ys = conv2d_output_shape(c.x(), c.wt(), c.params());
  Tensor dy = test::random_tensor(ys, DType::F64, 14);
  Tensor y1 = test::poisoned(ys, DType::F64), y3 = test::poisoned(ys, DType::F64);
  Tensor dw1 = test::poisoned(c.wt(), DType::F64), dw3 = test::poisoned(c.wt(), DType::F64);
  conv2d_forward(test::cpu_context(1), x, w, y1, c.params());
  conv2d_forward(test::cpu_context(3), x, w, y3, c.params());
  conv2d_backward_filter(test::cpu_context(1), x, dy, dw1, c.params(), GradMode::Assign);
  conv2d_backward_filter(test::cpu_context(3), x, dy, dw3, c.params(), GradMode::Assign);
  test::expect_close(y3, y1, 1e-13, 1e-13, "y, 3 threads vs 1");
  test::expect_close(dw3, dw1, 1e-13, 1e-13, "dw, 3 threads vs 1");
}

// Batches big enough that the images are split across threads (the shapes above fit in one
// chunk): a CIFAR ResNet's first-stage 3x3 layer (the direct route in every direction), a wider
// one (GEMM forward, direct gradients) and a last-stage one (whose 48 images share GEMMs in
// three groups of 16). The forward is checked against the definition; threads take whole
// images or whole groups, so any thread count gives the same bits for the forward and data
// gradient; the weight gradient's partial sums change with the chunks, so it agrees to
// rounding.
TEST(Conv2dThreads, LargeBatchesSplitAcrossThreadsAgree) {
  const ConvCase cases[] = {{16, 4, 32, 32, 8, 3, 3, 1, 1, 1, 1},
                            {16, 8, 16, 16, 40, 3, 3, 1, 1, 1, 1},
                            {48, 16, 4, 4, 32, 3, 3, 1, 1, 1, 1}};
  for (const ConvCase& c : cases) {
    for (DType dt : {DType::F32, DType::F64}) {
      SCOPED_TRACE(c.name() + " " + dtype_name(dt));
      Tensor x = test::random_tensor(c.x(), dt, 21), w = test::random_tensor(c.wt(), dt, 22);
      const Shape ys = conv2d_output_shape(c.x(), c.wt(), c.params());
      Tensor dy = test::random_tensor(ys, dt, 23);
      std::vector<Tensor> y, dx, dx_acc, dw;
      for (int threads : {1, 2, 3}) {
        Context& ctx = test::cpu_context(threads);
        y.push_back(test::poisoned(ys, dt));
        dx.push_back(test::poisoned(c.x(), dt));
        dx_acc.push_back(test::random_tensor(c.x(), dt, 24));
        dw.push_back(test::poisoned(c.wt(), dt));
        conv2d_forward(ctx, x, w, y.back(), c.params());
        conv2d_backward_data(ctx, dy, w, dx.back(), c.params(), GradMode::Assign);
        conv2d_backward_data(ctx, dy, w, dx_acc.back(), c.params(), GradMode::Accumulate);
        conv2d_backward_filter(ctx, x, dy, dw.back(), c.params(), GradMode::Assign);
      }
      const double tol = dt == DType::F32 ? 1e-5 : 1e-12;
      test::expect_close(y[0], naive_conv(c, x, w), tol, tol, "forward against the definition");
      for (std::size_t t = 1; t < 3; ++t) {
        const std::string threads = ", " + std::to_string(t + 1) + " threads against 1";
        test::expect_equal_exact(y[t], y[0], "forward" + threads);
        test::expect_equal_exact(dx[t], dx[0], "data gradient" + threads);
        test::expect_equal_exact(dx_acc[t], dx_acc[0], "accumulated data gradient" + threads);
        test::expect_close(dw[t], dw[0], dt == DType::F32 ? 1e-4 : 1e-12, tol,
                           "weight gradient" + threads);
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, Conv2d, ::testing::ValuesIn(conv_cases()),
                         [](const auto& p) { return p.param.name(); });

TEST(Conv2dShape, OutputShapeAndRefusals) {
  EXPECT_EQ(
      conv2d_output_shape(Shape{2, 3, 32, 32}, Shape{64, 3, 3, 3}, Conv2dParams::square(1, 1)),
      (Shape{2, 64, 32, 32}));
  EXPECT_EQ(
      conv2d_output_shape(Shape{2, 64, 32, 32}, Shape{128, 64, 1, 1}, Conv2dParams::square(2, 0)),
      (Shape{2, 128, 16, 16}));
  EXPECT_THROW(conv2d_output_shape(Shape{2, 3, 8, 8}, Shape{4, 5, 3, 3}, {}), Error);  // C_in
  EXPECT_THROW(conv2d_output_shape(Shape{2, 3, 2, 2}, Shape{4, 3, 3, 3}, {}), Error);  // too small
  EXPECT_THROW(conv2d_output_shape(Shape{2, 3, 8, 8}, Shape{4, 3, 3, 3}, {0, 1, 0, 0}), Error);
  EXPECT_THROW(conv2d_output_shape(Shape{2, 3, 8, 8}, Shape{4, 3, 3, 3}, {1, 1, -1, 0}), Error);
}

}  // namespace
}  // namespace rp
