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

// What the pre-activation families name and build differently.
struct PreActLayout {
  std::int64_t stem = 0;                 // the stem conv's channels
  std::vector<std::int64_t> planes;      // per group (stage)
  std::vector<int> blocks;               // per group
  std::vector<std::int64_t> strides;     // of each group's first block
  bool shortcut_from_input = false;      // the projection reads x (fast_adversarial's
                                         // PreActBlock), or relu(bn1(x)) (WideResNet)
  bool project_on_stride = false;        // projection when the stride is not 1 as well as when
                                         // the width changes (PreActResNet), or only the latter
  std::vector<std::string> group_names;  // prefixes of the groups' blocks: "layer1." ...
  std::string shortcut;                  // the projection conv: "shortcut.0" or "convShortcut"
  std::string final_bn;                  // "bn" or "bn1"
  std::string head;                      // "linear" or "fc"
};

// out = conv2(relu(bn2(conv1(relu(bn1(x)))))) + shortcut, where the shortcut is x, or a
// strided 1x1 conv (of x or of relu(bn1(x)), per layout) where the block changes the shape.
struct PreActBlock {
  // Declared in PyTorch's registration order: members initialize in this order.
  BatchNormLayer bn1;
  Conv2dLayer conv1;
  BatchNormLayer bn2;
  Conv2dLayer conv2;
  bool projection;
  bool shortcut_from_input;
  Conv2dLayer shortcut;
  Shape in_shape, out_shape;
  Handle a1, sc, c1, a2, out;  // forward
  Handle g_out, g_a2, g_a1;    // backward

  // Lists its convolutions in `convs` (which NetworkBase::prepare plans ahead).
  PreActBlock(ParameterStore& store, ActivationArena& acts, DType dtype,
              std::vector<Conv2dLayer>& convs, const PreActLayout& layout, const std::string& name,
              std::int64_t in_planes, std::int64_t planes, std::int64_t stride, const Shape& in)
      : bn1(BatchNormLayer::create(store, acts, name + ".bn1", in_planes, dtype)),
        conv1(Conv2dLayer::create(store, name + ".conv1", in, planes, 3, stride, 1)),
        bn2(BatchNormLayer::create(store, acts, name + ".bn2", planes, dtype)),
        conv2(Conv2dLayer::create(store, name + ".conv2", conv1.output_shape(), planes, 3, 1, 1)),
        projection(in_planes != planes || (layout.project_on_stride && stride != 1)),
        shortcut_from_input(layout.shortcut_from_input),
        in_shape(in),
        out_shape(conv1.output_shape()) {
    // WideResNet adds x itself whenever the width stays; a stride would break that sum.
    RP_CHECK(projection || stride == 1, name,
             "a stride-" << stride << " block without a projection shortcut");
    convs.push_back(conv1);
    convs.push_back(conv2);
    if (projection) {
      shortcut = Conv2dLayer::create(store, name + "." + layout.shortcut, in, planes, 1, stride, 0);
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
    if (projection) shortcut.forward(ctx, s, shortcut_from_input ? x : a[a1], a[sc]);
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
    if (projection && !shortcut_from_input) {
      shortcut.backward(ctx, s, a[a1], a[g_out], a[g_a1], GradMode::Accumulate, opt);
    }
    relu_backward(ctx, a[a1], a[g_a1], a[g_a1], GradMode::Assign);
    bn1.backward(ctx, s, a, x, a[g_a1], dx, mode, opt);
    if (projection && shortcut_from_input) {
      shortcut.backward(ctx, s, x, a[g_out], dx, GradMode::Accumulate, opt);
    }
    if (!projection) add_backward(ctx, a[g_out], dx, Tensor(), GradMode::Accumulate);
  }
};

class PreActNetwork final : public NetworkBase {
 public:
  PreActNetwork(const NetworkSpec& spec, const PreActLayout& layout, const BuildTarget& target)
      : NetworkBase(spec) {
    conv1_ = Conv2dLayer::create(store_, "conv1", input_shape(), layout.stem, 3, 1, 1);
    convs_.push_back(conv1_);
    Shape shape = conv1_.output_shape();
    stem_out_ = batched(shape);
    g_stem_ = batched(shape);
    std::int64_t in_planes = layout.stem;
    for (std::size_t group = 0; group < layout.planes.size(); ++group) {
      for (int b = 0; b < layout.blocks[group]; ++b) {
        const std::int64_t stride = b == 0 ? layout.strides[group] : 1;
        const std::string name = layout.group_names[group] + std::to_string(b);
        blocks_.emplace_back(store_, acts_, spec_.dtype, convs_, layout, name, in_planes,
                             layout.planes[group], stride, shape);
        block_names_.push_back(name);
        shape = blocks_.back().out_shape;
        in_planes = layout.planes[group];
      }
    }
    bn_ = BatchNormLayer::create(store_, acts_, layout.final_bn, in_planes, spec_.dtype);
    final_ = batched(shape);
    g_final_ = batched(shape);
    g_last_ = blocks_.back().g_out;
    finish(shape, final_, g_final_, layout.head, target);
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
  std::vector<std::string> block_names_;  // layer1.0, block1.layer.0 ...: the profiler's names
};

// int(channels * width), as the robustness library scales its widths.
std::int64_t scaled(const NetworkSpec& spec, std::int64_t channels) {
  const auto v = static_cast<std::int64_t>(static_cast<double>(channels) * spec.width);
  RP_CHECK(v >= 1, spec.arch,
           "width " << spec.width << " leaves no channels in a stage of " << channels);
  return v;
}

}  // namespace

std::unique_ptr<Network> make_preact_resnet18(const NetworkSpec& spec, const BuildTarget& target) {
  RP_CHECK(spec.arch == "preact_resnet18", "make_preact_resnet18",
           "called for architecture '" << spec.arch << "'");
  PreActLayout l;
  l.stem = scaled(spec, 64);
  l.planes = {scaled(spec, 64), scaled(spec, 128), scaled(spec, 256), scaled(spec, 512)};
  l.blocks = {2, 2, 2, 2};
  l.strides = {1, 2, 2, 2};
  l.shortcut_from_input = true;
  l.project_on_stride = true;
  l.group_names = {"layer1.", "layer2.", "layer3.", "layer4."};
  l.shortcut = "shortcut.0";
  l.final_bn = "bn";
  l.head = "linear";
  return std::make_unique<PreActNetwork>(spec, l, target);
}

std::unique_ptr<Network> make_wide_resnet(const NetworkSpec& spec, const BuildTarget& target) {
  int per_group = 0;
  if (spec.arch == "wide_resnet28_10") per_group = 4;  // (depth - 4) / 6
  if (spec.arch == "wide_resnet34_10") per_group = 5;
  RP_CHECK(per_group > 0, "make_wide_resnet",
           "unknown architecture '" << spec.arch << "' (wide_resnet28_10, wide_resnet34_10)");
  constexpr std::int64_t kWiden = 10;
  PreActLayout l;
  l.stem = 16;  // not widened, as in the original
  l.planes = {scaled(spec, 16 * kWiden), scaled(spec, 32 * kWiden), scaled(spec, 64 * kWiden)};
  l.blocks = {per_group, per_group, per_group};
  l.strides = {1, 2, 2};
  l.shortcut_from_input = false;
  l.project_on_stride = false;
  l.group_names = {"block1.layer.", "block2.layer.", "block3.layer."};
  l.shortcut = "convShortcut";
  l.final_bn = "bn1";
  l.head = "fc";
  return std::make_unique<PreActNetwork>(spec, l, target);
}

}  // namespace rp
