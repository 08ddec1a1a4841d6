#include "models/resnet.h"

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

// Widths are int(64 * width) etc., as the library's `wm` argument computes them.
std::int64_t scaled(std::int64_t channels, double width) {
  const auto c = static_cast<std::int64_t>(static_cast<double>(channels) * width);
  RP_CHECK(c >= 1, "resnet", "width " << width << " leaves no channels in a stage of " << channels);
  return c;
}

// The block's final ReLU backward: a real one, or the identity (fake or skipped) on the
// network's last block.
void final_relu_backward(Context& ctx, const Tensor& y, const Tensor& dy, const Tensor& dx,
                         bool pass_through) {
  if (pass_through) {
    fake_relu_backward(ctx, y, dy, dx, GradMode::Assign);
  } else {
    relu_backward(ctx, y, dy, dx, GradMode::Assign);
  }
}

// What the two families name and build differently.
struct Layout {
  bool imagenet_stem;    // conv 7x7 stride 2 + max-pool 3/2/1, or the CIFAR 3x3 stride-1 conv
  const char* shortcut;  // the projection's module: "shortcut" or torchvision's "downsample"
  const char* head;      // the linear layer: "linear" or torchvision's "fc"
};
constexpr Layout kCifar{false, "shortcut", "linear"};
constexpr Layout kImageNet{true, "downsample", "fc"};

// Planning context for blocks: the store, the activation arena, the dtype, the network's list
// of convolutions (which NetworkBase::prepare plans ahead) and the layout's names.
struct Planner {
  ParameterStore& store;
  ActivationArena& acts;
  DType dtype;
  std::vector<Conv2dLayer>& convs;
  const Layout& layout;
  Handle batched(const Shape& per_example) { return acts.batched(per_example, dtype); }
  Conv2dLayer conv(const std::string& name, const Shape& in, std::int64_t c_out,
                   std::int64_t kernel, std::int64_t stride, std::int64_t pad) {
    convs.push_back(Conv2dLayer::create(store, name, in, c_out, kernel, stride, pad));
    return convs.back();
  }
};

// An optional projection shortcut: 1x1 strided conv + BN when the shape changes.
struct Shortcut {
  bool projection = false;
  Conv2dLayer conv;
  BatchNormLayer bn;
  Handle conv_out = 0, bn_out = 0;

  Shortcut(Planner& p, const std::string& prefix, const Shape& in_shape, std::int64_t out_planes,
           std::int64_t stride)
      : projection(stride != 1 || in_shape[0] != out_planes) {
    if (!projection) return;
    const std::string name = prefix + "." + p.layout.shortcut;
    conv = p.conv(name + ".0", in_shape, out_planes, 1, stride, 0);
    bn = BatchNormLayer::create(p.store, p.acts, name + ".1", out_planes, p.dtype);
    conv_out = p.batched(conv.output_shape());
    bn_out = p.batched(conv.output_shape());
  }
  // The tensor added to the residual branch.
  const Tensor& forward(Context& ctx, const ParameterStore& s, const ActivationArena& a,
                        const Tensor& x, BnMode mode) const {
    if (!projection) return x;
    conv.forward(ctx, s, x, a[conv_out]);
    bn.forward(ctx, s, a, a[conv_out], a[bn_out], mode);
    return a[bn_out];
  }
  // Adds the shortcut's share of dL/dx to dx (which the residual branch has assigned).
  // `scratch` is a free buffer of the output's shape.
  void backward(Context& ctx, const ParameterStore& s, const ActivationArena& a, const Tensor& x,
                const Tensor& dout, const Tensor& scratch, const Tensor& dx, BnMode mode,
                const BackwardOptions& opt) const {
    if (!projection) {
      if (dx.defined()) add_backward(ctx, dout, dx, Tensor(), GradMode::Accumulate);
      return;
    }
    bn.backward(ctx, s, a, a[conv_out], dout, scratch, mode, opt);
    conv.backward(ctx, s, x, scratch, dx, GradMode::Accumulate, opt);
  }
};

