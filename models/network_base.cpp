#include "models/network_base.h"

#include <utility>

#include "engine/core/error.h"
#include "engine/core/profiler.h"
#include "engine/ops/pool.h"

namespace rp {

NetworkBase::NetworkBase(NetworkSpec spec) : spec_(std::move(spec)) {
  RP_CHECK(spec_.num_classes >= 1, spec_.arch,
           "num_classes must be >= 1, found " << spec_.num_classes);
  RP_CHECK(spec_.width > 0 && spec_.width <= 64, spec_.arch,
           "width multiplier must be in (0, 64], found " << spec_.width);
  RP_CHECK(spec_.channels >= 1 && spec_.image_h >= 1 && spec_.image_w >= 1, spec_.arch,
           "bad input shape (" << spec_.channels << ", " << spec_.image_h << ", " << spec_.image_w
                               << ")");
  RP_CHECK(static_cast<std::int64_t>(spec_.mean.size()) == spec_.channels, spec_.arch,
           "normalization mean has " << spec_.mean.size() << " values for " << spec_.channels
                                     << " channels");
  normalizer_ = InputNormalizer::create(store_, spec_.mean, spec_.std);
  xn_ = batched(input_shape());
  g_xn_ = batched(input_shape());
  g_x_ = batched(input_shape());
}

void NetworkBase::finish(const Shape& final_shape, Handle final_map, Handle final_grad,
                         const std::string& head, const BuildTarget& target) {
  final_ = final_map;
  g_final_ = final_grad;
  features_ = final_shape[0];
  linear_ = LinearLayer::create(store_, head, features_, spec_.num_classes);
  rep_ = batched(Shape{features_});
  g_rep_ = batched(Shape{features_});
  logits_ = batched(Shape{spec_.num_classes});
  if (target.plan_only) return;  // names and shapes only: see BuildTarget
  store_.allocate(target.device, spec_.dtype);
  store_.initialize(target.seed);
}

void NetworkBase::prepare(Context& ctx, std::int64_t max_batch) {
  RP_CHECK(ctx.device() == store_.device(), spec_.arch,
           "parameters live on " << store_.device() << " but the context runs on " << ctx.device());
  RP_CHECK(max_batch >= 1, spec_.arch, "batch size must be >= 1, found " << max_batch);
  // Before the early return: `ctx` may be a context these plans were never built for (each
  // context caches its own; for one that has them this is a lookup per convolution).
  for (const Conv2dLayer& conv : convs_) conv.prepare(ctx, max_batch, spec_.dtype);
  if (acts_.allocated() && acts_.max_batch() == max_batch) return;
  acts_.allocate(ctx.device(), max_batch);
  have_forward_ = false;
}

void NetworkBase::forward(Context& ctx, const Tensor& x, const ForwardOptions& opt) {
  const char* op = "Network::forward";
  RP_CHECK(acts_.allocated(), op, "prepare() the network for a batch size first");
  RP_CHECK(x.defined() && x.rank() == 4, op, "x: expected (N, C, H, W), found " << x.str());
  const Shape expected{x.size(0), spec_.channels, spec_.image_h, spec_.image_w};
  RP_CHECK(x.shape() == expected, op,
           "x: " << spec_.arch << " takes " << input_shape() << " images, found " << x.str());
  RP_CHECK(x.size(0) >= 1 && x.size(0) <= acts_.max_batch(), op,
           "x: batch of " << x.size(0) << ", prepared for 1 to " << acts_.max_batch());
  acts_.bind(x.size(0));
  input_ = x;
  bn_mode_ = opt.bn_mode;
  RP_CHECK(!(opt.fake_relu && opt.no_relu), op, "fake_relu and no_relu exclude each other");
  last_relu_ = opt.no_relu ? LastRelu::Skipped : opt.fake_relu ? LastRelu::Fake : LastRelu::Real;
  {
    const ProfileScope layer(ctx, ProfileKind::Layer, "normalizer");
    normalizer_.forward(ctx, store_, x, acts_[xn_]);
  }
  body_forward(ctx, acts_[xn_], opt.bn_mode, last_relu_);
  const ProfileScope layer(ctx, ProfileKind::Layer, "head (pool, linear)");
  global_avg_pool_forward(ctx, acts_[final_], acts_[rep_]);
  if (opt.logits) linear_.forward(ctx, store_, acts_[rep_], acts_[logits_]);
  if (opt.bn_mode == BnMode::Train) ++store_.batches_tracked;
  have_forward_ = true;
  have_logits_ = opt.logits;
  have_input_grad_ = false;
}

const Tensor& NetworkBase::logits() const {
  RP_CHECK(have_logits_, "Network::logits", "no forward with logits since the last prepare()");
  return acts_[logits_];
}

const Tensor& NetworkBase::representation() const {
  RP_CHECK(have_forward_, "Network::representation", "no forward since the last prepare()");
  return acts_[rep_];
}

const Tensor& NetworkBase::input_grad() const {
  RP_CHECK(have_input_grad_, "Network::input_grad",
           "no backward with input_grad since the last forward");
  return acts_[g_x_];
}

void NetworkBase::check_backward(const char* op, const Tensor& grad, std::int64_t cols) const {
  RP_CHECK(have_forward_, op, "backward without a forward");
  const Shape expected{acts_.batch(), cols};
  RP_CHECK(grad.defined() && grad.shape() == expected, op,
           "expected a gradient of shape " << expected << " (the last forward's batch), found "
                                           << grad.str());
}

void NetworkBase::backward_from_logits(Context& ctx, const Tensor& dlogits,
                                       const BackwardOptions& opt) {
  check_backward("Network::backward_from_logits", dlogits, spec_.num_classes);
  RP_CHECK(have_logits_, "Network::backward_from_logits", "the last forward stopped at R(x)");
  {
    const ProfileScope layer(ctx, ProfileKind::Layer, "head (pool, linear)");
    linear_.backward(ctx, store_, acts_[rep_], dlogits, acts_[g_rep_], opt);
    global_avg_pool_backward(ctx, acts_[g_rep_], acts_[g_final_], GradMode::Assign);
  }
  backward_from_pool(ctx, opt);
}

void NetworkBase::backward_from_representation(Context& ctx, const Tensor& drep,
                                               const BackwardOptions& opt) {
  check_backward("Network::backward_from_representation", drep, features_);
  {
    const ProfileScope layer(ctx, ProfileKind::Layer, "head (pool, linear)");
    global_avg_pool_backward(ctx, drep, acts_[g_final_], GradMode::Assign);
  }
  backward_from_pool(ctx, opt);
}

void NetworkBase::backward_from_pool(Context& ctx, const BackwardOptions& opt) {
  body_backward(ctx, acts_[xn_], opt.input_grad ? acts_[g_xn_] : Tensor(), bn_mode_, last_relu_,
                opt);
  if (opt.input_grad) {
    const ProfileScope layer(ctx, ProfileKind::Layer, "normalizer");
    normalizer_.backward(ctx, store_, input_, acts_[g_xn_], acts_[g_x_]);
  }
  have_input_grad_ = opt.input_grad;
}

}  // namespace rp
