// The cuDNN convolutions (kernels/cudnn/conv2d.h, through the public ops of engine/ops/conv2d.h).
//
// Without a GPU: the graph of every convolution the CIFAR ResNets use (ResNet-18/34/50,
// PreActResNet-18 at width 1 and 1/4) is built and passes the frontend's validate() in all
// three directions, which needs no cuDNN handle; the plan-cache key tells every field apart;
// unsupported requests fail with rp::Error naming the op; conv2d_prepare on the CPU.
//
// With a GPU: forward, backward-data and backward-filter against the CPU reference on fresh
// random inputs, by normalized error ||gpu - cpu|| / ||cpu|| <= 1e-5 in f32 (1e-12 in f64; 5e-3
// with TF32), in both grad modes, outputs poisoned first, batch 1 and odd sizes; a plan built
// once per shape and reused while allocations are frozen, where a new shape is refused.
#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "engine/core/error.h"
#include "engine/ops/conv2d.h"
#include "kernels/cudnn/conv2d.h"
#include "tests/support/test_support.h"

namespace rp {
namespace {

using cudnn::Conv2dDirection;
using cudnn::Conv2dPlanKey;

constexpr Conv2dDirection kDirections[] = {Conv2dDirection::Forward, Conv2dDirection::BackwardData,
                                           Conv2dDirection::BackwardFilter};

Conv2dGeometry geometry(std::int64_t n, std::int64_t c_in, std::int64_t hw, std::int64_t c_out,
                        std::int64_t k, std::int64_t stride, std::int64_t pad) {
  Conv2dGeometry g;
  g.n = n;
  g.c_in = c_in;
  g.h = g.w = hw;
  g.c_out = c_out;
  g.kh = g.kw = k;
  g.stride_h = g.stride_w = stride;
  g.pad_h = g.pad_w = pad;
  return g;
}

// The convolutions of the CIFAR ResNets (32x32x3 input) as models/resnet.cpp and
// models/preact_resnet.cpp build them, per example (n = 1): the stem, then per block its 3x3
// (basic, pre-activation) or 1x1-3x3-1x1 (bottleneck) convolutions and a 1x1 projection
// shortcut where the shape changes.
std::vector<Conv2dGeometry> resnet_convolutions(bool bottleneck, const std::vector<int>& blocks,
                                                double width) {
  const auto scaled = [&](std::int64_t c) {
    return static_cast<std::int64_t>(static_cast<double>(c) * width);
  };
  std::vector<Conv2dGeometry> convs;
  const std::int64_t stem = scaled(64);
  convs.push_back(geometry(1, 3, 32, stem, 3, 1, 1));
  std::int64_t in = stem, hw = 32;
  const std::int64_t stage_planes[4] = {64, 128, 256, 512};
  for (int stage = 0; stage < 4; ++stage) {
    const std::int64_t planes = scaled(stage_planes[stage]);
    for (int b = 0; b < blocks[static_cast<std::size_t>(stage)]; ++b) {
      const std::int64_t stride = (stage > 0 && b == 0) ? 2 : 1;
      const std::int64_t out_hw = (hw + 2 - 3) / stride + 1;
      const std::int64_t out = bottleneck ? 4 * planes : planes;
      if (bottleneck) {
        convs.push_back(geometry(1, in, hw, planes, 1, 1, 0));
        convs.push_back(geometry(1, planes, hw, planes, 3, stride, 1));
        convs.push_back(geometry(1, planes, out_hw, out, 1, 1, 0));
      } else {
        convs.push_back(geometry(1, in, hw, planes, 3, stride, 1));
        convs.push_back(geometry(1, planes, out_hw, planes, 3, 1, 1));
      }
      if (stride != 1 || in != out) convs.push_back(geometry(1, in, hw, out, 1, stride, 0));
      in = out;
      hw = out_hw;
    }
  }
  return convs;
}

// Every distinct model convolution at width 1 and 1/4 (the small models of the tests).
std::vector<Conv2dGeometry> model_convolutions() {
  std::vector<Conv2dGeometry> all;
  std::set<std::vector<std::int64_t>> seen;
  for (double width : {1.0, 0.25}) {
    const std::vector<std::vector<Conv2dGeometry>> models = {
        resnet_convolutions(false, {2, 2, 2, 2}, width),  // ResNet-18, PreActResNet-18
        resnet_convolutions(false, {3, 4, 6, 3}, width),  // ResNet-34
        resnet_convolutions(true, {3, 4, 6, 3}, width),   // ResNet-50
    };
    for (const auto& model : models) {
      for (const Conv2dGeometry& g : model) {
        if (seen.insert({g.c_in, g.h, g.c_out, g.kh, g.stride_h, g.pad_h}).second) {
          all.push_back(g);
        }
      }
    }
  }
  return all;
}

std::string describe(const Conv2dPlanKey& k) {
  return cudnn::conv2d_describe(k);
}

TEST(Conv2dCudnnGraph, EveryModelConvolutionValidatesWithoutAGpu) {
  const std::vector<Conv2dGeometry> convs = model_convolutions();
  // 3x3 stride 1 and 2 with padding 1, 1x1 stride 1 and 2 without, at both widths.
  ASSERT_GE(convs.size(), 20u);
  int validated = 0;
  for (Conv2dGeometry g : convs) {
    for (std::int64_t n : {1, 128}) {
      g.n = n;
      for (Conv2dDirection d : kDirections) {
        for (DType dtype : {DType::F32, DType::F64}) {
          for (bool tf32 : {false, true}) {
            const Conv2dPlanKey key = cudnn::conv2d_plan_key(d, g, dtype, tf32);
            EXPECT_NO_THROW(cudnn::conv2d_validate_graph(key)) << describe(key);
            ++validated;
          }
        }
      }
    }
  }
  EXPECT_EQ(validated, static_cast<int>(convs.size()) * 2 * 3 * 2 * 2);
}

TEST(Conv2dCudnnGraph, OddShapesValidate) {
  // Non-square kernels, asymmetric strides and padding, 1x1 images, dilation.
  Conv2dGeometry g = geometry(3, 5, 7, 3, 3, 1, 1);
  g.w = 5;
  g.kw = 2;
  g.stride_w = 2;
  g.pad_w = 0;
  for (Conv2dDirection d : kDirections) {
    Conv2dPlanKey key = cudnn::conv2d_plan_key(d, g, DType::F32, false);
    EXPECT_NO_THROW(cudnn::conv2d_validate_graph(key)) << describe(key);
    key.dilation_h = 2;
    EXPECT_NO_THROW(cudnn::conv2d_validate_graph(key)) << describe(key);
    const Conv2dPlanKey tiny =
        cudnn::conv2d_plan_key(d, geometry(1, 1, 1, 1, 1, 1, 0), DType::F64, false, 8);
    EXPECT_NO_THROW(cudnn::conv2d_validate_graph(tiny)) << describe(tiny);
    // Operands only as aligned as their elements (a weight after an odd-sized parameter).
    key = cudnn::conv2d_plan_key(d, g, DType::F32, false, 4);
    EXPECT_NO_THROW(cudnn::conv2d_validate_graph(key)) << describe(key);
  }
}

TEST(Conv2dCudnnGraph, UnsupportedRequestsFailNamingTheOp) {
  const Conv2dGeometry g = geometry(2, 3, 8, 4, 3, 1, 1);
  auto expect_refused = [](const Conv2dPlanKey& key, const std::string& fragment) {
    const std::string op = cudnn::conv2d_op_name(key.direction);
    for (int check = 0; check < 2; ++check) {
      try {
        if (check == 0) {
          cudnn::conv2d_check_supported(key);
        } else {
          cudnn::conv2d_validate_graph(key);
        }
        ADD_FAILURE() << "accepted " << describe(key);
      } catch (const Error& e) {
        EXPECT_EQ(e.op(), op);
        EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
      }
    }
  };
  for (Conv2dDirection d : kDirections) {
    for (DType dtype : {DType::BF16, DType::F16, DType::I32, DType::U8}) {
      Conv2dPlanKey key = cudnn::conv2d_plan_key(d, g, DType::F32, false);
      key.dtype = dtype;
      expect_refused(key, "f32 or f64");
    }
    Conv2dPlanKey key = cudnn::conv2d_plan_key(d, g, DType::F32, false);
    key.layout = Layout::NHWC;
    expect_refused(key, "NCHW");
    key = cudnn::conv2d_plan_key(d, g, DType::F64, false);
    key.tf32 = true;
    expect_refused(key, "TF32");
    key = cudnn::conv2d_plan_key(d, geometry(1, 3, 2, 4, 5, 1, 1), DType::F32, false);
    expect_refused(key, "does not fit");
    key = cudnn::conv2d_plan_key(d, geometry(0, 3, 8, 4, 3, 1, 1), DType::F32, false);
    expect_refused(key, ">= 1");
    key = cudnn::conv2d_plan_key(d, geometry(1, 3, 8, 4, 3, 0, 1), DType::F32, false);
    expect_refused(key, ">= 1");
    key = cudnn::conv2d_plan_key(d, geometry(1, 3, 8, 4, 3, 1, -1), DType::F32, false);
    expect_refused(key, "padding");
    key = cudnn::conv2d_plan_key(d, geometry(1 << 16, 64, 256, 64, 3, 1, 1), DType::F32, false);
    expect_refused(key, "2^31");
    key = cudnn::conv2d_plan_key(d, g, DType::F32, false, 2);
    expect_refused(key, "aligned");
    key = cudnn::conv2d_plan_key(d, g, DType::F64, false, 4);
    expect_refused(key, "aligned");
  }
}

TEST(Conv2dPlanKey, EqualForEqualParametersDifferentWhenAnyFieldDiffers) {
  const Conv2dGeometry g = geometry(8, 16, 32, 32, 3, 2, 1);
  const Conv2dPlanKey base = cudnn::conv2d_plan_key(Conv2dDirection::Forward, g, DType::F32, false);
  const cudnn::Conv2dPlanKeyHash hash;
  EXPECT_EQ(base, cudnn::conv2d_plan_key(Conv2dDirection::Forward, g, DType::F32, false));
  EXPECT_EQ(hash(base),
            hash(cudnn::conv2d_plan_key(Conv2dDirection::Forward, g, DType::F32, false)));

  std::vector<std::pair<std::string, Conv2dPlanKey>> variants;
  auto vary = [&](const std::string& what, auto&& change) {
    Conv2dPlanKey k = base;
    change(k);
    variants.emplace_back(what, k);
  };
  vary("direction data", [](Conv2dPlanKey& k) { k.direction = Conv2dDirection::BackwardData; });
  vary("direction filter", [](Conv2dPlanKey& k) { k.direction = Conv2dDirection::BackwardFilter; });
  vary("n", [](Conv2dPlanKey& k) { ++k.g.n; });
  vary("c_in", [](Conv2dPlanKey& k) { ++k.g.c_in; });
  vary("h", [](Conv2dPlanKey& k) { ++k.g.h; });
  vary("w", [](Conv2dPlanKey& k) { ++k.g.w; });
  vary("c_out", [](Conv2dPlanKey& k) { ++k.g.c_out; });
  vary("kh", [](Conv2dPlanKey& k) { ++k.g.kh; });
  vary("kw", [](Conv2dPlanKey& k) { ++k.g.kw; });
  vary("stride_h", [](Conv2dPlanKey& k) { ++k.g.stride_h; });
  vary("stride_w", [](Conv2dPlanKey& k) { ++k.g.stride_w; });
  vary("pad_h", [](Conv2dPlanKey& k) { ++k.g.pad_h; });
  vary("pad_w", [](Conv2dPlanKey& k) { ++k.g.pad_w; });
  vary("dilation_h", [](Conv2dPlanKey& k) { ++k.dilation_h; });
  vary("dilation_w", [](Conv2dPlanKey& k) { ++k.dilation_w; });
  vary("dtype", [](Conv2dPlanKey& k) { k.dtype = DType::F64; });
  vary("layout", [](Conv2dPlanKey& k) { k.layout = Layout::NHWC; });
  vary("tf32", [](Conv2dPlanKey& k) { k.tf32 = true; });
  vary("alignment", [](Conv2dPlanKey& k) { k.alignment = 4; });
  std::set<std::size_t> hashes{hash(base)};
  for (const auto& [what, k] : variants) {
    EXPECT_NE(k, base) << what;
    hashes.insert(hash(k));
  }
  // Not required of a hash, but a collision among these neighbours would make a poor one.
  EXPECT_EQ(hashes.size(), variants.size() + 1);
  // The alignment a call's addresses share.
  alignas(16) float data[8] = {};
  EXPECT_EQ(cudnn::conv2d_alignment(&data[0], &data[4], &data[0]), 16);
  EXPECT_EQ(cudnn::conv2d_alignment(&data[0], &data[2], &data[4]), 8);
  EXPECT_EQ(cudnn::conv2d_alignment(&data[4], &data[0], &data[3]), 4);
  // TF32 is an f32 matter: an f64 key ignores the request rather than caching a twin plan.
  EXPECT_EQ(cudnn::conv2d_plan_key(Conv2dDirection::Forward, g, DType::F64, true),
            cudnn::conv2d_plan_key(Conv2dDirection::Forward, g, DType::F64, false));
}

TEST(Conv2dPrepare, ReservesTheCpuWorkspaceAndChecksItsArguments) {
  Context ctx(ContextOptions{Device::cpu(), 0, 2});
  const Shape x{4, 3, 9, 9}, w{5, 3, 3, 3};
  conv2d_prepare(ctx, x, w, Conv2dParams::square(2, 1), DType::F32, true);
  const std::size_t reserved = ctx.workspace_bytes();
  EXPECT_GT(reserved, 0u);
  // The forward pass then runs without growing it, frozen.
  ctx.freeze_allocations(true);
  const Tensor y =
      test::poisoned(conv2d_output_shape(x, w, Conv2dParams::square(2, 1)), DType::F32);
  conv2d_forward(ctx, test::random_tensor(x, DType::F32, 1), test::random_tensor(w, DType::F32, 2),
                 y, Conv2dParams::square(2, 1));
  test::expect_all_finite(y, "conv2d_forward after conv2d_prepare");
  EXPECT_EQ(ctx.workspace_bytes(), reserved);
  ctx.freeze_allocations(false);

  EXPECT_THROW(conv2d_prepare(ctx, x, w, Conv2dParams::square(1, 1), DType::I32, true), Error);
  EXPECT_THROW(
      conv2d_prepare(ctx, Shape{0, 3, 9, 9}, w, Conv2dParams::square(1, 1), DType::F32, true),
      Error);
  EXPECT_THROW(
      conv2d_prepare(ctx, Shape{4, 2, 9, 9}, w, Conv2dParams::square(1, 1), DType::F32, true),
      Error);
}

// ---- on the GPU ------------------------------------------------------------------------------

struct Case {
  std::int64_t n, c_in, h, w, c_out, kh, kw, sh, sw, ph, pw;
  Shape x() const { return Shape{n, c_in, h, w}; }
  Shape wt() const { return Shape{c_out, c_in, kh, kw}; }
  Conv2dParams params() const { return {sh, sw, ph, pw}; }
  std::string name() const {
    std::ostringstream s;
    s << "x" << x() << " w" << wt() << " stride (" << sh << "," << sw << ") pad (" << ph << ","
      << pw << ")";
    return s.str();
  }
};

// Batch 1 and odd sizes; the models' 3x3 stride 1/2 and 1x1 stride 1/2; non-square kernels and
// asymmetric strides; channel counts that are no multiple of anything.
const Case kCases[] = {
    {1, 3, 32, 32, 16, 3, 3, 1, 1, 1, 1},  {3, 16, 16, 16, 32, 3, 3, 2, 2, 1, 1},
    {5, 16, 16, 16, 32, 1, 1, 2, 2, 0, 0}, {2, 32, 8, 8, 128, 1, 1, 1, 1, 0, 0},
    {1, 5, 7, 9, 3, 3, 3, 1, 1, 1, 1},     {7, 3, 11, 13, 5, 3, 2, 2, 1, 1, 0},
    {1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0},     {2, 64, 4, 4, 64, 3, 3, 1, 1, 1, 1},
};

Tensor on_gpu(const Tensor& t) {
  return t.to(Device::cuda(0));
}

// ||a - b|| / ||b|| over every element, in double; a is checked fully written first.
double normalized_error(const Tensor& gpu_result, const Tensor& cpu_result,
                        const std::string& what) {
  const Tensor back = gpu_result.to(Device::cpu());
  test::expect_all_finite(back, what + " (fully written)");
  const std::vector<double> a = test::values(back), b = test::values(cpu_result);
  double diff = 0, norm = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff += (a[i] - b[i]) * (a[i] - b[i]);
    norm += b[i] * b[i];
  }
  return std::sqrt(diff) / std::sqrt(norm);
}

double tolerance(DType dtype, bool tf32) {
  if (dtype == DType::F64) return 1e-12;
  return tf32 ? 5e-3 : 1e-5;
}

// Every direction and grad mode of one case on `gpu` against the CPU reference.
void check_against_cpu(Context& gpu, const Case& c, DType dtype, std::uint64_t seed) {
  const Conv2dParams p = c.params();
  const Shape ys = conv2d_output_shape(c.x(), c.wt(), p);
  const std::string tag = c.name() + " " + dtype_name(dtype) + (gpu.tf32() ? " tf32" : "");
  const double tol = tolerance(dtype, gpu.tf32());
  const Tensor x = test::random_tensor(c.x(), dtype, seed + 1);
  const Tensor w = test::random_tensor(c.wt(), dtype, seed + 2);
  const Tensor dy = test::random_tensor(ys, dtype, seed + 3);

  const Tensor y = test::poisoned(ys, dtype), gy = on_gpu(test::poisoned(ys, dtype));
  conv2d_forward(test::cpu_context(), x, w, y, p);
  conv2d_forward(gpu, on_gpu(x), on_gpu(w), gy, p);
  EXPECT_LE(normalized_error(gy, y, "forward " + tag), tol) << "forward " << tag;

  for (GradMode mode : {GradMode::Assign, GradMode::Accumulate}) {
    const bool acc = mode == GradMode::Accumulate;
    const std::string m = acc ? " +=" : " =";
    // Assign's output starts poisoned; Accumulate's from fresh values it must add to.
    const Tensor dx0 =
        acc ? test::random_tensor(c.x(), dtype, seed + 4) : test::poisoned(c.x(), dtype);
    const Tensor dx = test::clone(dx0), gdx = on_gpu(dx0);
    conv2d_backward_data(test::cpu_context(), dy, w, dx, p, mode);
    conv2d_backward_data(gpu, on_gpu(dy), on_gpu(w), gdx, p, mode);
    EXPECT_LE(normalized_error(gdx, dx, "backward_data" + m + tag), tol)
        << "backward_data" << m << " " << tag;

    const Tensor dw0 =
        acc ? test::random_tensor(c.wt(), dtype, seed + 5) : test::poisoned(c.wt(), dtype);
    const Tensor dw = test::clone(dw0), gdw = on_gpu(dw0);
    conv2d_backward_filter(test::cpu_context(), x, dy, dw, p, mode);
    conv2d_backward_filter(gpu, on_gpu(x), on_gpu(dy), gdw, p, mode);
    EXPECT_LE(normalized_error(gdw, dw, "backward_filter" + m + tag), tol)
        << "backward_filter" << m << " " << tag;
  }
}

// Restores the shared context's freeze on every exit, so a failure leaves no frozen context to
// the tests after it.
class Unfreeze {
 public:
  explicit Unfreeze(Context& ctx) : ctx_(ctx) {}
  ~Unfreeze() { ctx_.freeze_allocations(false); }
  Unfreeze(const Unfreeze&) = delete;
  Unfreeze& operator=(const Unfreeze&) = delete;