// conv3x3-bn-relu-conv3x3-bn, plus the shortcut, then ReLU.
struct BasicBlock {
  static constexpr std::int64_t kExpansion = 1;
  // Declared in PyTorch's registration order: members initialize in this order.
  Conv2dLayer conv1;
  BatchNormLayer bn1;
  Conv2dLayer conv2;
  BatchNormLayer bn2;
  Shortcut shortcut;
  Handle c1, a1, c2, out;           // forward: conv1, relu(bn1), conv2, relu(bn2 + shortcut)
  Handle g_out, g_pre, g_c2, g_a1;  // backward
  Shape out_shape;

  BasicBlock(Planner& p, const std::string& name, std::int64_t planes, std::int64_t stride,
             const Shape& in_shape)
      : conv1(p.conv(name + ".conv1", in_shape, planes, 3, stride, 1)),
        bn1(BatchNormLayer::create(p.store, p.acts, name + ".bn1", planes, p.dtype)),
        conv2(p.conv(name + ".conv2", conv1.output_shape(), planes, 3, 1, 1)),
        bn2(BatchNormLayer::create(p.store, p.acts, name + ".bn2", planes, p.dtype)),
        shortcut(p, name, in_shape, planes, stride),
        out_shape(conv2.output_shape()) {
    for (Handle* h : {&c1, &a1, &c2, &out, &g_out, &g_pre, &g_c2, &g_a1}) {
      *h = p.batched(out_shape);
    }
  }

  // apply_relu: false for a skipped last ReLU (no_relu).
  void forward(Context& ctx, const ParameterStore& s, const ActivationArena& a, const Tensor& x,
               BnMode mode, bool apply_relu) const {
    conv1.forward(ctx, s, x, a[c1]);
    bn1.forward(ctx, s, a, a[c1], a[a1], mode, BnEpilogue{Tensor(), true});
    conv2.forward(ctx, s, a[a1], a[c2]);
    const Tensor& residual = shortcut.forward(ctx, s, a, x, mode);
    bn2.forward(ctx, s, a, a[c2], a[out], mode, BnEpilogue{residual, apply_relu});
  }

  // From a[g_out] to dx (assigned; undefined: not wanted).
  void backward(Context& ctx, const ParameterStore& s, const ActivationArena& a, const Tensor& x,
                const Tensor& dx, BnMode mode, bool pass_through,
                const BackwardOptions& opt) const {
    final_relu_backward(ctx, a[out], a[g_out], a[g_pre], pass_through);
    bn2.backward(ctx, s, a, a[c2], a[g_pre], a[g_c2], mode, opt);
    conv2.backward(ctx, s, a[a1], a[g_c2], a[g_a1], GradMode::Assign, opt);
    bn1.backward(ctx, s, a, a[c1], a[g_a1], a[g_a1], mode, opt, a[a1]);
    conv1.backward(ctx, s, x, a[g_a1], dx, GradMode::Assign, opt);
    shortcut.backward(ctx, s, a, x, a[g_pre], a[g_c2], dx, mode, opt);
  }
};

// conv1x1-bn-relu-conv3x3(stride)-bn-relu-conv1x1-bn, plus the shortcut, then ReLU.
struct Bottleneck {
  static constexpr std::int64_t kExpansion = 4;
  // Declared in PyTorch's registration order: members initialize in this order.
  Conv2dLayer conv1;
  BatchNormLayer bn1;
  Conv2dLayer conv2;
  BatchNormLayer bn2;
  Conv2dLayer conv3;
  BatchNormLayer bn3;
  Shortcut shortcut;
  Handle c1, a1, c2, a2, c3, out;         // forward
  Handle g_out, g_pre, g_c3, g_a2, g_a1;  // backward
  Shape out_shape;

  Bottleneck(Planner& p, const std::string& name, std::int64_t planes, std::int64_t stride,
             const Shape& in_shape)
      : conv1(p.conv(name + ".conv1", in_shape, planes, 1, 1, 0)),
        bn1(BatchNormLayer::create(p.store, p.acts, name + ".bn1", planes, p.dtype)),
        conv2(p.conv(name + ".conv2", conv1.output_shape(), planes, 3, stride, 1)),
        bn2(BatchNormLayer::create(p.store, p.acts, name + ".bn2", planes, p.dtype)),
        conv3(p.conv(name + ".conv3", conv2.output_shape(), planes * kExpansion, 1, 1, 0)),
        bn3(BatchNormLayer::create(p.store, p.acts, name + ".bn3", planes * kExpansion, p.dtype)),
        shortcut(p, name, in_shape, planes * kExpansion, stride),
        out_shape(conv3.output_shape()) {
    const Shape s1 = conv1.output_shape(), s2 = conv2.output_shape();
    c1 = p.batched(s1);
    a1 = p.batched(s1);
    g_a1 = p.batched(s1);
    c2 = p.batched(s2);
    a2 = p.batched(s2);
    g_a2 = p.batched(s2);
    for (Handle* h : {&c3, &out, &g_out, &g_pre, &g_c3}) *h = p.batched(out_shape);
  }

