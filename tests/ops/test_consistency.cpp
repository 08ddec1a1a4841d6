// Every op, two cross-checks on inputs large enough that the CPU reference really splits its
// work across threads (the per-op tests use small shapes that run as one chunk):
//   - the thread count does not change results: 1 and 3 threads agree bit for bit, except
//     where partial sums are combined per chunk (convolution weight gradients, Eigen's GEMM
//     blocking), which agree to rounding;
//   - float agrees with double on the same inputs, forward and backward, to f32 rounding.
// Outputs are poisoned first, so a chunk that is skipped or written twice shows.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "engine/ops/activation.h"
#include "engine/ops/batchnorm.h"
#include "engine/ops/conv2d.h"
#include "engine/ops/cross_entropy.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/linear.h"
#include "engine/ops/normalize.h"
#include "engine/ops/perturb.h"
#include "engine/ops/pool.h"
#include "engine/ops/sgd.h"
#include "tests/support/test_support.h"

namespace rp {
namespace {

// Inputs are drawn in double from fixed seeds and rounded to the dtype under test.
Tensor input(const Shape& s, DType dt, std::uint64_t seed, double lo = -1, double hi = 1) {
  return test::to_dtype(test::random_tensor(s, DType::F64, seed, lo, hi), dt);
}

struct OpCase {
  std::string name;
  double f32_tol;     // relative and absolute, f32 vs f64
  double thread_tol;  // 0: bit-exact across thread counts
  std::function<std::vector<Tensor>(Context&, DType)> run;
};

std::vector<OpCase> cases() {
  const Shape img{4, 16, 32, 32}, ch{16};
  return {
      {"conv2d", 1e-5, 1e-12,
       [](Context& c, DType dt) {
         // ~1.2M multiply-adds per image: enough for the kernel to split images across threads.
         const Shape xs{5, 16, 16, 16}, ws{32, 16, 3, 3}, ys{5, 32, 16, 16};
         const Conv2dParams p = Conv2dParams::square(1, 1);
         Tensor x = input(xs, dt, 1), w = input(ws, dt, 2), dy = input(ys, dt, 3);
         Tensor y = test::poisoned(ys, dt), dx = test::poisoned(xs, dt),
                dw = test::poisoned(ws, dt);
         conv2d_forward(c, x, w, y, p);
         conv2d_backward_data(c, dy, w, dx, p, GradMode::Assign);
         conv2d_backward_filter(c, x, dy, dw, p, GradMode::Assign);
         return std::vector<Tensor>{y, dx, dw};
       }},
      {"batchnorm_train", 1e-4, 0,
       [=](Context& c, DType dt) {
         Tensor x = input(img, dt, 4, -2, 3), g = input(ch, dt, 5, 0.5, 1.5), b = input(ch, dt, 6);
         Tensor rm = input(ch, dt, 7), rv = input(ch, dt, 8, 0.5, 2), dy = input(img, dt, 9);
         Tensor y = test::poisoned(img, dt), sm = test::poisoned(ch, dt),
                si = test::poisoned(ch, dt);
         Tensor dx = test::poisoned(img, dt), dg = test::poisoned(ch, dt),
                db = test::poisoned(ch, dt);
         batchnorm2d_forward_train(c, x, g, b, rm, rv, y, sm, si, {});
         batchnorm2d_backward_train(c, dy, x, g, sm, si, dx, dg, db, GradMode::Assign);
         return std::vector<Tensor>{y, rm, rv, sm, si, dx, dg, db};
       }},
      {"batchnorm_eval", 1e-5, 0,
       [=](Context& c, DType dt) {
         Tensor x = input(img, dt, 10, -2, 3), g = input(ch, dt, 11, 0.5, 1.5),
                b = input(ch, dt, 12);
         Tensor rm = input(ch, dt, 13), rv = input(ch, dt, 14, 0.5, 2), dy = input(img, dt, 15);
         Tensor y = test::poisoned(img, dt), dx = test::poisoned(img, dt);
         Tensor dg = test::poisoned(ch, dt), db = test::poisoned(ch, dt);
         batchnorm2d_forward_eval(c, x, g, b, rm, rv, y, 1e-5);
         batchnorm2d_backward_eval(c, dy, x, g, rm, rv, 1e-5, dx, dg, db, GradMode::Assign);
         return std::vector<Tensor>{y, dx, dg, db};
       }},
      {"relu_and_fake_relu", 1e-6, 0,
       [](Context& c, DType dt) {
         const Shape s{3, 70001};
         Tensor x = input(s, dt, 16), dy = input(s, dt, 17);
         Tensor y = test::poisoned(s, dt), dx = test::poisoned(s, dt), fdx = test::poisoned(s, dt);
         relu_forward(c, x, y);
         relu_backward(c, y, dy, dx, GradMode::Assign);
         fake_relu_backward(c, y, dy, fdx, GradMode::Assign);
         return std::vector<Tensor>{y, dx, fdx};
       }},
      {"add", 1e-6, 0,
       [](Context& c, DType dt) {
         const Shape s{3, 70001};
         Tensor a = input(s, dt, 18), b = input(s, dt, 19), dy = input(s, dt, 20);
         Tensor y = test::poisoned(s, dt), da = test::poisoned(s, dt), db = test::poisoned(s, dt);
         add_forward(c, a, b, y);
         add_backward(c, dy, da, db, GradMode::Assign);
         return std::vector<Tensor>{y, da, db};
       }},
      {"global_avg_pool", 1e-5, 0,
       [](Context& c, DType dt) {
         const Shape xs{8, 512, 4, 4}, ys{8, 512};
         Tensor x = input(xs, dt, 21), dy = input(ys, dt, 22);
         Tensor y = test::poisoned(ys, dt), dx = test::poisoned(xs, dt);
         global_avg_pool_forward(c, x, y);
         global_avg_pool_backward(c, dy, dx, GradMode::Assign);
         return std::vector<Tensor>{y, dx};
       }},
      {"linear", 1e-5, 1e-12,
       [](Context& c, DType dt) {
         Tensor x = input(Shape{64, 512}, dt, 23), w = input(Shape{10, 512}, dt, 24);
         Tensor b = input(Shape{10}, dt, 25), dy = input(Shape{64, 10}, dt, 26);
         Tensor y = test::poisoned(Shape{64, 10}, dt), dx = test::poisoned(Shape{64, 512}, dt);
         Tensor dw = test::poisoned(Shape{10, 512}, dt), db = test::poisoned(Shape{10}, dt);
         linear_forward(c, x, w, b, y);
         linear_backward_data(c, dy, w, dx, GradMode::Assign);
         linear_backward_weight(c, x, dy, dw, db, GradMode::Assign);
         return std::vector<Tensor>{y, dx, dw, db};
       }},
      {"cross_entropy", 1e-5, 0,
       [](Context& c, DType dt) {
         const std::int64_t n = 3000, k = 10;
         Tensor z = input(Shape{n, k}, dt, 27, -4, 4), labels = test::random_labels(n, k, 28);
         Tensor up = input(Shape{n}, dt, 29);
         Tensor losses = test::poisoned(Shape{n}, dt), mean = test::poisoned(Shape{1}, dt);
         Tensor dz = test::poisoned(Shape{n, k}, dt);
         cross_entropy_forward(c, z, labels, losses, mean);
         cross_entropy_backward(c, z, labels, up, dz, GradMode::Assign);
         return std::vector<Tensor>{losses, mean, dz};
       }},
      {"normalize", 1e-5, 0,
       [](Context& c, DType dt) {
         const Shape s{40, 3, 32, 32};
         Tensor x = input(s, dt, 30, -0.5, 1.5), dy = input(s, dt, 31);
         Tensor m = input(Shape{3}, dt, 32, 0.4, 0.6), sd = input(Shape{3}, dt, 33, 0.2, 0.3);
         Tensor y = test::poisoned(s, dt), dx = test::poisoned(s, dt);
         normalize_forward(c, x, m, sd, y);
         normalize_backward(c, x, dy, sd, dx, GradMode::Assign);
         return std::vector<Tensor>{y, dx};
       }},
      {"sgd", 1e-6, 0,
       [](Context& c, DType dt) {
         const Shape s{200001};
         Tensor p = input(s, dt, 34), g = input(s, dt, 35), buf = input(s, dt, 36);
         sgd_step(c, p, g, buf, SgdParams{0.1, 0.9, 5e-4, true});
         return std::vector<Tensor>{p, buf};
       }},
      {"perturbation", 1e-5, 0,
       [](Context& c, DType dt) {
         const Shape s{40, 3, 32, 32};
         Tensor x0 = input(s, dt, 37, 0, 1), g = input(s, dt, 38),
                norms = test::poisoned(Shape{40}, dt);
         std::vector<Tensor> out;
         for (int i = 0; i < 8; ++i) out.push_back(test::poisoned(s, dt));
         pgd_step_linf(c, x0, g, 0.01, out[0]);
         pgd_step_l2(c, x0, g, 0.5, out[1]);
         project_linf(c, out[0], x0, 0.005, out[2]);
         project_l2(c, out[1], x0, 0.25, out[3]);
         pgd_update_linf(c, x0, g, x0, 0.01, 0.005, out[4]);
         pgd_update_l2(c, x0, g, x0, 0.5, 0.25, out[5]);
         random_start_linf(c, x0, 0.03, RngStream{1, 2, 0}, out[6]);
         random_start_l2(c, x0, 0.5, RngStream{1, 3, 0}, out[7]);
         l2_norm_per_example(c, g, norms);
         out.push_back(norms);
         return out;
       }},
  };
}

class Consistency : public ::testing::TestWithParam<OpCase> {};

TEST_P(Consistency, ThreadCountDoesNotChangeResults) {
  const OpCase& op = GetParam();
  for (DType dt : {DType::F32, DType::F64}) {
    const std::vector<Tensor> one = op.run(test::cpu_context(1), dt);
    const std::vector<Tensor> three = op.run(test::cpu_context(3), dt);
    ASSERT_EQ(one.size(), three.size());
    for (std::size_t i = 0; i < one.size(); ++i) {
      const std::string what = op.name + " output " + std::to_string(i) + " " + dtype_name(dt);
      test::expect_all_finite(three[i], what);
      if (op.thread_tol == 0) {
        test::expect_equal_exact(three[i], one[i], what);
      } else {
        const double tol = dt == DType::F64 ? op.thread_tol : 1e-5;
        test::expect_close(three[i], one[i], tol, tol, what);
      }
    }
  }
}

TEST_P(Consistency, FloatAgreesWithDouble) {
  const OpCase& op = GetParam();
  const std::vector<Tensor> f32 = op.run(test::cpu_context(2), DType::F32);
  const std::vector<Tensor> f64 = op.run(test::cpu_context(2), DType::F64);
  ASSERT_EQ(f32.size(), f64.size());
  for (std::size_t i = 0; i < f32.size(); ++i) {
    test::expect_close(f32[i], f64[i], op.f32_tol, op.f32_tol,
                       op.name + " output " + std::to_string(i) + " f32 vs f64");
  }
}

INSTANTIATE_TEST_SUITE_P(Ops, Consistency, ::testing::ValuesIn(cases()),
                         [](const auto& p) { return p.param.name; });

}  // namespace
}  // namespace rp
