// Every public op refuses bad arguments - shape, rank, dtype, device, empty batch, aliasing,
// non-finite scalars - with an rp::Error that names the op and the offending argument, before
// touching any memory.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "engine/core/error.h"
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

struct BadCall {
  std::string name;
  std::function<void()> call;
  std::vector<std::string> message_has;  // the op's name and what is wrong
};

Tensor f32(const Shape& s) {
  return Tensor::zeros(s, DType::F32);
}
Tensor f64(const Shape& s) {
  return Tensor::zeros(s, DType::F64);
}
// A tensor that claims to live on a GPU. Checks must refuse it before anything dereferences it.
Tensor on_gpu(const Shape& s) {
  static float fake;
  return Tensor::wrap(&fake, s, DType::F32, Device::cuda(0));
}

std::vector<BadCall> bad_calls() {
  Context& c = test::cpu_context();
  const Shape img{2, 3, 8, 8}, w3{4, 3, 3, 3}, out3{2, 4, 8, 8}, ch{3};
  const Conv2dParams same = Conv2dParams::square(1, 1);
  Tensor labels = Tensor::zeros(Shape{2}, DType::I32);
  Tensor shared = f32(Shape{4, 3, 8, 8});
  return {
      {"conv rank",
       [=, &c] {
         conv2d_forward(c, f32(Shape{3, 8, 8}), f32(w3), f32(out3), same);
       },
       {"conv2d_forward", "x: expected 4-D"}},
      {"conv channels",
       [=, &c] {
         conv2d_forward(c, f32(img), f32(Shape{4, 5, 3, 3}), f32(out3), same);
       },
       {"conv2d_forward", "channels"}},
      {"conv output shape",
       [=, &c] {
         conv2d_forward(c, f32(img), f32(w3), f32(Shape{2, 4, 7, 7}), same);
       },
       {"conv2d_forward", "y: expected shape [2,4,8,8]"}},
      {"conv dtype mix",
       [=, &c] { conv2d_forward(c, f32(img), f64(w3), f32(out3), same); },
       {"conv2d_forward", "w: dtype f64 differs"}},
      {"conv empty batch",
       [=, &c] {
         conv2d_forward(c, f32(Shape{0, 3, 8, 8}), f32(w3), f32(Shape{0, 4, 8, 8}), same);
       },
       {"conv2d_forward", "empty batch"}},
      {"conv device",
       [=, &c] { conv2d_forward(c, on_gpu(img), f32(w3), f32(out3), same); },
       {"conv2d_forward", "x: lives on cuda:0"}},
      {"conv bf16",
       [=, &c] { conv2d_forward(c, Tensor::zeros(img, DType::BF16), f32(w3), f32(out3), same); },
       {"conv2d_forward", "bf16 is not supported"}},
      {"conv nhwc",
       [=, &c] {
         conv2d_forward(c, Tensor::zeros(img, DType::F32, Device::cpu(), Layout::NHWC), f32(w3),
                        f32(out3), same);
       },
       {"conv2d_forward", "NHWC is not supported"}},
      {"conv undefined",
       [=, &c] { conv2d_forward(c, Tensor(), f32(w3), f32(out3), same); },
       {"conv2d_forward", "x: tensor is undefined"}},
      {"conv output aliases input",
       [=, &c] {
         conv2d_forward(c, shared.slice(0, 2), f32(Shape{3, 3, 3, 3}), shared.slice(1, 3), same);
       },
       {"conv2d_forward", "y must not share memory with x"}},
      {"conv backward data shape",
       [=, &c] {
         conv2d_backward_data(c, f32(Shape{2, 4, 4, 4}), f32(w3), f32(img), same, GradMode::Assign);
       },
       {"conv2d_backward_data", "dy: expected shape"}},
      {"conv backward filter shape",
       [=, &c] {
         conv2d_backward_filter(c, f32(img), f32(out3), f32(Shape{4, 2, 3, 3}), same,
                                GradMode::Assign);
       },
       {"conv2d_backward_filter", "channels"}},
      {"bn gamma shape",
       [=, &c] {
         batchnorm2d_forward_eval(c, f32(img), f32(Shape{4}), f32(ch), f32(ch), f32(ch), f32(img),
                                  1e-5);
       },
       {"batchnorm2d_forward_eval", "gamma: expected shape [3]"}},
      {"bn eps",
       [=, &c] {
         batchnorm2d_forward_eval(c, f32(img), f32(ch), f32(ch), f32(ch), f32(ch), f32(img), -1);
       },
       {"batchnorm2d_forward_eval", "eps"}},
      {"bn momentum",
       [=, &c] {
         batchnorm2d_forward_train(c, f32(img), f32(ch), f32(ch), f32(ch), f32(ch), f32(img),
                                   f32(ch), f32(ch), {2.0, 1e-5});
       },
       {"batchnorm2d_forward_train", "momentum"}},
      {"bn backward dx shape",
       [=, &c] {
         batchnorm2d_backward_train(c, f32(img), f32(img), f32(ch), f32(ch), f32(ch),
                                    f32(Shape{2, 3, 8, 7}), Tensor(), Tensor(), GradMode::Assign);
       },
       {"batchnorm2d_backward_train", "dx: expected shape"}},
      {"bn save aliases running stats",
       [=, &c] {
         Tensor rm = f32(ch), rv = f32(ch);
         batchnorm2d_forward_train(c, f32(img), f32(ch), f32(ch), rm, rv, f32(img), rm, rv, {});
       },
       {"batchnorm2d_forward_train", "must not share memory"}},
      {"bn y aliases gamma",
       [=, &c] {
         Tensor g = f32(Shape{2 * 3 * 8 * 8});
         batchnorm2d_forward_eval(c, f32(img), g.slice(0, 3), f32(ch), f32(ch), f32(ch),
                                  g.reshape(img), 1e-5);
       },
       {"batchnorm2d_forward_eval", "y must not share memory with gamma"}},
      {"bn backward eval dgamma aliases gamma",
       [=, &c] {
         Tensor g = f32(ch);
         batchnorm2d_backward_eval(c, f32(img), f32(img), g, f32(ch), f32(ch), 1e-5, f32(img), g,
                                   Tensor(), GradMode::Assign);
       },
       {"batchnorm2d_backward_eval", "dgamma must not share memory with gamma"}},
      {"bn backward eval running var shape",
       [=, &c] {
         batchnorm2d_backward_eval(c, f32(img), f32(img), f32(ch), f32(ch), f32(Shape{2}), 1e-5,
                                   f32(img), Tensor(), Tensor(), GradMode::Assign);
       },
       {"batchnorm2d_backward_eval", "running_var: expected shape [3]"}},
      {"bn empty batch",
       [=, &c] {
         batchnorm2d_forward_eval(c, f32(Shape{0, 3, 2, 2}), f32(ch), f32(ch), f32(ch), f32(ch),
                                  f32(Shape{0, 3, 2, 2}), 1e-5);
       },
       {"batchnorm2d_forward_eval", "empty batch"}},
      {"relu shape",
       [=, &c] {
         relu_forward(c, f32(img), f32(Shape{2, 3, 8, 9}));
       },
       {"relu_forward", "y: expected shape"}},
      {"relu partial overlap",
       [=, &c] { relu_forward(c, shared.slice(0, 2), shared.slice(1, 3)); },
       {"relu_forward", "partially overlaps"}},
      {"relu backward dtype",
       [=, &c] { relu_backward(c, f32(img), f64(img), f32(img), GradMode::Assign); },
       {"relu_backward", "dy: dtype f64 differs"}},
      {"fake relu shape",
       [=, &c] {
         fake_relu_backward(c, f32(img), f32(img), f32(Shape{2, 3}), GradMode::Assign);
       },
       {"fake_relu_backward", "dx: expected shape"}},
      {"add shape",
       [=, &c] {
         add_forward(c, f32(img), f32(Shape{2, 3, 8, 7}), f32(img));
       },
       {"add_forward", "b: expected shape"}},
      {"add empty",
       [=, &c] {
         add_forward(c, f32(Shape{0, 4}), f32(Shape{0, 4}), f32(Shape{0, 4}));
       },
       {"add_forward", "empty batch"}},
      {"add backward device",
       [=, &c] { add_backward(c, f32(img), on_gpu(img), Tensor(), GradMode::Assign); },
       {"add_backward", "da: lives on cuda:0"}},
      {"pool output shape",
       [=, &c] {
         global_avg_pool_forward(c, f32(img), f32(Shape{2, 4}));
       },
       {"global_avg_pool_forward", "y: expected shape [2,3]"}},
      {"pool no pixels",
       [=, &c] {
         global_avg_pool_forward(c, f32(Shape{2, 3, 0, 4}), f32(Shape{2, 3}));
       },
       {"global_avg_pool_forward", "no pixels"}},
      {"pool rank",
       [=, &c] {
         global_avg_pool_backward(c, f32(Shape{2, 3}), f32(Shape{2, 3, 4}), GradMode::Assign);
       },
       {"global_avg_pool_backward", "dx: expected 4-D"}},
      {"linear features",
       [=, &c] {
         linear_forward(c, f32(Shape{2, 5}), f32(Shape{3, 4}), Tensor(), f32(Shape{2, 3}));
       },
       {"linear_forward", "input features"}},
      {"linear bias",
       [=, &c] {
         linear_forward(c, f32(Shape{2, 4}), f32(Shape{3, 4}), f32(Shape{4}), f32(Shape{2, 3}));
       },
       {"linear_forward", "b: expected shape [3]"}},
      {"linear backward weight",
       [=, &c] {
         linear_backward_weight(c, f32(Shape{2, 4}), f32(Shape{3, 3}), f32(Shape{3, 4}), Tensor(),
                                GradMode::Assign);
       },
       {"linear_backward_weight", "dy: expected shape [2,3]"}},
      {"linear empty",
       [=, &c] {
         linear_backward_data(c, f32(Shape{0, 3}), f32(Shape{3, 4}), f32(Shape{0, 4}),
                              GradMode::Assign);
       },
       {"linear_backward_data", "empty batch"}},
      {"ce labels dtype",
       [=, &c] {
         cross_entropy_forward(c, f32(Shape{2, 10}), f32(Shape{2}), f32(Shape{2}), Tensor());
       },
       {"cross_entropy_forward", "labels: expected i32[2]"}},
      {"ce labels count",
       [=, &c] {
         cross_entropy_backward(c, f32(Shape{3, 10}), labels, f32(Shape{3}), f32(Shape{3, 10}),
                                GradMode::Assign);
       },
       {"cross_entropy_backward", "labels: expected i32[3]"}},
      {"ce mean shape",
       [=, &c] {
         cross_entropy_forward(c, f32(Shape{2, 10}), labels, f32(Shape{2}), f32(Shape{2}));
       },
       {"cross_entropy_forward", "mean: expected shape [1]"}},
      {"normalize std shape",
       [=, &c] { normalize_forward(c, f32(img), f32(ch), f32(Shape{1}), f32(img)); },
       {"normalize_forward", "std: expected shape [3]"}},
      {"normalize backward device",
       [=, &c] {
         normalize_backward(c, f32(img), f32(img), f32(ch), on_gpu(img), GradMode::Assign);
       },
       {"normalize_backward", "dx: lives on cuda:0"}},
      {"sgd shapes",
       [=, &c] { sgd_step(c, f32(Shape{10}), f32(Shape{9}), f32(Shape{10}), {}); },
       {"sgd_step", "grads: expected shape [10]"}},
      {"sgd empty",
       [=, &c] { sgd_step(c, f32(Shape{0}), f32(Shape{0}), f32(Shape{0}), {}); },
       {"sgd_step", "empty batch"}},
      {"sgd lr nan",
       [=, &c] {
         sgd_step(c, f32(Shape{4}), f32(Shape{4}), f32(Shape{4}),
                  SgdParams{std::nan(""), 0.9, 0, false});
       },
       {"sgd_step", "lr: expected a finite value"}},
      {"linf step shape",
       [=, &c] {
         pgd_step_linf(c, f32(img), f32(Shape{2, 3, 8, 7}), 0.1, f32(img));
       },
       {"pgd_step_linf", "g: expected shape"}},
      {"l2 step nan alpha",
       [=, &c] { pgd_step_l2(c, f32(img), f32(img), std::nan(""), f32(img)); },
       {"pgd_step_l2", "alpha: expected a finite value"}},
      {"project negative eps",
       [=, &c] { project_linf(c, f32(img), f32(img), -0.1, f32(img)); },
       {"project_linf", "eps: expected a finite value in [0"}},
      {"project out aliases x0",
       [=, &c] {
         Tensor x0 = f32(img);
         project_l2(c, f32(img), x0, 0.1, x0);
       },
       {"project_l2", "out must not share memory with x0"}},
      {"update out aliases g",
       [=, &c] {
         Tensor g = f32(img);
         pgd_update_linf(c, f32(img), g, f32(img), 0.1, 0.1, g);
       },
       {"pgd_update_linf", "out must not share memory with g"}},
      {"update dtype",
       [=, &c] { pgd_update_l2(c, f32(img), f64(img), f32(img), 0.1, 0.1, f32(img)); },
       {"pgd_update_l2", "g: dtype f64 differs"}},
      {"random start empty",
       [=, &c] {
         random_start_linf(c, f32(Shape{0, 3}), 0.1, c.rng(0), f32(Shape{0, 3}));
       },
       {"random_start_linf", "empty batch"}},
      {"random start rank 0",
       [=, &c] { random_start_l2(c, f32(Shape{}), 0.1, c.rng(0), f32(Shape{})); },
       {"random_start_l2", "rank >= 1"}},
      {"norms shape",
       [=, &c] { l2_norm_per_example(c, f32(img), f32(Shape{3})); },
       {"l2_norm_per_example", "norms: expected shape [2]"}},
  };
}

TEST(BadInput, EveryOpRefusesWithAClearMessage) {
  for (const BadCall& b : bad_calls()) {
    try {
      b.call();
      ADD_FAILURE() << b.name << ": no error";
    } catch (const Error& e) {
      const std::string what = e.what();
      for (const std::string& part : b.message_has) {
        EXPECT_NE(what.find(part), std::string::npos)
            << b.name << ": message lacks '" << part << "': " << what;
      }
    }
  }
}

// A CUDA context refuses ops that have no CUDA kernel yet, naming the op. (Only where a GPU
// exists can a CUDA context be made at all.)
TEST(BadInput, CudaContextWithoutCudaKernels) {
  if (!cuda_available()) GTEST_SKIP() << "no usable CUDA device: " << cuda_runtime_info().why_none;
  Context gpu(ContextOptions{Device::cuda(0), 0, 1});
  Tensor x = Tensor::zeros(Shape{2, 3}, DType::F32, Device::cuda(0));
  try {
    relu_forward(gpu, x, x);
    SUCCEED();  // a CUDA kernel exists
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("relu_forward"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace rp
