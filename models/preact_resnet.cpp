#include "models/preact_resnet.h"

#include <string>
#include <vector>

#include "engine/core/error.h"
#include "engine/core/profiler.h"
#include "engine/ops/activation.h"
#include "engine/ops/elementwise.h"
#include "models/network_base.h"

namespace rp {
namespace {

using Handle = ActivationArena::Handle;

// out = conv2(relu(bn2(conv1(relu(bn1(x)))))) + shortcut, where the shortcut is x, or a
// strided 1x1 conv of relu(bn1(x)) when the shape changes.
struct PreActBlock {
  // Declared in PyTorch's registration order: members initialize in this order.
  BatchNormLayer bn1;
  Conv2dLayer conv1;
  BatchNormLayer bn2;
  Conv2dLayer conv2;
  bool projection;
  Conv2dLayer shortcut;
  Shape in_shape, out_shape;
  Handle a1, sc, c1, a2, out;  // forward
  Handle g_out, g_a2, g_a1;    // backward

  // Lists its convolutions in `convs` (which NetworkBase::prepare plans ahead).
  PreActBlock(ParameterStore& store, ActivationArena& acts, DType dtype,
              std::vector<Conv2dLayer>& convs, const std::string& name, std::int64_t in_planes,
              std::int64_t planes, std::int64_t stride, const Shape& in)
      : bn1(BatchNormLayer::create(store, acts, name + ".bn1", in_planes, dtype)),
        conv1(Conv2dLayer::create(store, name + ".conv1", in, planes, 3, stride, 1)),
        bn2(BatchNormLayer::create(store, acts, name + ".bn2", planes, dtype)),
        conv2(Conv2dLayer::create(store, name + ".conv2", conv1.output_shape(), planes, 3, 1, 1)),
        projection(stride != 1 || in_planes != planes),
        in_shape(in),
        out_shape(conv1.output_shape()) {
    convs.push_back(conv1);
    convs.push_back(conv2);
    if (projection) {
      shortcut = Conv2dLayer::create(store, name + ".shortcut.0", in, planes, 1, stride, 0);
      convs.push_back(shortcut);
      sc = acts.batched(out_shape, dtype);
    }
    a1 = acts.batched(in_shape, dtype);
    g_a1 = acts.batched(in_shape, dtype);
    for (Handle* h : {&c1, &a2, &out, &g_out, &g_a2}) *h = acts.batched(out_shape, dtype);
  }

  void forward(Context& ctx, const ParameterStore& s, const ActivationArena& a, const Tensor& x,
               BnMode mode) const {
    bn1.forward(ctx, s, a, x, a[a1], mode);
    relu_forward(ctx, a[a1], a[a1]);
    if (projection) shortcut.forward(ctx, s, a[a1], a[sc]);
    conv1.forward(ctx, s, a[a1], a[c1]);
    bn2.forward(ctx, s, a, a[c1], a[a2], mode);
    relu_forward(ctx, a[a2], a[a2]);
    conv2.forward(ctx, s, a[a2], a[out]);
    add_forward(ctx, a[out], projection ? a[sc] : x, a[out]);
  }

