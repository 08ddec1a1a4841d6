// The CUDA elementwise kernels, activations, the SGD step, pooling (average and max), input
// normalization and softmax cross-entropy, the linear layer (cuBLAS) and batch norm against the
// CPU reference: bit for bit where each output element is one expression of its inputs (max
// pooling's values, indices and gathered gradients included); 1e-6 relative for the average
// pooling sum and 1e-5 for cross-entropy, the GEMMs and batch norm's statistics, whose
// reductions run in another order; at sizes below, at, above and a multiple of the vector
// width, odd sizes, in place where the API allows, both GradModes, outputs poisoned first.
// Skipped, with the reason, where no GPU is present.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "engine/ops/activation.h"
#include "engine/ops/batchnorm.h"
#include "engine/ops/cross_entropy.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/linear.h"
#include "engine/ops/normalize.h"
#include "engine/ops/pool.h"
#include "engine/ops/sgd.h"
#include "kernels/cpu/linear.h"
#include "tests/support/linear_check.h"
#include "tests/support/test_support.h"

namespace rp {
namespace {

using cpu::LinearShape;

Context& gpu() {
  return test::gpu_context();
}

// (N, D): 1, 3, 4, 5, 8, 13, 4096 and 100,003 elements.
const Shape kShapes[] = {Shape{1, 1}, Shape{1, 3},  Shape{2, 2},    Shape{1, 5},
                         Shape{2, 4}, Shape{1, 13}, Shape{16, 256}, Shape{7, 14287}};

Tensor on_gpu(const Tensor& t) {
  return t.to(Device::cuda(0));
}

std::string shape_text(const Shape& s) {
  std::ostringstream os;
  os << s;
  return os.str();
}

void expect_same(const Tensor& gpu_result, const Tensor& cpu_result, const std::string& what) {
  const Tensor back = gpu_result.to(Device::cpu());
  test::expect_all_finite(back, what + " (fully written)");
  test::expect_equal_exact(back, cpu_result, what);
}

TEST(ElementwiseCuda, AddForwardAndBackwardInBothModes) {
  RP_SKIP_WITHOUT_GPU();
  std::uint64_t seed = 1;
  for (DType dt : {DType::F32, DType::F64}) {
    for (const Shape& s : kShapes) {
      const Tensor a = test::random_tensor(s, dt, ++seed), b = test::random_tensor(s, dt, ++seed);
      const Tensor y = test::poisoned(s, dt), gy = on_gpu(test::poisoned(s, dt));
      add_forward(test::cpu_context(), a, b, y);
      add_forward(gpu(), on_gpu(a), on_gpu(b), gy);
      expect_same(gy, y, "add_forward " + shape_text(s));
      for (GradMode mode : {GradMode::Assign, GradMode::Accumulate}) {
        const Tensor da0 = test::random_tensor(s, dt, ++seed);
        const Tensor da = test::clone(da0), db = test::clone(da0);
        const Tensor gda = on_gpu(da0), gdb = on_gpu(da0);
        add_backward(test::cpu_context(), a, da, db, mode);
        add_backward(gpu(), on_gpu(a), gda, gdb, mode);
        expect_same(gda, da, "add_backward da " + shape_text(s));
        expect_same(gdb, db, "add_backward db " + shape_text(s));
      }
    }
  }
}

TEST(ElementwiseCuda, FillEveryDtype) {
  RP_SKIP_WITHOUT_GPU();
  for (const Shape& s : kShapes) {
    for (DType dt : {DType::F32, DType::F64, DType::I32, DType::U8}) {
      const Tensor x = Tensor::empty(s, dt, Device::cpu());
      const Tensor gx = Tensor::empty(s, dt, Device::cuda(0));
      const double value = dt == DType::U8 ? 201 : dt == DType::I32 ? -7 : 0.3;
      fill(test::cpu_context(), x, value);
      fill(gpu(), gx, value);
      const Tensor back = gx.to(Device::cpu());
      if (dt == DType::I32) {
        EXPECT_EQ(back.to_vector<std::int32_t>(), x.to_vector<std::int32_t>()) << s;
      } else if (dt == DType::U8) {
        EXPECT_EQ(back.to_vector<std::uint8_t>(), x.to_vector<std::uint8_t>()) << s;
      } else {
        test::expect_equal_exact(back, x, "fill");
      }
    }
  }
}

TEST(ElementwiseCuda, ReluForwardBackwardAndFakeRelu) {
  RP_SKIP_WITHOUT_GPU();
  std::uint64_t seed = 50;
  for (DType dt : {DType::F32, DType::F64}) {
    for (const Shape& s : kShapes) {
      // Exact zeros in x: relu's kink.
      const Tensor x = test::random_tensor(s, dt, ++seed);
      for (std::int64_t i = 0; i < x.numel(); i += 7) test::set_value(x, i, 0.0);
      const Tensor y = test::poisoned(s, dt), gy = on_gpu(test::poisoned(s, dt));
      relu_forward(test::cpu_context(), x, y);
      relu_forward(gpu(), on_gpu(x), gy);
      expect_same(gy, y, "relu_forward " + shape_text(s));
      const Tensor in_place = on_gpu(x);
      relu_forward(gpu(), in_place, in_place);
      expect_same(in_place, y, "relu_forward in place " + shape_text(s));
      const Tensor dy = test::random_tensor(s, dt, ++seed);
      for (GradMode mode : {GradMode::Assign, GradMode::Accumulate}) {
        const Tensor dx0 = test::random_tensor(s, dt, ++seed);
        const Tensor dx = test::clone(dx0), gdx = on_gpu(dx0);
        relu_backward(test::cpu_context(), y, dy, dx, mode);
        relu_backward(gpu(), on_gpu(y), on_gpu(dy), gdx, mode);
        expect_same(gdx, dx, "relu_backward " + shape_text(s));
        const Tensor fdx = test::clone(dx0), gfdx = on_gpu(dx0);
        fake_relu_backward(test::cpu_context(), y, dy, fdx, mode);
        fake_relu_backward(gpu(), on_gpu(y), on_gpu(dy), gfdx, mode);
        expect_same(gfdx, fdx, "fake_relu_backward " + shape_text(s));
      }
    }
  }
}

TEST(ElementwiseCuda, SgdStepOverTheWholeBuffer) {
  RP_SKIP_WITHOUT_GPU();
  std::uint64_t seed = 90;
  const SgdParams settings[] = {
      {0.1, 0.9, 5e-4, false}, {0.05, 0.9, 5e-4, true}, {0.1, 0.0, 0.0, false}};
  for (DType dt : {DType::F32, DType::F64}) {
    for (const Shape& s : kShapes) {
      for (const SgdParams& p : settings) {
        const Tensor w = test::random_tensor(s, dt, ++seed), g = test::random_tensor(s, dt, ++seed);
        const Tensor m = test::random_tensor(s, dt, ++seed);
        const Tensor gw = on_gpu(w), gg = on_gpu(g), gm = on_gpu(m);
        for (int step = 0; step < 3; ++step) {  // momentum carries over
          sgd_step(test::cpu_context(), w, g, m, p);
          sgd_step(gpu(), gw, gg, gm, p);
        }
        expect_same(gw, w, "sgd_step params " + shape_text(s));
        expect_same(gm, m, "sgd_step momentum " + shape_text(s));
      }
    }
  }
}

// (N, C, H, W): the last stage of a CIFAR ResNet (4x4), odd planes, one-pixel planes.
const Shape kImageShapes[] = {Shape{2, 3, 4, 4}, Shape{3, 5, 7, 3}, Shape{4, 2, 1, 1},
                              Shape{1, 512, 4, 4}, Shape{2, 3, 32, 32}};

TEST(PoolCuda, GlobalAveragePoolForwardAndBackward) {
  RP_SKIP_WITHOUT_GPU();
  std::uint64_t seed = 300;
  for (DType dt : {DType::F32, DType::F64}) {
    for (const Shape& s : kImageShapes) {
      const Tensor x = test::random_tensor(s, dt, ++seed);
      const Shape pooled{s[0], s[1]};
      const Tensor y = test::poisoned(pooled, dt), gy = on_gpu(test::poisoned(pooled, dt));
      global_avg_pool_forward(test::cpu_context(), x, y);
      global_avg_pool_forward(gpu(), on_gpu(x), gy);
      const Tensor back = gy.to(Device::cpu());
      test::expect_all_finite(back, "global_avg_pool_forward (fully written)");
      test::expect_close(back, y, 1e-6, 0, "global_avg_pool_forward " + shape_text(s));
      const Tensor dy = test::random_tensor(pooled, dt, ++seed);
      for (GradMode mode : {GradMode::Assign, GradMode::Accumulate}) {
        const Tensor dx0 = test::random_tensor(s, dt, ++seed);
        const Tensor dx = test::clone(dx0), gdx = on_gpu(dx0);
        global_avg_pool_backward(test::cpu_context(), dy, dx, mode);
        global_avg_pool_backward(gpu(), on_gpu(dy), gdx, mode);
        expect_same(gdx, dx, "global_avg_pool_backward " + shape_text(s));
      }
    }
  }
}

// Max pooling: torchvision's stem (3/2/1) on the sizes a 32x32 and a 224x224 image reach it,
// disjoint and rectangular windows; inputs rounded to a few levels so windows hold ties, and a
// NaN. Forward values and indices and both backward modes are bit-identical to the CPU.
TEST(PoolCuda, MaxPoolForwardAndBackwardWithTiesAndNaN) {
  RP_SKIP_WITHOUT_GPU();
  struct Case {
    Shape x;
    MaxPool2dParams p;
  };
  const Case cases[] = {{Shape{2, 8, 16, 16}, MaxPool2dParams::square(3, 2, 1)},
                        {Shape{1, 3, 112, 112}, MaxPool2dParams::square(3, 2, 1)},
                        {Shape{3, 5, 7, 9}, MaxPool2dParams::square(2, 2, 0)},
                        {Shape{2, 3, 9, 6}, MaxPool2dParams{3, 2, 2, 1, 1, 0}},
                        {Shape{2, 2, 1, 1}, MaxPool2dParams::square(3, 2, 1)}};
  std::uint64_t seed = 330;
  for (DType dt : {DType::F32, DType::F64}) {
    for (const Case& c : cases) {
      const std::string what = shape_text(c.x);
      Tensor x = test::random_tensor(c.x, dt, ++seed);
      for (std::int64_t i = 0; i < x.numel(); ++i) {
        test::set_value(x, i, std::round(test::value_at(x, i) * 4) / 4);  // ties
      }
      test::set_value(x, x.numel() / 2, std::nan(""));
      const Shape out = max_pool2d_output_shape(c.x, c.p);
      const Tensor y = test::poisoned(out, dt), gy = on_gpu(test::poisoned(out, dt));
      const Tensor idx = Tensor::zeros(out, DType::I32);
      Tensor gidx_host = Tensor::empty(out, DType::I32);
      std::fill(gidx_host.data<std::int32_t>(), gidx_host.data<std::int32_t>() + out.numel(), -1);
      const Tensor gidx = on_gpu(gidx_host);
      max_pool2d_forward(test::cpu_context(), x, y, idx, c.p);
      max_pool2d_forward(gpu(), on_gpu(x), gy, gidx, c.p);
      EXPECT_EQ(gidx.to(Device::cpu()).to_vector<std::int32_t>(), idx.to_vector<std::int32_t>())
          << "max_pool2d_forward argmax " << what;
      const Tensor back = gy.to(Device::cpu());
      std::size_t nans = 0;
      for (std::int64_t i = 0; i < y.numel(); ++i) {
        const double a = test::value_at(back, i), b = test::value_at(y, i);
        if (std::isnan(b)) {
          ++nans;
          EXPECT_TRUE(std::isnan(a)) << "max_pool2d_forward " << what << " at " << i;
        } else {
          EXPECT_EQ(a, b) << "max_pool2d_forward " << what << " at " << i;
        }
      }
      EXPECT_GE(nans, 1u) << "the NaN propagates " << what;
      const Tensor dy = test::random_tensor(out, dt, ++seed);
      for (GradMode mode : {GradMode::Assign, GradMode::Accumulate}) {
        const Tensor dx0 = test::random_tensor(c.x, dt, ++seed);
        const Tensor dx = test::clone(dx0);
        const Tensor gdx = on_gpu(mode == GradMode::Assign ? test::poisoned(c.x, dt) : dx0);
        max_pool2d_backward(test::cpu_context(), dy, idx, dx, c.p, mode);
        max_pool2d_backward(gpu(), on_gpu(dy), gidx, gdx, c.p, mode);
        expect_same(gdx, dx, "max_pool2d_backward " + what);
      }
    }
  }
}

TEST(NormalizeCuda, ForwardAndBackwardWithClampedPixels) {
  RP_SKIP_WITHOUT_GPU();
  std::uint64_t seed = 400;
  for (DType dt : {DType::F32, DType::F64}) {
    for (const Shape& s : kImageShapes) {
      // Pixels partly outside [0, 1] and exactly on its bounds: the clamp and its gradient.
      const Tensor x = test::random_tensor(s, dt, ++seed, -0.2, 1.2);
      for (std::int64_t i = 0; i < x.numel(); i += 11) test::set_value(x, i, i % 2 ? 0.0 : 1.0);
      const Tensor mean = test::random_tensor(Shape{s[1]}, dt, ++seed, 0.3, 0.6);
      const Tensor std = test::random_tensor(Shape{s[1]}, dt, ++seed, 0.1, 0.3);
      const Tensor y = test::poisoned(s, dt), gy = on_gpu(test::poisoned(s, dt));
      normalize_forward(test::cpu_context(), x, mean, std, y);
      normalize_forward(gpu(), on_gpu(x), on_gpu(mean), on_gpu(std), gy);
      expect_same(gy, y, "normalize_forward " + shape_text(s));
      const Tensor dy = test::random_tensor(s, dt, ++seed);
      for (GradMode mode : {GradMode::Assign, GradMode::Accumulate}) {
        const Tensor dx0 = test::random_tensor(s, dt, ++seed);
        const Tensor dx = test::clone(dx0), gdx = on_gpu(dx0);
        normalize_backward(test::cpu_context(), x, dy, std, dx, mode);
        normalize_backward(gpu(), on_gpu(x), on_gpu(dy), on_gpu(std), gdx, mode);
        expect_same(gdx, dx, "normalize_backward " + shape_text(s));
      }
    }
  }
}

TEST(CrossEntropyCuda, ForwardMeanAndBackward) {
  RP_SKIP_WITHOUT_GPU();
  std::uint64_t seed = 500;
  // (examples, classes): one class, CIFAR's 10, more classes than a warp's lanes, ImageNet's.
  const std::pair<std::int64_t, std::int64_t> sizes[] = {
      {1, 1}, {7, 10}, {129, 10}, {5, 33}, {3, 1000}};
  for (DType dt : {DType::F32, DType::F64}) {
    for (const auto& [n, k] : sizes) {
      const Shape s{n, k};
      const Tensor z = test::random_tensor(s, dt, ++seed, -20, 20);  // far from 0: stability
      const Tensor labels = test::random_labels(n, k, ++seed);
      const Tensor losses = test::poisoned(Shape{n}, dt), mean = test::poisoned(Shape{1}, dt);
      const Tensor glosses = on_gpu(test::poisoned(Shape{n}, dt));
      const Tensor gmean = on_gpu(test::poisoned(Shape{1}, dt));
      cross_entropy_forward(test::cpu_context(), z, labels, losses, mean);
      cross_entropy_forward(gpu(), on_gpu(z), on_gpu(labels), glosses, gmean);
      const std::string where = " (" + std::to_string(n) + ", " + std::to_string(k) + ")";
      test::expect_close(glosses.to(Device::cpu()), losses, 1e-5, 1e-6, "losses" + where);
      test::expect_close(gmean.to(Device::cpu()), mean, 1e-5, 1e-6, "mean" + where);
      const Tensor dlosses = test::random_tensor(Shape{n}, dt, ++seed);
      for (GradMode mode : {GradMode::Assign, GradMode::Accumulate}) {
        const Tensor dz0 = test::random_tensor(s, dt, ++seed);
        const Tensor dz = test::clone(dz0), gdz = on_gpu(dz0);
        cross_entropy_backward(test::cpu_context(), z, labels, dlosses, dz, mode);
        cross_entropy_backward(gpu(), on_gpu(z), on_gpu(labels), on_gpu(dlosses), gdz, mode);
        test::expect_close(gdz.to(Device::cpu()), dz, 1e-5, 1e-6, "dlogits" + where);
      }
    }
  }
}

// A label outside [0, k) is not read back to the host: its example's loss and gradient are
// NaN, the others are untouched.
TEST(CrossEntropyCuda, BadLabelsGiveNaNNotASynchronization) {
  RP_SKIP_WITHOUT_GPU();
  const Tensor z = on_gpu(test::random_tensor(Shape{3, 10}, DType::F32, 9));
  const Tensor labels =
      Tensor::from_vector(std::vector<std::int32_t>{1, 10, 2}, Shape{3}, Device::cuda(0));
  const Tensor losses = on_gpu(test::poisoned(Shape{3}, DType::F32));
  cross_entropy_forward(gpu(), z, labels, losses, Tensor());
  const std::vector<float> l = losses.to(Device::cpu()).to_vector<float>();
  EXPECT_TRUE(std::isfinite(l[0]) && std::isfinite(l[2]));
  EXPECT_TRUE(std::isnan(l[1]));
}

// Against long-double references within the product's error bound, which grows with the inner
// dimension (linear_check.h); k = 2048 is ResNet-50's classifier, zero-sized dimensions are
// the cases cuBLAS refuses unless its leading dimensions stay >= 1.
TEST(LinearCuda, ForwardAndBothGradientsOnCublas) {
  RP_SKIP_WITHOUT_GPU();
  std::uint64_t seed = 600;
  // (n, in, out): ResNet-18's and ResNet-50's classifiers, odd sizes, a batch of 1, and empty
  // inner and output dimensions.
  const LinearShape sizes[] = {{128, 512, 10}, {64, 2048, 10}, {3, 7, 5}, {1, 1, 1},
                               {33, 65, 17},   {4, 0, 3},      {5, 6, 0}};
  for (DType dt : {DType::F32, DType::F64}) {
    for (const LinearShape& s : sizes) test::check_linear_products(gpu(), s, dt, seed += 100);
  }
}

TEST(BatchNormCuda, TrainAndEvalForwardAndBackward) {
  RP_SKIP_WITHOUT_GPU();
  std::uint64_t seed = 700;
  const double tol = 1e-5;
  for (DType dt : {DType::F32, DType::F64}) {
    for (const Shape& s : kImageShapes) {
      const std::int64_t c = s[1];
      const std::string where = " " + shape_text(s);
      // Values off-centre and scaled: the statistics matter.
      const Tensor x = test::random_tensor(s, dt, ++seed, 1.0, 3.0);
      const Tensor gamma = test::random_tensor(Shape{c}, dt, ++seed, 0.5, 1.5);
      const Tensor beta = test::random_tensor(Shape{c}, dt, ++seed);
      const Tensor rm0 = test::random_tensor(Shape{c}, dt, ++seed);
      const Tensor rv0 = test::random_tensor(Shape{c}, dt, ++seed, 0.5, 2.0);
      const BatchNormParams p;
      // Train forward: y, the saved statistics, the running statistics updated.
      const Tensor rm = test::clone(rm0), rv = test::clone(rv0);
      const Tensor y = test::poisoned(s, dt), sm = test::poisoned(Shape{c}, dt),
                   si = test::poisoned(Shape{c}, dt);
      const Tensor grm = on_gpu(rm0), grv = on_gpu(rv0), gy = on_gpu(test::poisoned(s, dt));
      const Tensor gsm = on_gpu(test::poisoned(Shape{c}, dt)),
                   gsi = on_gpu(test::poisoned(Shape{c}, dt));
      if (s[0] * s[2] * s[3] > 1) {  // the unbiased variance needs two values per channel
        batchnorm2d_forward_train(test::cpu_context(), x, gamma, beta, rm, rv, y, sm, si, p);
        batchnorm2d_forward_train(gpu(), on_gpu(x), on_gpu(gamma), on_gpu(beta), grm, grv, gy, gsm,
                                  gsi, p);
        test::expect_close(gy.to(Device::cpu()), y, tol, tol, "bn train y" + where);
        test::expect_close(gsm.to(Device::cpu()), sm, tol, tol, "bn save_mean" + where);
        test::expect_close(gsi.to(Device::cpu()), si, tol, tol, "bn save_invstd" + where);
        test::expect_close(grm.to(Device::cpu()), rm, tol, tol, "bn running_mean" + where);
        test::expect_close(grv.to(Device::cpu()), rv, tol, tol, "bn running_var" + where);
        const Tensor dy = test::random_tensor(s, dt, ++seed);
        for (GradMode mode : {GradMode::Assign, GradMode::Accumulate}) {
          const Tensor dx0 = test::random_tensor(s, dt, ++seed);
          const Tensor dg0 = test::random_tensor(Shape{c}, dt, ++seed);
          const Tensor dx = test::clone(dx0), dg = test::clone(dg0), db = test::clone(dg0);
          const Tensor gdx = on_gpu(dx0), gdg = on_gpu(dg0), gdb = on_gpu(dg0);
          batchnorm2d_backward_train(test::cpu_context(), dy, x, gamma, sm, si, dx, dg, db, mode);
          batchnorm2d_backward_train(gpu(), on_gpu(dy), on_gpu(x), on_gpu(gamma), on_gpu(sm),
                                     on_gpu(si), gdx, gdg, gdb, mode);
          test::expect_close(gdx.to(Device::cpu()), dx, tol, tol, "bn train dx" + where);
          test::expect_close(gdg.to(Device::cpu()), dg, tol, tol, "bn train dgamma" + where);
          test::expect_close(gdb.to(Device::cpu()), db, tol, tol, "bn train dbeta" + where);
        }
      }
      // Eval forward and backward, dx alone (as attacks ask) and with the parameter gradients.
      const Tensor ye = test::poisoned(s, dt), gye = on_gpu(test::poisoned(s, dt));
      batchnorm2d_forward_eval(test::cpu_context(), x, gamma, beta, rm0, rv0, ye, p.eps);
      batchnorm2d_forward_eval(gpu(), on_gpu(x), on_gpu(gamma), on_gpu(beta), on_gpu(rm0),
                               on_gpu(rv0), gye, p.eps);
      test::expect_close(gye.to(Device::cpu()), ye, tol, tol, "bn eval y" + where);
      const Tensor dy = test::random_tensor(s, dt, ++seed);
      for (bool params : {false, true}) {
        const Tensor dx = test::poisoned(s, dt), gdx = on_gpu(test::poisoned(s, dt));
        const Tensor dg = params ? test::poisoned(Shape{c}, dt) : Tensor();
        const Tensor db = params ? test::poisoned(Shape{c}, dt) : Tensor();
        const Tensor gdg = params ? on_gpu(test::poisoned(Shape{c}, dt)) : Tensor();
        const Tensor gdb = params ? on_gpu(test::poisoned(Shape{c}, dt)) : Tensor();
        batchnorm2d_backward_eval(test::cpu_context(), dy, x, gamma, rm0, rv0, p.eps, dx, dg, db,
                                  GradMode::Assign);
        batchnorm2d_backward_eval(gpu(), on_gpu(dy), on_gpu(x), on_gpu(gamma), on_gpu(rm0),
                                  on_gpu(rv0), p.eps, gdx, gdg, gdb, GradMode::Assign);
        test::expect_close(gdx.to(Device::cpu()), dx, tol, tol, "bn eval dx" + where);
        if (params) {
          test::expect_close(gdg.to(Device::cpu()), dg, tol, tol, "bn eval dgamma" + where);
          test::expect_close(gdb.to(Device::cpu()), db, tol, tol, "bn eval dbeta" + where);
        }
      }
    }
  }
}

}  // namespace
}  // namespace rp
