#include "engine/adv/fab.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "engine/core/error.h"
#include "engine/core/profiler.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/fab.h"
#include "engine/ops/metrics.h"

namespace rp {
namespace {

// Restores the context's allocation freeze on every exit from a target's loop.
class FreezeGuard {
 public:
  explicit FreezeGuard(Context& ctx) : ctx_(ctx), was_(ctx.allocations_frozen()) {}
  ~FreezeGuard() { ctx_.freeze_allocations(was_); }
  void freeze() { ctx_.freeze_allocations(true); }

 private:
  Context& ctx_;
  bool was_;
};

std::vector<double> as_doubles(const Tensor& host) {
  if (host.dtype() == DType::F64) return host.to_vector<double>();
  const std::vector<float> f = host.to_vector<float>();
  return std::vector<double>(f.begin(), f.end());
}

}  // namespace

void validate(const FabParams& p) {
  RP_CHECK(std::isfinite(p.eps) && p.eps >= 0, "fab",
           "eps must be a finite value >= 0, found " << p.eps);
  RP_CHECK(p.iterations >= 1, "fab", "iterations must be >= 1, found " << p.iterations);
  RP_CHECK(p.targets >= 1, "fab", "target classes must be >= 1, found " << p.targets);
  RP_CHECK(p.alpha_max >= 0 && p.alpha_max <= 1, "fab",
           "alpha_max must lie in [0, 1], found " << p.alpha_max);
  RP_CHECK(std::isfinite(p.eta) && p.eta >= 1, "fab",
           "eta must be a finite value >= 1, found " << p.eta);
  RP_CHECK(p.beta >= 0 && p.beta <= 1, "fab", "beta must lie in [0, 1], found " << p.beta);
}

FabAttack::FabAttack(Network& net, Device device, std::int64_t max_batch)
    : net_(net), max_batch_(max_batch) {
  const NetworkSpec& s = net.spec();
  RP_CHECK(max_batch >= 1 && max_batch <= net.max_batch(), "FabAttack",
           "batches of " << max_batch << " on a network prepared for " << net.max_batch());
  const Shape image{max_batch, s.channels, s.image_h, s.image_w}, per{max_batch};
  for (Tensor* t : {&x_, &best_, &adv_, &d1_, &d2_}) *t = Tensor::empty(image, s.dtype, device);
  for (Tensor* t : {&f_, &flags_, &best_norm_, &still_, &adv_norm_}) {
    *t = Tensor::empty(per, s.dtype, device);
  }
  targets_ = Tensor::empty(per, DType::I32, device);
  dlogits_ = Tensor::empty(Shape{max_batch, s.num_classes}, s.dtype, device);
}

void FabAttack::run(Context& ctx, const Tensor& x0, const Tensor& labels, const FabParams& p) {
  validate(p);
  const NetworkSpec& s = net_.spec();
  RP_CHECK(x0.defined() && x0.rank() == 4 && x0.size(0) >= 1 && x0.size(0) <= max_batch_ &&
               x0.shape() == (Shape{x0.size(0), s.channels, s.image_h, s.image_w}) &&
               x0.dtype() == s.dtype,
           "fab",
           "x0: expected a batch of 1 to " << max_batch_ << " " << dtype_name(s.dtype)
                                           << " images of " << s.channels << "x" << s.image_h << "x"
                                           << s.image_w << ", found " << x0.str());
  const std::int64_t n = x0.size(0), k = s.num_classes;
  RP_CHECK(labels.defined() && labels.dtype() == DType::I32 && labels.shape() == Shape{n}, "fab",
           "expected " << n << " i32 labels, found " << labels.str());
  RP_CHECK(p.targets <= k - 1, "fab",
           "target classes must lie in [1, " << k - 1 << "] for a model of " << k
                                             << " classes, found " << p.targets);
  const bool l2 = p.norm == ThreatModel::L2;
  const Tensor x = x_.slice(0, n), best = best_.slice(0, n), adv = adv_.slice(0, n);
  const Tensor d1 = d1_.slice(0, n), d2 = d2_.slice(0, n), f = f_.slice(0, n);
  const Tensor flags = flags_.slice(0, n), best_norm = best_norm_.slice(0, n);
  const Tensor still = still_.slice(0, n), adv_norm = adv_norm_.slice(0, n);
  const Tensor targets = targets_.slice(0, n), dlogits = dlogits_.slice(0, n);
  image_iterations_ = 0;
  fill(ctx, still, 1.0);
  fill(ctx, adv_norm, std::numeric_limits<double>::infinity());
  ctx.copy(adv, x0);
  still_view_ = still;
  adv_view_ = adv;
  norm_view_ = adv_norm;

  // The targets: the clean image's classes ranked 2nd, 3rd, ... by its logits.
  net_.forward(ctx, x0, ForwardOptions{BnMode::Eval, false, true});
  const std::vector<double> logits = as_doubles(net_.logits().to(Device::cpu()));
  std::vector<std::vector<std::int32_t>> ranked(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    std::vector<std::int32_t>& r = ranked[static_cast<std::size_t>(i)];
    r.resize(static_cast<std::size_t>(k));
    std::iota(r.begin(), r.end(), 0);
    const double* row = logits.data() + i * k;
    std::stable_sort(r.begin(), r.end(),
                     [&](std::int32_t a, std::int32_t b) { return row[a] > row[b]; });
  }

  for (std::int64_t t = 1; t <= p.targets; ++t) {
    // Every example broken already: the later targets have nothing to attack.
    const std::vector<double> standing = as_doubles(still.to(Device::cpu()));
    if (std::none_of(standing.begin(), standing.end(), [](double v) { return v != 0; })) break;
    std::vector<std::int32_t> target(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) {
      target[static_cast<std::size_t>(i)] =
          ranked[static_cast<std::size_t>(i)][static_cast<std::size_t>(t)];
    }
    ctx.copy(targets, Tensor::from_vector(target, Shape{n}));
    ctx.copy(x, x0);
    ctx.copy(best, x0);
    fill(ctx, best_norm, std::numeric_limits<double>::infinity());
    FreezeGuard frozen(ctx);
    for (std::int64_t it = 0; it < p.iterations; ++it) {
      {
        const ProfileScope phase(ctx, ProfileKind::Phase, "attack gradient");
        net_.forward(ctx, x, ForwardOptions{BnMode::Eval, false, true});
        fab_logit_gap(ctx, net_.logits(), labels, targets, f, dlogits);
        net_.backward_from_logits(ctx, dlogits, BackwardOptions{false, GradMode::Assign, true});
      }
      {
        const ProfileScope phase(ctx, ProfileKind::Phase, "attack update");
        if (l2) {
          fab_step_l2(ctx, x0, net_.input_grad(), f, p.eta, p.alpha_max, x, d1, d2);
        } else {
          fab_step_linf(ctx, x0, net_.input_grad(), f, p.eta, p.alpha_max, x, d1, d2);
        }
      }
      const ProfileScope phase(ctx, ProfileKind::Phase, "attack forward");
      net_.forward(ctx, x, ForwardOptions{BnMode::Eval, false, true});
      correct_flags(ctx, net_.logits(), labels, flags);
      if (l2) {
        fab_track_l2(ctx, x0, flags, p.beta, x, best, best_norm);
      } else {
        fab_track_linf(ctx, x0, flags, p.beta, x, best, best_norm);
      }
      image_iterations_ += n;
      frozen.freeze();  // everything the loop needs exists after one iteration
    }
    fab_accept(ctx, p.eps, best, best_norm, still, adv, adv_norm);
  }
}

}  // namespace rp