  // From a[g_out] to dx (assigned).
  void backward(Context& ctx, const ParameterStore& s, const ActivationArena& a, const Tensor& x,
                const Tensor& dx, BnMode mode, const BackwardOptions& opt) const {
    conv2.backward(ctx, s, a[a2], a[g_out], a[g_a2], GradMode::Assign, opt);
    relu_backward(ctx, a[a2], a[g_a2], a[g_a2], GradMode::Assign);
    bn2.backward(ctx, s, a, a[c1], a[g_a2], a[g_a2], mode, opt);
    conv1.backward(ctx, s, a[a1], a[g_a2], a[g_a1], GradMode::Assign, opt);
    if (projection) shortcut.backward(ctx, s, a[a1], a[g_out], a[g_a1], GradMode::Accumulate, opt);
    relu_backward(ctx, a[a1], a[g_a1], a[g_a1], GradMode::Assign);
    bn1.backward(ctx, s, a, x, a[g_a1], dx, mode, opt);
    if (!projection) add_backward(ctx, a[g_out], dx, Tensor(), GradMode::Accumulate);
  }
};

class PreActResNet18 final : public NetworkBase {
 public:
  PreActResNet18(const NetworkSpec& spec, Device device, std::uint64_t seed) : NetworkBase(spec) {
    const auto scaled = [&](std::int64_t c) {
      const auto v = static_cast<std::int64_t>(static_cast<double>(c) * spec_.width);
      RP_CHECK(v >= 1, "preact_resnet18", "width " << spec_.width << " leaves no channels");
      return v;
    };
    const std::int64_t stem = scaled(64);
    conv1_ = Conv2dLayer::create(store_, "conv1", input_shape(), stem, 3, 1, 1);
    convs_.push_back(conv1_);
    Shape shape = conv1_.output_shape();
    stem_out_ = batched(shape);
    g_stem_ = batched(shape);
    std::int64_t in_planes = stem;
    const std::int64_t stage_planes[4] = {64, 128, 256, 512};
    for (int stage = 0; stage < 4; ++stage) {
      const std::int64_t planes = scaled(stage_planes[stage]);
      for (int b = 0; b < 2; ++b) {
        const std::int64_t stride = (stage > 0 && b == 0) ? 2 : 1;
        const std::string name = "layer" + std::to_string(stage + 1) + "." + std::to_string(b);
        blocks_.emplace_back(store_, acts_, spec_.dtype, convs_, name, in_planes, planes, stride,
                             shape);
        block_names_.push_back(name);
        shape = blocks_.back().out_shape;
        in_planes = planes;
      }
    }
    bn_ = BatchNormLayer::create(store_, acts_, "bn", in_planes, spec_.dtype);
    final_ = batched(shape);
    g_final_ = batched(shape);
    g_last_ = blocks_.back().g_out;
    finish(shape, final_, g_final_, "linear", device, seed);
  }

 protected:
  void body_forward(Context& ctx, const Tensor& xn, BnMode bn, LastRelu last) override {
    const ActivationArena& a = acts_;
    {
      const ProfileScope layer(ctx, ProfileKind::Layer, "stem");
      conv1_.forward(ctx, store_, xn, a[stem_out_]);
    }
    const Tensor* x = &a[stem_out_];
    for (std::size_t i = 0; i < blocks_.size(); ++i) {
      const ProfileScope layer(ctx, ProfileKind::Layer, block_names_[i].c_str());
      blocks_[i].forward(ctx, store_, a, *x, bn);
      x = &a[blocks_[i].out];
    }
    const ProfileScope layer(ctx, ProfileKind::Layer, "final bn");
    bn_.forward(ctx, store_, a, *x, a[final_], bn);
    if (last != LastRelu::Skipped) relu_forward(ctx, a[final_], a[final_]);
  }

  void body_backward(Context& ctx, const Tensor& xn, const Tensor& dxn, BnMode bn, LastRelu last,
                     const BackwardOptions& opt) override {
    const ActivationArena& a = acts_;
    {
      const ProfileScope layer(ctx, ProfileKind::Layer, "final bn");
      if (last != LastRelu::Real) {
        fake_relu_backward(ctx, a[final_], a[g_final_], a[g_final_], GradMode::Assign);
      } else {
        relu_backward(ctx, a[final_], a[g_final_], a[g_final_], GradMode::Assign);
      }
      bn_.backward(ctx, store_, a, a[blocks_.back().out], a[g_final_], a[g_last_], bn, opt);
    }
    for (std::size_t i = blocks_.size(); i-- > 0;) {
      const Tensor& x = i == 0 ? a[stem_out_] : a[blocks_[i - 1].out];
      const Tensor& dx = i == 0 ? a[g_stem_] : a[blocks_[i - 1].g_out];
      const ProfileScope layer(ctx, ProfileKind::Layer, block_names_[i].c_str());
      blocks_[i].backward(ctx, store_, a, x, dx, bn, opt);
    }
    const ProfileScope layer(ctx, ProfileKind::Layer, "stem");
    conv1_.backward(ctx, store_, xn, a[g_stem_], dxn, GradMode::Assign, opt);
  }

 private:
  Conv2dLayer conv1_;
  BatchNormLayer bn_;
  Handle stem_out_ = 0, g_stem_ = 0, final_ = 0, g_final_ = 0, g_last_ = 0;
  std::vector<PreActBlock> blocks_;
  std::vector<std::string> block_names_;  // layer1.0 ...: the profiler's layer names
};

}  // namespace

std::unique_ptr<Network> make_preact_resnet18(const NetworkSpec& spec, Device device,
                                              std::uint64_t seed) {
  RP_CHECK(spec.arch == "preact_resnet18", "make_preact_resnet18",
           "called for architecture '" << spec.arch << "'");
  return std::make_unique<PreActResNet18>(spec, device, seed);
}

}  // namespace rp
