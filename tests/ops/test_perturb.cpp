#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "engine/core/error.h"
#include "engine/ops/perturb.h"
#include "tests/support/test_support.h"

namespace rp {
namespace {

// Per-example sizes around common vector widths (4 and 8 floats), odd ones, one-pixel images
// (1x1x1, 3x1x1) and a CIFAR image (3x32x32).
const Shape kShapes[] = {Shape{1, 1, 1, 1}, Shape{4, 3, 1, 1}, Shape{3, 1, 2, 2},  Shape{2, 5},
                         Shape{5, 8},       Shape{3, 17},      Shape{2, 3, 32, 32}};

double norm_of(const Tensor& t, std::int64_t i, const Tensor* minus = nullptr) {
  const std::int64_t d = t.shape().inner_numel();
  double sq = 0;
  for (std::int64_t j = i * d; j < (i + 1) * d; ++j) {
    const double v = test::value_at(t, j) - (minus ? test::value_at(*minus, j) : 0.0);
    sq += v * v;
  }
  return std::sqrt(sq);
}

float clamp01f(float v) {
  return v < 0.f ? 0.f : (v > 1.f ? 1.f : v);
}

// Pixel images in [0, 1] and a gradient with exact zeros sprinkled in.
Tensor pixels(const Shape& s, std::uint64_t seed) {
  return test::random_tensor(s, DType::F32, seed, 0, 1);
}
Tensor gradient_with_zeros(const Shape& s, std::uint64_t seed) {
  Tensor g = test::random_tensor(s, DType::F32, seed);
  for (std::int64_t i = 0; i < g.numel(); i += 3) test::set_value(g, i, 0.0);
  return g;
}

TEST(PgdStepLinf, ExactClosedForm) {
  for (const Shape& s : kShapes) {
    for (double alpha : {2.0 / 255, -0.01}) {
      Tensor x = pixels(s, 1), g = gradient_with_zeros(s, 2), out = test::poisoned(s, DType::F32);
      pgd_step_linf(test::cpu_context(), x, g, alpha, out);
      std::vector<double> expected(static_cast<std::size_t>(s.numel()));
      for (std::int64_t i = 0; i < s.numel(); ++i) {
        const float gi = g.data<float>()[i];
        const float sign = gi > 0 ? 1.f : (gi < 0 ? -1.f : 0.f);
        expected[static_cast<std::size_t>(i)] =
            x.data<float>()[i] + static_cast<float>(alpha) * sign;
      }
      test::expect_close(out, expected, 0, 0, "linf step " + s.str());
    }
  }
}

TEST(PgdStepLinf, ZeroGradientReturnsTheInput) {
  const Shape s{3, 3, 4, 4};
  Tensor x = pixels(s, 3), out = test::poisoned(s, DType::F32);
  pgd_step_linf(test::cpu_context(), x, Tensor::zeros(s), 0.1, out);
  test::expect_equal_exact(out, x, "zero gradient");
}

TEST(PgdStepL2, ClosedFormAndStepLength) {
  for (const Shape& s : kShapes) {
    Tensor x = pixels(s, 4), g = test::random_tensor(s, DType::F32, 5);
    Tensor out = test::poisoned(s, DType::F32);
    const double alpha = 0.25;
    pgd_step_l2(test::cpu_context(), x, g, alpha, out);
    const std::int64_t d = s.inner_numel();
    std::vector<double> expected(static_cast<std::size_t>(s.numel()));
    for (std::int64_t i = 0; i < s[0]; ++i) {
      const double gn = norm_of(g, i);
      for (std::int64_t j = i * d; j < (i + 1) * d; ++j) {
        expected[static_cast<std::size_t>(j)] =
            test::value_at(x, j) + alpha * test::value_at(g, j) / (gn + 1e-10);
      }
      EXPECT_NEAR(norm_of(out, i, &x), alpha, 1e-6 * alpha + 1e-7) << "step length " << s.str();
    }
    test::expect_close(out, expected, 1e-6, 1e-7, "l2 step " + s.str());
  }
}

TEST(PgdStepL2, ZeroGradientExampleIsLeftAlone) {
  const Shape s{3, 2, 3, 3};
  Tensor x = pixels(s, 6), g = test::random_tensor(s, DType::F64, 7);
  Tensor x64 = test::to_dtype(x, DType::F64);
  for (std::int64_t j = 18; j < 36; ++j) test::set_value(g, j, 0.0);  // example 1
  Tensor out = test::poisoned(s, DType::F64);
  pgd_step_l2(test::cpu_context(), x64, g, 1.0, out);
  for (std::int64_t j = 18; j < 36; ++j) EXPECT_EQ(test::value_at(out, j), test::value_at(x64, j));
  EXPECT_NEAR(norm_of(out, 0, &x64), 1.0, 1e-9);  // alpha ||g|| / (||g|| + 1e-10)
}

TEST(PgdStepL2, OnePixelImageMovesByAlphaAlongTheSign) {
  Tensor x = Tensor::from_vector(std::vector<double>{0.5, 0.5}, Shape{2, 1, 1, 1});
  Tensor g = Tensor::from_vector(std::vector<double>{-3.0, 0.2}, Shape{2, 1, 1, 1});
  Tensor out = test::poisoned(x.shape(), DType::F64);
  pgd_step_l2(test::cpu_context(), x, g, 0.1, out);
  test::expect_close(out, std::vector<double>{0.4, 0.6}, 1e-9, 0, "one pixel");
}

TEST(ProjectLinf, ExactClosedFormWithClipping) {
  for (const Shape& s : kShapes) {
    const double eps = 8.0 / 255;
    Tensor x0 = pixels(s, 8);
    Tensor x = test::random_tensor(s, DType::F32, 9, -0.2, 1.2);  // some far outside the ball
    Tensor out = test::poisoned(s, DType::F32);
    project_linf(test::cpu_context(), x, x0, eps, out);
    const float e = static_cast<float>(eps);
    std::vector<double> expected(static_cast<std::size_t>(s.numel()));
    for (std::int64_t i = 0; i < s.numel(); ++i) {
      const float xi = x.data<float>()[i], ci = x0.data<float>()[i];
      const float d = xi - ci;
      expected[static_cast<std::size_t>(i)] = clamp01f(d > e ? ci + e : (d < -e ? ci - e : xi));
      ASSERT_LE(std::abs(test::value_at(out, i) - static_cast<double>(ci)), eps + 1e-7)
          << "left the ball";
      ASSERT_GE(test::value_at(out, i), 0.0);
      ASSERT_LE(test::value_at(out, i), 1.0);
    }
    test::expect_close(out, expected, 0, 0, "linf projection " + s.str());
  }
}

TEST(ProjectLinf, InsideTheBallIsUnchangedExactly) {
  const Shape s{4, 3, 5, 5};
  Tensor x0 = pixels(s, 10);
  Tensor x = test::clone(x0);
  for (std::int64_t i = 0; i < s.numel(); ++i) {  // move by less than eps, staying in [0, 1]
    const double v = test::value_at(x0, i);
    test::set_value(x, i, v + (v < 0.5 ? 0.01 : -0.01));
  }
  Tensor out = test::poisoned(s, DType::F32);
  project_linf(test::cpu_context(), x, x0, 0.02, out);
  test::expect_equal_exact(out, x, "inside the ball");
}

TEST(ProjectLinf, ZeroAndHugeEpsilon) {
  const Shape s{3, 2, 4, 4};
  Tensor x0 = pixels(s, 11), x = test::random_tensor(s, DType::F32, 12, -0.5, 1.5);
  Tensor out = test::poisoned(s, DType::F32);
  project_linf(test::cpu_context(), x, x0, 0.0, out);
  test::expect_equal_exact(out, x0, "eps = 0 returns the centre");
  project_linf(test::cpu_context(), x, x0, 1e30, out);
  std::vector<double> clipped = test::values(x);
  for (double& v : clipped) v = std::min(1.0, std::max(0.0, v));
  test::expect_close(out, clipped, 0, 0, "huge eps only clips");
}

TEST(ProjectL2, OutsideLandsOnTheSphereInsideIsUnchanged) {
  for (const Shape& s : kShapes) {
    Tensor x0 = test::random_tensor(s, DType::F64, 13, 0.4, 0.6);  // interior: clipping never binds
    Tensor far = test::clone(x0), near = test::clone(x0);
    const Tensor dir = test::random_tensor(s, DType::F64, 14);
    const double eps = 0.05;
    for (std::int64_t i = 0; i < s[0]; ++i) {
      const double n = norm_of(dir, i);
      const std::int64_t d = s.inner_numel();
      for (std::int64_t j = i * d; j < (i + 1) * d; ++j) {
        test::set_value(far, j, test::value_at(x0, j) + 0.3 * test::value_at(dir, j) / n);
        test::set_value(near, j, test::value_at(x0, j) + 0.01 * test::value_at(dir, j) / n);
      }
    }
    Tensor out = test::poisoned(s, DType::F64);
    project_l2(test::cpu_context(), far, x0, eps, out);
    for (std::int64_t i = 0; i < s[0]; ++i) {
      EXPECT_NEAR(norm_of(out, i, &x0), eps, 1e-12) << s.str();
      // Along the same direction: out - x0 is a positive multiple of far - x0.
      const std::int64_t d = s.inner_numel();
      for (std::int64_t j = i * d; j < (i + 1) * d; ++j) {
        EXPECT_NEAR(test::value_at(out, j) - test::value_at(x0, j),
                    (test::value_at(far, j) - test::value_at(x0, j)) * eps / 0.3, 1e-12);
      }
    }
    project_l2(test::cpu_context(), near, x0, eps, out);
    test::expect_equal_exact(out, near, "inside the L2 ball " + s.str());
  }
}

TEST(ProjectL2, ClipsToThePixelRangeAfterProjecting) {
  Tensor x0 = Tensor::from_vector(std::vector<double>{0.95, 0.05, 0.5}, Shape{1, 3});
  Tensor x = Tensor::from_vector(std::vector<double>{1.95, -0.95, 0.5}, Shape{1, 3});
  Tensor out = test::poisoned(x.shape(), DType::F64);
  project_l2(test::cpu_context(), x, x0, 0.5, out);  // ||x - x0|| = sqrt(2): scale 0.5/sqrt(2)
  const double step = 0.5 / std::sqrt(2.0);
  test::expect_close(out, std::vector<double>{1.0, 0.0, 0.5}, 0, 0, "clipped");
  EXPECT_GT(0.95 + step, 1.0);  // the clip was needed
}

TEST(ProjectL2, ZeroAndHugeEpsilon) {
  const Shape s{2, 3, 3, 3};
  Tensor x0 = pixels(s, 15), x = test::random_tensor(s, DType::F32, 16, -0.5, 1.5);
  Tensor out = test::poisoned(s, DType::F32);
  project_l2(test::cpu_context(), x, x0, 0.0, out);
  test::expect_equal_exact(out, x0, "eps = 0 returns the centre");
  project_l2(test::cpu_context(), x, x0, 1e30, out);
  std::vector<double> clipped = test::values(x);
  for (double& v : clipped) v = std::min(1.0, std::max(0.0, v));
  test::expect_close(out, clipped, 0, 0, "huge eps only clips");
}

// The fused update is exactly step-then-project, out of place and in place.
TEST(PgdUpdate, FusedEqualsStepThenProject) {
  for (const Shape& s : kShapes) {
    for (DType dt : {DType::F32, DType::F64}) {
      Tensor x0 = test::to_dtype(pixels(s, 17), dt);
      Tensor x = test::clone(x0);
      Tensor g = test::to_dtype(gradient_with_zeros(s, 18), dt);
      Context& ctx = test::cpu_context();
      random_start_linf(ctx, x0, 0.03, ctx.rng(1), x);
      for (bool linf : {true, false}) {
        const double alpha = linf ? 2.0 / 255 : 0.1, eps = linf ? 8.0 / 255 : 0.25;
        Tensor stepped = test::poisoned(s, dt), composed = test::poisoned(s, dt);
        Tensor fused = test::poisoned(s, dt), in_place = test::clone(x);
        if (linf) {
          pgd_step_linf(ctx, x, g, alpha, stepped);
          project_linf(ctx, stepped, x0, eps, composed);
          pgd_update_linf(ctx, x, g, x0, alpha, eps, fused);
          pgd_update_linf(ctx, in_place, g, x0, alpha, eps, in_place);
        } else {
          pgd_step_l2(ctx, x, g, alpha, stepped);
          project_l2(ctx, stepped, x0, eps, composed);
          pgd_update_l2(ctx, x, g, x0, alpha, eps, fused);
          pgd_update_l2(ctx, in_place, g, x0, alpha, eps, in_place);
        }
        const std::string what = std::string(linf ? "linf " : "l2 ") + s.str() + dtype_name(dt);
        test::expect_equal_exact(fused, composed, "fused vs composed " + what);
        test::expect_equal_exact(in_place, fused, "in place " + what);
      }
    }
  }
}

// Many PGD iterations with arbitrary gradients: the iterate never leaves the ball or [0, 1].
TEST(PgdUpdate, IteratesStayInTheBallAndThePixelRange) {
  Context& ctx = test::cpu_context();
  const Shape s{4, 3, 8, 8};
  Tensor x0 = pixels(s, 19);
  for (bool linf : {true, false}) {
    const double eps = linf ? 8.0 / 255 : 0.5, alpha = linf ? 2.0 / 255 : 0.1;
    Tensor x = Tensor::empty(s);
    if (linf) {
      random_start_linf(ctx, x0, eps, ctx.rng(2), x);
    } else {
      random_start_l2(ctx, x0, eps, ctx.rng(2), x);
    }
    for (int step = 0; step < 30; ++step) {
      Tensor g = test::random_tensor(s, DType::F32, 100 + static_cast<std::uint64_t>(step));
      if (linf) {
        pgd_update_linf(ctx, x, g, x0, alpha, eps, x);
      } else {
        pgd_update_l2(ctx, x, g, x0, alpha, eps, x);
      }
      for (std::int64_t i = 0; i < s[0]; ++i) {
        const std::int64_t d = s.inner_numel();
        for (std::int64_t j = i * d; j < (i + 1) * d; ++j) {
          ASSERT_GE(test::value_at(x, j), 0.0);
          ASSERT_LE(test::value_at(x, j), 1.0);
          if (linf) {
            ASSERT_LE(std::abs(test::value_at(x, j) - test::value_at(x0, j)), eps + 1e-7);
          }
        }
        if (!linf) {
          ASSERT_LE(norm_of(x, i, &x0), eps * (1 + 1e-6)) << "step " << step;
        }
      }
    }
  }
}

TEST(RandomStartLinf, InsideTheBallUniformAndReproducible) {
  Context& ctx = test::cpu_context();
  const Shape s{8, 3, 16, 16};
  const double eps = 8.0 / 255;
  Tensor x0 = Tensor::empty(s);
  for (std::int64_t i = 0; i < s.numel(); ++i) test::set_value(x0, i, 0.5);  // interior
  Tensor a = test::poisoned(s, DType::F32), b = test::poisoned(s, DType::F32);
  Tensor c = test::poisoned(s, DType::F32);
  random_start_linf(ctx, x0, eps, ctx.rng(7), a);
  random_start_linf(ctx, x0, eps, ctx.rng(7), b);
  random_start_linf(ctx, x0, eps, ctx.rng(8), c);
  test::expect_equal_exact(b, a, "same stream, same draw");
  double sum = 0, sq = 0;
  int same = 0;
  for (std::int64_t i = 0; i < s.numel(); ++i) {
    const double d = test::value_at(a, i) - 0.5;
    ASSERT_LE(std::abs(d), eps + 1e-7);
    sum += d;
    sq += d * d;
    same += test::value_at(a, i) == test::value_at(c, i);
  }
  const double n = static_cast<double>(s.numel());
  EXPECT_NEAR(sum / n, 0.0, 0.05 * eps);
  EXPECT_NEAR(sq / n, eps * eps / 3, 0.05 * eps * eps / 3);  // U(-eps, eps) variance
  EXPECT_LT(same, s.numel() / 100) << "another stream should draw other numbers";
  // Near the edges of the pixel range the start is clipped.
  Tensor edge = Tensor::zeros(s), out = test::poisoned(s, DType::F32);
  random_start_linf(ctx, edge, eps, ctx.rng(9), out);
  for (double v : test::values(out)) ASSERT_TRUE(v >= 0.0 && v <= eps + 1e-7);
}

TEST(RandomStartL2, OnTheSphereAndReproducible) {
  Context& ctx = test::cpu_context();
  for (const Shape& s : kShapes) {
    const double eps = 0.25;
    Tensor x0 = Tensor::empty(s);
    for (std::int64_t i = 0; i < s.numel(); ++i) test::set_value(x0, i, 0.5);
    Tensor a = test::poisoned(s, DType::F32), b = test::poisoned(s, DType::F32);
    random_start_l2(ctx, x0, eps, ctx.rng(11), a);
    random_start_l2(ctx, x0, eps, ctx.rng(11), b);
    test::expect_equal_exact(b, a, "same stream, same draw " + s.str());
    for (std::int64_t i = 0; i < s[0]; ++i) {
      EXPECT_NEAR(norm_of(a, i, &x0), eps, 1e-6) << "on the sphere " << s.str();
    }
  }
}

TEST(RandomStartL2, DirectionsAreIsotropic) {
  Context& ctx = test::cpu_context();
  const Shape s{4000, 3};
  Tensor x0 = Tensor::empty(s, DType::F64);
  for (std::int64_t i = 0; i < s.numel(); ++i) test::set_value(x0, i, 0.5);
  Tensor out = Tensor::empty(s, DType::F64);
  random_start_l2(ctx, x0, 0.1, ctx.rng(12), out);
  double mean[3] = {0, 0, 0}, sq[3] = {0, 0, 0};
  for (std::int64_t i = 0; i < s[0]; ++i)
    for (int c = 0; c < 3; ++c) {
      const double v = (test::value_at(out, i * 3 + c) - 0.5) / 0.1;
      mean[c] += v / 4000;
      sq[c] += v * v / 4000;
    }
  for (int c = 0; c < 3; ++c) {
    EXPECT_NEAR(mean[c], 0.0, 0.05);    // uniform on the sphere: E[v] = 0
    EXPECT_NEAR(sq[c], 1.0 / 3, 0.03);  // E[v_c^2] = 1/d
  }
}

TEST(L2NormPerExample, ClosedForm) {
  for (const Shape& s : kShapes) {
    Tensor x = test::random_tensor(s, DType::F64, 20),
           norms = test::poisoned(Shape{s[0]}, DType::F64);
    l2_norm_per_example(test::cpu_context(), x, norms);
    std::vector<double> expected;
    for (std::int64_t i = 0; i < s[0]; ++i) expected.push_back(norm_of(x, i));
    test::expect_close(norms, expected, 1e-14, 0, "norms " + s.str());
  }
  Tensor three_four = Tensor::from_vector(std::vector<float>{3.f, 4.f}, Shape{1, 2});
  Tensor n = Tensor::empty(Shape{1});
  l2_norm_per_example(test::cpu_context(), three_four, n);
  EXPECT_EQ(test::value_at(n, 0), 5.0);
}

// The fused updates and the random starts on the edge cases.
TEST(PgdUpdate, ZeroGradientZeroEpsilonAndHugeEpsilon) {
  Context& ctx = test::cpu_context();
  const Shape s{3, 3, 4, 4};
  Tensor x0 = pixels(s, 30), g = test::random_tensor(s, DType::F32, 31);
  Tensor x = test::poisoned(s, DType::F32);
  random_start_linf(ctx, x0, 0.05, ctx.rng(30), x);
  for (bool linf : {true, false}) {
    auto update = [&](const Tensor& grad, double alpha, double eps, const Tensor& out) {
      if (linf) {
        pgd_update_linf(ctx, x, grad, x0, alpha, eps, out);
      } else {
        pgd_update_l2(ctx, x, grad, x0, alpha, eps, out);
      }
    };
    const std::string what = linf ? "linf" : "l2";
    Tensor out = test::poisoned(s, DType::F32);
    update(Tensor::zeros(s), 0.1, 1e30, out);  // no gradient, no binding ball: x stays
    test::expect_equal_exact(out, x, what + " zero gradient");
    update(g, 0.1, 0.0, out);  // eps = 0: back to the centre
    test::expect_equal_exact(out, x0, what + " eps = 0");
    // Huge eps: only the step and the pixel clip remain.
    Tensor stepped = test::poisoned(s, DType::F32), clipped = test::poisoned(s, DType::F32);
    if (linf) {
      pgd_step_linf(ctx, x, g, 0.1, stepped);
    } else {
      pgd_step_l2(ctx, x, g, 0.1, stepped);
    }
    project_linf(ctx, stepped, stepped, 0.0, clipped);  // clip to [0, 1] only
    update(g, 0.1, 1e30, out);
    test::expect_equal_exact(out, clipped, what + " huge eps");
  }
}

TEST(RandomStart, ZeroAndHugeEpsilon) {
  Context& ctx = test::cpu_context();
  const Shape s{2, 3, 5, 5};
  Tensor x0 = pixels(s, 32), out = test::poisoned(s, DType::F32);
  random_start_linf(ctx, x0, 0.0, ctx.rng(31), out);
  test::expect_equal_exact(out, x0, "linf eps = 0");
  random_start_l2(ctx, x0, 0.0, ctx.rng(31), out);
  test::expect_equal_exact(out, x0, "l2 eps = 0");
  for (double eps : {1e30, 3e38}) {
    random_start_linf(ctx, x0, eps, ctx.rng(32), out);
    for (double v : test::values(out)) ASSERT_TRUE(v >= 0.0 && v <= 1.0) << v;
    random_start_l2(ctx, x0, eps, ctx.rng(32), out);
    for (double v : test::values(out)) ASSERT_TRUE(v >= 0.0 && v <= 1.0) << v;
  }
}

// Ties the op's element-to-counter mapping to Philox's known answers: element 0 of stream 0
// under seed 0 is the first word of Philox(counter 0, key 0) = 0x6627e8d5.
TEST(RandomStart, GoldenValuesFromThePhiloxKnownAnswers) {
  Context& ctx = test::cpu_context();
  Tensor x0 = Tensor::from_vector(std::vector<double>(8, 0.5), Shape{2, 4});
  Tensor out = test::poisoned(x0.shape(), DType::F64);
  random_start_linf(ctx, x0, 0.25, RngStream{0, 0, 0}, out);
  const std::uint32_t words[4] = {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8};
  for (int i = 0; i < 4; ++i) {
    const double u = static_cast<double>(words[i] >> 8) / 16777216.0;
    EXPECT_EQ(test::value_at(out, i), 0.5 + 0.25 * (2 * u - 1)) << "element " << i;
  }
  // An offset shifts the draw: elements 4.. of stream 0 are elements 0.. of offset 4.
  Tensor shifted = test::poisoned(Shape{1, 4}, DType::F64);
  random_start_linf(ctx, x0.slice(0, 1), 0.25, RngStream{0, 0, 4}, shifted);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(test::value_at(shifted, i), test::value_at(out, 4 + i));
}

TEST(RandomStart, ThreadCountDoesNotChangeTheDraw) {
  const Shape s{64, 3, 16, 16};
  Tensor x0 = pixels(s, 33);
  for (bool linf : {true, false}) {
    Tensor one = test::poisoned(s, DType::F32), three = test::poisoned(s, DType::F32);
    Context& c1 = test::cpu_context(1);
    Context& c3 = test::cpu_context(3);
    if (linf) {
      random_start_linf(c1, x0, 0.03, RngStream{9, 9, 0}, one);
      random_start_linf(c3, x0, 0.03, RngStream{9, 9, 0}, three);
    } else {
      random_start_l2(c1, x0, 0.5, RngStream{9, 9, 0}, one);
      random_start_l2(c3, x0, 0.5, RngStream{9, 9, 0}, three);
    }
    test::expect_equal_exact(three, one, linf ? "linf" : "l2");
  }
}

// A NaN gradient must show in the iterate rather than freeze it (sign(NaN) is not 0).
TEST(PgdStepLinf, NanGradientPropagates) {
  Tensor x = Tensor::from_vector(std::vector<float>{0.5f, 0.5f}, Shape{1, 2});
  Tensor g = Tensor::from_vector(std::vector<float>{std::nanf(""), 1.f}, Shape{1, 2});
  Tensor out = test::poisoned(x.shape(), DType::F32), upd = test::poisoned(x.shape(), DType::F32);
  pgd_step_linf(test::cpu_context(), x, g, 0.1, out);
  EXPECT_TRUE(std::isnan(test::value_at(out, 0)));
  EXPECT_NEAR(test::value_at(out, 1), 0.6, 1e-7);
  pgd_update_linf(test::cpu_context(), x, g, x, 0.1, 0.2, upd);
  EXPECT_TRUE(std::isnan(test::value_at(upd, 0)));
}

TEST(Perturb, RefusesBadScalars) {
  Context& ctx = test::cpu_context();
  Tensor x = pixels(Shape{2, 3}, 21), g = Tensor::zeros(Shape{2, 3}),
         out = Tensor::empty(Shape{2, 3});
  EXPECT_THROW(project_linf(ctx, x, x, -0.1, out), Error);
  EXPECT_THROW(project_l2(ctx, x, x, std::nan(""), out), Error);
  EXPECT_THROW(pgd_step_linf(ctx, x, g, INFINITY, out), Error);
  EXPECT_THROW(random_start_l2(ctx, x, -1, ctx.rng(0), out), Error);
  EXPECT_THROW(pgd_update_l2(ctx, x, g, x, 0.1, -0.5, out), Error);
  EXPECT_THROW(random_start_linf(ctx, x, 1e39, ctx.rng(0), out), Error);  // no float
  EXPECT_NO_THROW(random_start_linf(ctx, test::to_dtype(x, DType::F64), 1e39, ctx.rng(0),
                                    Tensor::empty(Shape{2, 3}, DType::F64)));
}

}  // namespace
}  // namespace rp