  // apply_relu: false for a skipped last ReLU (no_relu).
  void forward(Context& ctx, const ParameterStore& s, const ActivationArena& a, const Tensor& x,
               BnMode mode, bool apply_relu) const {
    conv1.forward(ctx, s, x, a[c1]);
    bn1.forward(ctx, s, a, a[c1], a[a1], mode, BnEpilogue{Tensor(), true});
    conv2.forward(ctx, s, a[a1], a[c2]);
    bn2.forward(ctx, s, a, a[c2], a[a2], mode, BnEpilogue{Tensor(), true});
    conv3.forward(ctx, s, a[a2], a[c3]);
    const Tensor& residual = shortcut.forward(ctx, s, a, x, mode);
    bn3.forward(ctx, s, a, a[c3], a[out], mode, BnEpilogue{residual, apply_relu});
  }

  void backward(Context& ctx, const ParameterStore& s, const ActivationArena& a, const Tensor& x,
                const Tensor& dx, BnMode mode, bool pass_through,
                const BackwardOptions& opt) const {
    final_relu_backward(ctx, a[out], a[g_out], a[g_pre], pass_through);
    bn3.backward(ctx, s, a, a[c3], a[g_pre], a[g_c3], mode, opt);
    conv3.backward(ctx, s, a[a2], a[g_c3], a[g_a2], GradMode::Assign, opt);
    bn2.backward(ctx, s, a, a[c2], a[g_a2], a[g_a2], mode, opt, a[a2]);
    conv2.backward(ctx, s, a[a1], a[g_a2], a[g_a1], GradMode::Assign, opt);
    bn1.backward(ctx, s, a, a[c1], a[g_a1], a[g_a1], mode, opt, a[a1]);
    conv1.backward(ctx, s, x, a[g_a1], dx, GradMode::Assign, opt);
    shortcut.backward(ctx, s, a, x, a[g_pre], a[g_c3], dx, mode, opt);
  }
};

template <typename Block>
class ResNet final : public NetworkBase {
 public:
  ResNet(const NetworkSpec& spec, const Layout& layout, const std::vector<int>& blocks_per_stage,
         const BuildTarget& target)
      : NetworkBase(spec), imagenet_stem_(layout.imagenet_stem) {
    Planner p{store_, acts_, spec_.dtype, convs_, layout};
    const std::int64_t stem = scaled(64, spec_.width);
    conv1_ = imagenet_stem_ ? p.conv("conv1", input_shape(), stem, 7, 2, 3)
                            : p.conv("conv1", input_shape(), stem, 3, 1, 1);
    bn1_ = BatchNormLayer::create(store_, acts_, "bn1", stem, spec_.dtype);
    Shape shape = conv1_.output_shape();
    stem_conv_ = p.batched(shape);
    stem_out_ = p.batched(shape);
    g_stem_ = p.batched(shape);
    if (imagenet_stem_) {
      maxpool_ = MaxPoolLayer::create(acts_, "maxpool", shape, 3, 2, 1);
      shape = maxpool_.output_shape();
      pool_out_ = p.batched(shape);
      g_pool_ = p.batched(shape);
    }
    const std::int64_t stage_planes[4] = {64, 128, 256, 512};
    for (int stage = 0; stage < 4; ++stage) {
      const std::int64_t planes = scaled(stage_planes[stage], spec_.width);
      for (int b = 0; b < blocks_per_stage[static_cast<std::size_t>(stage)]; ++b) {
        const std::int64_t stride = (stage > 0 && b == 0) ? 2 : 1;
        const std::string name = "layer" + std::to_string(stage + 1) + "." + std::to_string(b);
        blocks_.emplace_back(p, name, planes, stride, shape);
        block_names_.push_back(name);
        shape = blocks_.back().out_shape;
      }
    }
    finish(shape, blocks_.back().out, blocks_.back().g_out, layout.head, target);
  }

