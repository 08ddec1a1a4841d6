// NetworkBase: what every model shares - input normalization first, a body that the
// architecture defines (stem, stages, any final BN-ReLU), then global average pooling to R(x)
// and a linear layer to logits - and the argument checks and bookkeeping of the Network
// interface. The linear layer's name is the architecture's ("linear" in the robustness
// library's CIFAR nets and fast_adversarial's PreActResNet, "fc" in torchvision and RobustBench).
//
// An architecture registers its layers in PyTorch's order between the constructor and
// finish(), and implements body_forward (normalized input -> final feature map, post-ReLU) and
// body_backward (gradient of that map -> gradient of the normalized input, if wanted).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/nn/activations.h"
#include "engine/nn/layers.h"
#include "engine/nn/network.h"
#include "models/build_target.h"

namespace rp {

class NetworkBase : public Network {
 public:
  const NetworkSpec& spec() const override { return spec_; }
  ParameterStore& parameters() override { return store_; }
  const ParameterStore& parameters() const override { return store_; }
  std::int64_t representation_size() const override { return features_; }

  void prepare(Context& ctx, std::int64_t max_batch) override;
  std::int64_t max_batch() const override { return acts_.max_batch(); }
  std::size_t activation_bytes() const override { return acts_.bytes(); }

  void forward(Context& ctx, const Tensor& x, const ForwardOptions& opt) override;
  const Tensor& logits() const override;
  const Tensor& representation() const override;
  void backward_from_logits(Context& ctx, const Tensor& dlogits,
                            const BackwardOptions& opt) override;
  void backward_from_representation(Context& ctx, const Tensor& drep,
                                    const BackwardOptions& opt) override;
  const Tensor& input_grad() const override;

 protected:
  using Handle = ActivationArena::Handle;

  explicit NetworkBase(NetworkSpec spec);
  // After the body's layers: registers the linear layer as `head` (head.weight, head.bias),
  // plans the head's buffers, allocates and initializes every parameter (only registers them
  // for a plan_only target). `final_shape` is the body's output per example.
  void finish(const Shape& final_shape, Handle final_map, Handle final_grad,
              const std::string& head, const BuildTarget& target);

  Shape input_shape() const { return Shape{spec_.channels, spec_.image_h, spec_.image_w}; }
  Handle batched(const Shape& per_example) { return acts_.batched(per_example, spec_.dtype); }

  virtual void body_forward(Context& ctx, const Tensor& xn, BnMode bn, LastRelu last) = 0;
  // From the final map's gradient to dxn, the gradient of the normalized input xn (undefined:
  // not wanted).
  virtual void body_backward(Context& ctx, const Tensor& xn, const Tensor& dxn, BnMode bn,
                             LastRelu last, const BackwardOptions& opt) = 0;

  NetworkSpec spec_;
  ParameterStore store_;
  ActivationArena acts_;
  // Every convolution of the network, listed as the architecture builds it: prepare() plans
  // them all (cuDNN plans, workspace) before any loop runs with allocations frozen.
  std::vector<Conv2dLayer> convs_;

 private:
  void backward_from_pool(Context& ctx, const BackwardOptions& opt);
  void check_backward(const char* op, const Tensor& grad, std::int64_t cols) const;

  InputNormalizer normalizer_;
  LinearLayer linear_;
  std::int64_t features_ = 0;
  Handle xn_ = 0, g_xn_ = 0, g_x_ = 0, final_ = 0, g_final_ = 0, rep_ = 0, g_rep_ = 0, logits_ = 0;
  Tensor input_;  // the last forward's x, for the normalization's backward
  BnMode bn_mode_ = BnMode::Eval;
  LastRelu last_relu_ = LastRelu::Real;
  bool have_forward_ = false, have_logits_ = false, have_input_grad_ = false;
};

}  // namespace rp
