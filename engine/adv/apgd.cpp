#include "engine/adv/apgd.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "engine/core/error.h"
#include "engine/core/profiler.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/metrics.h"
#include "engine/ops/objectives.h"
#include "engine/ops/perturb.h"

namespace rp {
namespace {

// Restores the context's allocation freeze on every exit from the loop.
class FreezeGuard {
 public:
  explicit FreezeGuard(Context& ctx) : ctx_(ctx), was_(ctx.allocations_frozen()) {}
  ~FreezeGuard() { ctx_.freeze_allocations(was_); }
  void freeze() { ctx_.freeze_allocations(true); }

 private:
  Context& ctx_;
  bool was_;
};

ApgdState slice(const ApgdState& s, std::int64_t n) {
  return ApgdState{s.prev_loss.slice(0, n), s.increases.slice(0, n),   s.best_loss.slice(0, n),
                   s.best_last.slice(0, n), s.halved_last.slice(0, n), s.step.slice(0, n),
                   s.best_x.slice(0, n),    s.best_g.slice(0, n)};
}

}  // namespace

void validate(const ApgdParams& p) {
  RP_CHECK(std::isfinite(p.eps) && p.eps >= 0, "apgd",
           "eps must be a finite value >= 0, found " << p.eps);
  RP_CHECK(p.iterations >= 1, "apgd", "iterations must be >= 1, found " << p.iterations);
  RP_CHECK(p.rho >= 0 && p.rho <= 1, "apgd", "rho must lie in [0, 1], found " << p.rho);
  RP_CHECK(p.momentum >= 0 && p.momentum <= 1, "apgd",
           "momentum must lie in [0, 1], found " << p.momentum);
  RP_CHECK(p.restarts >= 1, "apgd", "restarts must be >= 1, found " << p.restarts);
}

std::vector<ApgdCheckpoint> apgd_checkpoints(std::int64_t iterations) {
  RP_CHECK(iterations >= 1, "apgd", "iterations must be >= 1, found " << iterations);
  const auto part = [&](std::int64_t percent) {
    return std::max<std::int64_t>(percent * iterations / 100, 1);
  };
  const std::int64_t shrink = part(3), shortest = part(6);
  std::vector<ApgdCheckpoint> out;
  std::int64_t at = 0;
  for (std::int64_t window = part(22); at + window <= iterations;
       window = std::max(window - shrink, shortest)) {
    at += window;
    out.push_back({at, window});
  }
  return out;
}

ApgdAttack::ApgdAttack(Network& net, Device device, std::int64_t max_batch)
    : net_(net), max_batch_(max_batch) {
  const NetworkSpec& s = net.spec();
  RP_CHECK(max_batch >= 1 && max_batch <= net.max_batch(), "ApgdAttack",
           "batches of " << max_batch << " on a network prepared for " << net.max_batch());
  const Shape image{max_batch, s.channels, s.image_h, s.image_w}, per{max_batch};
  for (Tensor* t : {&x_, &x_prev_, &grad_, &adv_, &state_.best_x, &state_.best_g}) {
    *t = Tensor::empty(image, s.dtype, device);
  }
  for (Tensor* t : {&values_, &flags_, &correct_, &upstream_, &state_.prev_loss, &state_.increases,
                    &state_.best_loss, &state_.best_last, &state_.halved_last, &state_.step}) {
    *t = Tensor::empty(per, s.dtype, device);
  }
  grad_logits_ = Tensor::empty(Shape{max_batch, s.num_classes}, s.dtype, device);
}

void ApgdAttack::begin(Context& ctx, const Tensor& x0, const Tensor& labels) {
  const NetworkSpec& s = net_.spec();
  RP_CHECK(x0.defined() && x0.rank() == 4 && x0.size(0) >= 1 && x0.size(0) <= max_batch_ &&
               x0.shape() == (Shape{x0.size(0), s.channels, s.image_h, s.image_w}) &&
               x0.dtype() == s.dtype,
           "apgd",
           "x0: expected a batch of 1 to " << max_batch_ << " " << dtype_name(s.dtype)
                                           << " images of " << s.channels << "x" << s.image_h << "x"
                                           << s.image_w << ", found " << x0.str());
  n_ = x0.size(0);
  RP_CHECK(labels.defined() && labels.dtype() == DType::I32 && labels.shape() == Shape{n_}, "apgd",
           "expected " << n_ << " i32 labels, found " << labels.str());
  x0_ = x0;
  labels_ = labels;
  image_iterations_ = 0;
  fill(ctx, correct_.slice(0, n_), 1.0);
  ctx.copy(adv_.slice(0, n_), x0);
  correct_view_ = correct_.slice(0, n_);
  adv_view_ = adv_.slice(0, n_);
}

void ApgdAttack::evaluate(Context& ctx, const Tensor& x, Objective& obj, std::int64_t n) {
  {
    const ProfileScope phase(ctx, ProfileKind::Phase, "attack forward");
    net_.forward(ctx, x, ForwardOptions{BnMode::Eval, false, true});
    obj.values(ctx, net_.logits(), values_.slice(0, n));
    // Broken where this iterate is misclassified: keep the first such iterate.
    correct_flags(ctx, net_.logits(), labels_, flags_.slice(0, n));
    keep_better(ctx, flags_.slice(0, n), x, false, correct_.slice(0, n), adv_.slice(0, n));
  }
  const ProfileScope phase(ctx, ProfileKind::Phase, "attack backward");
  const Tensor grad = grad_logits_.slice(0, n);
  obj.gradient(ctx, net_.logits(), upstream_.slice(0, n), grad);
  net_.backward_from_logits(ctx, grad, BackwardOptions{false, GradMode::Assign, true});
  ctx.copy(grad_.slice(0, n), net_.input_grad());
  image_iterations_ += n;
}

void ApgdAttack::run(Context& ctx, Objective& obj, const ApgdParams& p, RngStream rng) {
  validate(p);
  RP_CHECK(n_ >= 1, "apgd", "run before begin");
  RP_CHECK(obj.maximize() && !obj.reads_representation(), "apgd",
           "needs an objective on the logits that is maximized, found " << obj.name());
  const std::int64_t n = n_;
  obj.check(net_, n);
  const std::vector<ApgdCheckpoint> checkpoints = apgd_checkpoints(p.iterations);
  const Tensor x = x_.slice(0, n), x_prev = x_prev_.slice(0, n), grad = grad_.slice(0, n);
  const ApgdState st = slice(state_, n);
  fill(ctx, upstream_.slice(0, n), 1.0);

  FreezeGuard frozen(ctx);
  for (std::int64_t r = 0; r < p.restarts; ++r) {
    const RngStream draw{rng.seed, rng.stream,
                         rng.offset + static_cast<std::uint64_t>(r * x0_.numel())};
    if (p.norm == ThreatModel::L2) {
      random_start_l2(ctx, x0_, p.eps, draw, x);
    } else {
      random_start_linf(ctx, x0_, p.eps, draw, x);
    }
    ctx.copy(x_prev, x);
    evaluate(ctx, x, obj, n);
    // The starting point is the first best point; its loss opens the first window, and
    // "halved last time" holds so that only condition 1 can act at the first checkpoint.
    fill(ctx, st.prev_loss, std::numeric_limits<double>::infinity());
    fill(ctx, st.best_loss, -std::numeric_limits<double>::infinity());
    fill(ctx, st.increases, 0.0);
    apgd_track(ctx, values_.slice(0, n), x, grad, st);
    ctx.copy(st.best_last, st.best_loss);
    fill(ctx, st.halved_last, 1.0);
    fill(ctx, st.step, 2 * p.eps);
    std::size_t next = 0;
    for (std::int64_t it = 0; it < p.iterations; ++it) {
      {
        const ProfileScope phase(ctx, ProfileKind::Phase, "attack update");
        const double a = it == 0 ? 1.0 : p.momentum;
        if (p.norm == ThreatModel::L2) {
          apgd_update_l2(ctx, grad, x0_, st.step, a, p.eps, x, x_prev);
        } else {
          apgd_update_linf(ctx, grad, x0_, st.step, a, p.eps, x, x_prev);
        }
      }
      evaluate(ctx, x, obj, n);
      apgd_track(ctx, values_.slice(0, n), x, grad, st);
      if (next < checkpoints.size() && checkpoints[next].iteration == it + 1) {
        apgd_checkpoint(ctx, checkpoints[next].window, p.rho, st, x, grad);
        ++next;
      }
      frozen.freeze();  // everything the loop needs exists after one iteration
    }
  }
}

}  // namespace rp
