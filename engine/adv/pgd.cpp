#include "engine/adv/pgd.h"

#include <cmath>
#include <limits>

#include "engine/core/error.h"
#include "engine/core/profiler.h"
#include "engine/ops/elementwise.h"
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

}  // namespace

ThreatModel parse_threat_model(const std::string& text) {
  if (text == "2" || text == "l2" || text == "L2") return ThreatModel::L2;
  if (text == "inf" || text == "linf" || text == "Linf") return ThreatModel::Linf;
  RP_FAIL("attack", "unknown constraint '" << text << "' (2 or inf)");
}

const char* threat_model_name(ThreatModel t) {
  return t == ThreatModel::L2 ? "2" : "inf";
}

void validate(const AttackParams& p) {
  RP_CHECK(std::isfinite(p.eps) && p.eps >= 0, "attack",
           "eps must be a finite value >= 0, found " << p.eps);
  RP_CHECK(std::isfinite(p.step) && p.step >= 0, "attack",
           "the step (attack-lr) must be a finite value >= 0, found " << p.step);
  RP_CHECK(p.steps >= 1, "attack", "steps must be >= 1, found " << p.steps);
  RP_CHECK(p.restarts >= 1, "attack", "restarts must be >= 1, found " << p.restarts);
}

double default_step(double eps, std::int64_t steps) {
  return 2.5 * eps / static_cast<double>(steps);
}

PgdAttack::PgdAttack(Network& net, Device device, std::int64_t max_batch)
    : net_(net), max_batch_(max_batch) {
  const NetworkSpec& s = net.spec();
  RP_CHECK(max_batch >= 1 && max_batch <= net.max_batch(), "PgdAttack",
           "batches of " << max_batch << " on a network prepared for " << net.max_batch());
  const Shape image{max_batch, s.channels, s.image_h, s.image_w}, per{max_batch};
  for (Tensor* t : {&x_, &best_x_, &result_}) *t = Tensor::empty(image, s.dtype, device);
  for (Tensor* t : {&values_, &best_values_, &result_values_, &scores_, &result_scores_,
                    &prior_scores_, &upstream_}) {
    *t = Tensor::empty(per, s.dtype, device);
  }
  grad_logits_ = Tensor::empty(Shape{max_batch, s.num_classes}, s.dtype, device);
  grad_rep_ = Tensor::empty(Shape{max_batch, net.representation_size()}, s.dtype, device);
}

void PgdAttack::evaluate(Context& ctx, const Tensor& x, Objective& obj, const Tensor& values,
                         bool gradient) {
  const std::int64_t n = x.size(0);
  const bool rep = obj.reads_representation();
  {
    const ProfileScope phase(ctx, ProfileKind::Phase, "attack forward");
    net_.forward(ctx, x, ForwardOptions{BnMode::Eval, obj.fake_relu(), !rep});
    obj.values(ctx, rep ? net_.representation() : net_.logits(), values);
  }
  if (!gradient) return;
  const ProfileScope phase(ctx, ProfileKind::Phase, "attack backward");
  const Tensor& out = rep ? net_.representation() : net_.logits();
  const Tensor grad = (rep ? grad_rep_ : grad_logits_).slice(0, n);
  obj.gradient(ctx, out, upstream_.slice(0, n), grad);
  const BackwardOptions input_only{false, GradMode::Assign, true};
  if (rep) {
    net_.backward_from_representation(ctx, grad, input_only);
  } else {
    net_.backward_from_logits(ctx, grad, input_only);
  }
}