 private:
  Context& ctx_;
};

TEST(Conv2dCudnn, EveryDirectionMatchesTheCpuReferenceF32) {
  RP_SKIP_WITHOUT_GPU();
  std::uint64_t seed = 100;
  for (const Case& c : kCases) check_against_cpu(test::gpu_context(), c, DType::F32, seed += 10);
}

TEST(Conv2dCudnn, EveryDirectionMatchesTheCpuReferenceF64) {
  RP_SKIP_WITHOUT_GPU();
  std::uint64_t seed = 200;
  for (const Case& c : kCases) check_against_cpu(test::gpu_context(), c, DType::F64, seed += 10);
}

TEST(Conv2dCudnn, Tf32IsWithinItsLooserBound) {
  RP_SKIP_WITHOUT_GPU();
  Context tf32(ContextOptions{Device::cuda(0), 0, 1, true});
  std::uint64_t seed = 300;
  for (const Case& c : kCases) check_against_cpu(tf32, c, DType::F32, seed += 10);
}

TEST(Conv2dCudnn, PlansAreCachedAndReusedWhileFrozen) {
  RP_SKIP_WITHOUT_GPU();
  Context gpu(ContextOptions{Device::cuda(0), 0, 1});
  const Case c{3, 8, 9, 9, 12, 3, 3, 2, 2, 1, 1};
  const Conv2dParams p = c.params();
  const Shape ys = conv2d_output_shape(c.x(), c.wt(), p);
  const Tensor x = on_gpu(test::random_tensor(c.x(), DType::F32, 1));
  const Tensor w = on_gpu(test::random_tensor(c.wt(), DType::F32, 2));
  const Tensor dy = on_gpu(test::random_tensor(ys, DType::F32, 3));
  const Tensor y = Tensor::empty(ys, DType::F32, Device::cuda(0));
  const Tensor dx = Tensor::empty(c.x(), DType::F32, Device::cuda(0));
  const Tensor dw = Tensor::empty(c.wt(), DType::F32, Device::cuda(0));
  auto run_all = [&] {
    conv2d_forward(gpu, x, w, y, p);
    for (GradMode mode : {GradMode::Assign, GradMode::Accumulate}) {
      conv2d_backward_data(gpu, dy, w, dx, p, mode);
      conv2d_backward_filter(gpu, x, dy, dw, p, mode);
    }
  };
  run_all();
  const std::size_t plans = cudnn::conv2d_cached_plans(&gpu.cuda());
  EXPECT_EQ(plans, 3u);  // one per direction: both grad modes share theirs
  {
    Unfreeze restore(gpu);
    gpu.freeze_allocations(true);
    EXPECT_NO_THROW(run_all());
    gpu.synchronize();
    EXPECT_EQ(cudnn::conv2d_cached_plans(&gpu.cuda()), plans);
    // A new shape would build a plan: refused, saying to prepare first.
    const Tensor x2 = on_gpu(test::random_tensor(Shape{2, 8, 9, 9}, DType::F32, 4));
    const Tensor y2 = Tensor::empty(Shape{2, 12, 5, 5}, DType::F32, Device::cuda(0));
    try {
      conv2d_forward(gpu, x2, w, y2, p);
      ADD_FAILURE() << "a plan was built while allocations were frozen";
    } catch (const Error& e) {
      EXPECT_EQ(e.op(), "conv2d_forward");
      EXPECT_NE(std::string(e.what()).find("prepare"), std::string::npos) << e.what();
    }
    EXPECT_EQ(cudnn::conv2d_cached_plans(&gpu.cuda()), plans);
  }
}

TEST(Conv2dCudnn, PrepareBuildsEverythingALoopNeeds) {
  RP_SKIP_WITHOUT_GPU();
  Context gpu(ContextOptions{Device::cuda(0), 0, 1});
  const Case c{4, 16, 8, 8, 32, 1, 1, 2, 2, 0, 0};
  const Conv2dParams p = c.params();
  conv2d_prepare(gpu, c.x(), c.wt(), p, DType::F32, true);
  EXPECT_EQ(cudnn::conv2d_cached_plans(&gpu.cuda()), 3u);
  const Shape ys = conv2d_output_shape(c.x(), c.wt(), p);
  const Tensor x = on_gpu(test::random_tensor(c.x(), DType::F32, 1));
  const Tensor w = on_gpu(test::random_tensor(c.wt(), DType::F32, 2));
  const Tensor dy = on_gpu(test::random_tensor(ys, DType::F32, 3));
  const Tensor y = Tensor::empty(ys, DType::F32, Device::cuda(0));
  const Tensor dx = on_gpu(test::random_tensor(c.x(), DType::F32, 4));
  const Tensor dw = on_gpu(test::random_tensor(c.wt(), DType::F32, 5));
  Unfreeze restore(gpu);
  gpu.freeze_allocations(true);
  EXPECT_NO_THROW({
    conv2d_forward(gpu, x, w, y, p);
    conv2d_backward_data(gpu, dy, w, dx, p, GradMode::Accumulate);
    conv2d_backward_filter(gpu, x, dy, dw, p, GradMode::Accumulate);
    gpu.synchronize();
  });
  // Frozen, a shape nobody prepared is refused by conv2d_prepare too.
  EXPECT_THROW(conv2d_prepare(gpu, Shape{5, 16, 8, 8}, c.wt(), p, DType::F32, true), Error);
}

}  // namespace
}  // namespace rp
