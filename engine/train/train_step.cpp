#include "engine/train/train_step.h"

#include "engine/core/error.h"
#include "engine/core/profiler.h"
#include "engine/ops/cross_entropy.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/metrics.h"

namespace rp {

TrainStep::TrainStep(Network& net, Device device, std::int64_t max_batch)
    : net_(net), max_batch_(max_batch) {
  const NetworkSpec& s = net.spec();
  RP_CHECK(max_batch >= 1, "TrainStep", "batches of " << max_batch);
  losses_ = Tensor::empty(Shape{max_batch}, s.dtype, device);
  dlosses_ = Tensor::empty(Shape{max_batch}, s.dtype, device);
  dlogits_ = Tensor::empty(Shape{max_batch, s.num_classes}, s.dtype, device);
}

void TrainStep::run(Context& ctx, const Tensor& x, const Tensor& y, const SgdParams& sgd,
                    const Tensor& momentum, const Tensor& stats) {
  const std::int64_t n = x.size(0);
  RP_CHECK(n >= 1 && n <= max_batch_, "TrainStep",
           "a batch of " << n << " on buffers for 1 to " << max_batch_);
  const Tensor dlogits = dlogits_.slice(0, n);
  {
    const ProfileScope phase(ctx, ProfileKind::Phase, "forward");
    net_.forward(ctx, x, ForwardOptions{BnMode::Train, false, true});
    cross_entropy_forward(ctx, net_.logits(), y, losses_.slice(0, n), stats.slice(0, 1));
    count_correct(ctx, net_.logits(), y, stats.slice(1, 2));
  }
  {
    const ProfileScope phase(ctx, ProfileKind::Phase, "backward");
    fill(ctx, dlosses_.slice(0, n), 1.0 / static_cast<double>(n));
    cross_entropy_backward(ctx, net_.logits(), y, dlosses_.slice(0, n), dlogits, GradMode::Assign);
    net_.backward_from_logits(ctx, dlogits, BackwardOptions{true, GradMode::Assign, false});
  }
  const ProfileScope phase(ctx, ProfileKind::Phase, "optimizer");
  sgd_step(ctx, net_.parameters().flat_params(), net_.parameters().flat_grads(), momentum, sgd);
}

}  // namespace rp