const Tensor& PgdAttack::run(Context& ctx, const Tensor& x0, Objective& obj, const AttackParams& p,
                             RngStream rng) {
  validate(p);
  const NetworkSpec& s = net_.spec();
  RP_CHECK(x0.defined() && x0.rank() == 4 && x0.size(0) >= 1 && x0.size(0) <= max_batch_ &&
               x0.shape() == (Shape{x0.size(0), s.channels, s.image_h, s.image_w}) &&
               x0.dtype() == s.dtype,
           "attack",
           "x0: expected a batch of 1 to " << max_batch_ << " " << dtype_name(s.dtype)
                                           << " images of " << s.channels << "x" << s.image_h << "x"
                                           << s.image_w << ", found " << x0.str());
  const std::int64_t n = x0.size(0);
  obj.check(net_, n);
  const Tensor x = x_.slice(0, n), best_x = best_x_.slice(0, n), result = result_.slice(0, n);
  const Tensor values = values_.slice(0, n), best_values = best_values_.slice(0, n);
  const Tensor result_values = result_values_.slice(0, n);
  const Tensor scores = scores_.slice(0, n), result_scores = result_scores_.slice(0, n);
  const bool maximize = obj.maximize();
  const double worst =
      maximize ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
  // The upstream gradient is +1: ascent and descent differ only in the step's sign.
  fill(ctx, upstream_.slice(0, n), 1.0);
  const double alpha = maximize ? p.step : -p.step;
  const bool random_start = p.random_start || p.restarts > 1;

  FreezeGuard frozen(ctx);
  for (std::int64_t r = 0; r < p.restarts; ++r) {
    if (random_start) {
      const RngStream draw{rng.seed, rng.stream,
                           rng.offset + static_cast<std::uint64_t>(r * x0.numel())};
      if (p.norm == ThreatModel::L2) {
        random_start_l2(ctx, x0, p.eps, draw, x);
      } else {
        random_start_linf(ctx, x0, p.eps, draw, x);
      }
    } else {
      ctx.copy(x, x0);
    }
    if (p.use_best) {
      ctx.copy(best_x, x);
      fill(ctx, best_values, worst);
    }
    for (std::int64_t it = 0; it < p.steps; ++it) {
      evaluate(ctx, x, obj, values, true);
      if (p.use_best) keep_better(ctx, values, x, maximize, best_values, best_x);
      if (observer_) observer_(r, it, x, values);
      const ProfileScope phase(ctx, ProfileKind::Phase, "attack update");
      if (p.norm == ThreatModel::L2) {
        pgd_update_l2(ctx, x, net_.input_grad(), x0, alpha, p.eps, x);
      } else {
        pgd_update_linf(ctx, x, net_.input_grad(), x0, alpha, p.eps, x);
      }
      frozen.freeze();  // everything the loop needs exists after one iteration
    }
    // This restart's answer: the best iterate, the last one included, or simply the last.
    const Tensor& answer = p.use_best ? best_x : x;
    const bool need_values = p.use_best || p.restarts > 1;
    if (need_values) {
      evaluate(ctx, x, obj, values, false);
      if (p.use_best) keep_better(ctx, values, x, maximize, best_values, best_x);
    }
    if (r == 0 && p.restarts == 1) {
      ctx.copy(result, answer);
      if (need_values) {
        ctx.copy(result_values, p.use_best ? best_values : values);
      } else {
        fill(ctx, result_values, std::nan(""));  // not computed: make misuse visible
      }
      continue;
    }
    // Restarts: score this restart's answer (its own forward: it may not be the last iterate).
    evaluate(ctx, answer, obj, values, false);
    const bool rep = obj.reads_representation();
    obj.score(ctx, rep ? net_.representation() : net_.logits(), values, scores);
    if (r == 0) {
      ctx.copy(result, answer);
      ctx.copy(result_values, values);
      ctx.copy(result_scores, scores);
    } else {
      // Keep the earlier answer unless this one scores strictly better. The values follow
      // their rows by the same comparison, made against a copy of the earlier scores.
      const Tensor prior = prior_scores_.slice(0, n);
      ctx.copy(prior, result_scores);
      keep_better(ctx, scores, values.reshape(Shape{n, 1}), obj.maximize_score(), prior,
                  result_values.reshape(Shape{n, 1}));
      keep_better(ctx, scores, answer, obj.maximize_score(), result_scores, result);
    }
  }
  result_view_ = result;
  result_values_view_ = result_values;
  return result_view_;
}

}  // namespace rp