 protected:
  void body_forward(Context& ctx, const Tensor& xn, BnMode bn, LastRelu last) override {
    const ActivationArena& a = acts_;
    {
      const ProfileScope layer(ctx, ProfileKind::Layer, "stem");
      conv1_.forward(ctx, store_, xn, a[stem_conv_]);
      bn1_.forward(ctx, store_, a, a[stem_conv_], a[stem_out_], bn, BnEpilogue{Tensor(), true});
      if (imagenet_stem_) maxpool_.forward(ctx, a, a[stem_out_], a[pool_out_]);
    }
    const Tensor* x = &a[stem_body()];
    for (std::size_t i = 0; i < blocks_.size(); ++i) {
      const bool skip = last == LastRelu::Skipped && i + 1 == blocks_.size();
      const ProfileScope layer(ctx, ProfileKind::Layer, block_names_[i].c_str());
      blocks_[i].forward(ctx, store_, a, *x, bn, !skip);
      x = &a[blocks_[i].out];
    }
  }

  void body_backward(Context& ctx, const Tensor& xn, const Tensor& dxn, BnMode bn, LastRelu last,
                     const BackwardOptions& opt) override {
    const ActivationArena& a = acts_;
    for (std::size_t i = blocks_.size(); i-- > 0;) {
      const Tensor& x = i == 0 ? a[stem_body()] : a[blocks_[i - 1].out];
      const Tensor& dx = i == 0 ? a[imagenet_stem_ ? g_pool_ : g_stem_] : a[blocks_[i - 1].g_out];
      const bool pass = last != LastRelu::Real && i + 1 == blocks_.size();
      const ProfileScope layer(ctx, ProfileKind::Layer, block_names_[i].c_str());
      blocks_[i].backward(ctx, store_, a, x, dx, bn, pass, opt);
    }
    const ProfileScope layer(ctx, ProfileKind::Layer, "stem");
    if (imagenet_stem_) maxpool_.backward(ctx, a, a[g_pool_], a[g_stem_], GradMode::Assign);
    bn1_.backward(ctx, store_, a, a[stem_conv_], a[g_stem_], a[g_stem_], bn, opt, a[stem_out_]);
    conv1_.backward(ctx, store_, xn, a[g_stem_], dxn, GradMode::Assign, opt);
  }

 private:
  // The stem's output, the first block's input: after the max-pool in the ImageNet layout.
  Handle stem_body() const { return imagenet_stem_ ? pool_out_ : stem_out_; }

  bool imagenet_stem_;
  Conv2dLayer conv1_;
  BatchNormLayer bn1_;
  MaxPoolLayer maxpool_;  // ImageNet layout only
  Handle stem_conv_ = 0, stem_out_ = 0, g_stem_ = 0, pool_out_ = 0, g_pool_ = 0;
  std::vector<Block> blocks_;
  std::vector<std::string> block_names_;  // layer1.0 ...: the profiler's layer names
};

}  // namespace

std::unique_ptr<Network> make_resnet(const NetworkSpec& spec, const BuildTarget& target) {
  const std::vector<int> basic18{2, 2, 2, 2}, deep{3, 4, 6, 3};
  if (spec.arch == "resnet18") {
    return std::make_unique<ResNet<BasicBlock>>(spec, kCifar, basic18, target);
  }
  if (spec.arch == "resnet34") {
    return std::make_unique<ResNet<BasicBlock>>(spec, kCifar, deep, target);
  }
  if (spec.arch == "resnet50") {
    return std::make_unique<ResNet<Bottleneck>>(spec, kCifar, deep, target);
  }
  if (spec.arch == "imagenet_resnet18") {
    return std::make_unique<ResNet<BasicBlock>>(spec, kImageNet, basic18, target);
  }
  if (spec.arch == "imagenet_resnet50") {
    return std::make_unique<ResNet<Bottleneck>>(spec, kImageNet, deep, target);
  }
  RP_FAIL("make_resnet", "unknown architecture '"
                             << spec.arch
                             << "' (resnet18, resnet34, resnet50, imagenet_resnet18, "
                                "imagenet_resnet50)");
}

}  // namespace rp
