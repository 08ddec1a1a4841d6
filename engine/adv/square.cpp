#include "engine/adv/square.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/core/error.h"
#include "engine/core/profiler.h"
#include "engine/ops/dlr.h"
#include "engine/ops/objectives.h"
#include "engine/ops/square.h"

namespace rp {
namespace {

class FreezeGuard {
 public:
  explicit FreezeGuard(Context& ctx) : ctx_(ctx), was_(ctx.allocations_frozen()) {}
  ~FreezeGuard() { ctx_.freeze_allocations(was_); }
  void freeze() { ctx_.freeze_allocations(true); }

 private:
  Context& ctx_;
  bool was_;
};

constexpr std::int64_t kStopCheck = 100;  // queries between the host's "all broken?" reads

}  // namespace

void validate(const SquareParams& p) {
  RP_CHECK(std::isfinite(p.eps) && p.eps >= 0, "square",
           "eps must be a finite value >= 0, found " << p.eps);
  RP_CHECK(p.queries >= 1, "square", "queries must be >= 1, found " << p.queries);
  RP_CHECK(p.p_init > 0 && p.p_init <= 1, "square",
           "p_init must lie in (0, 1], found " << p.p_init);
}

double square_p_schedule(double p_init, std::int64_t it, std::int64_t queries) {
  const std::int64_t i =
      static_cast<std::int64_t>(static_cast<double>(it) / static_cast<double>(queries) * 10000.0);
  const std::int64_t bounds[] = {10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000};
  double p = p_init;
  for (std::int64_t b : bounds) {
    if (i > b) p /= 2;
  }
  return p;
}

SquareAttack::SquareAttack(Network& net, Device device, std::int64_t max_batch)
    : net_(net), max_batch_(max_batch) {
  const NetworkSpec& s = net.spec();
  RP_CHECK(max_batch >= 1 && max_batch <= net.max_batch(), "SquareAttack",
           "batches of " << max_batch << " on a network prepared for " << net.max_batch());
  const Shape image{max_batch, s.channels, s.image_h, s.image_w};
  best_ = Tensor::empty(image, s.dtype, device);
  proposal_ = Tensor::empty(image, s.dtype, device);
  best_margin_ = Tensor::empty(Shape{max_batch}, s.dtype, device);
  // Every eta pattern a run can use: the start's and at most one per step of the p schedule.
  eta_ = Tensor::empty(Shape{12 * s.image_h * s.image_w}, s.dtype, device);
  margin_ = Tensor::empty(Shape{max_batch}, s.dtype, device);
}

void SquareAttack::run(Context& ctx, const Tensor& x0, const Tensor& labels, const SquareParams& p,
                       RngStream rng) {
  validate(p);
  const NetworkSpec& s = net_.spec();
  RP_CHECK(x0.defined() && x0.rank() == 4 && x0.size(0) >= 1 && x0.size(0) <= max_batch_ &&
               x0.shape() == (Shape{x0.size(0), s.channels, s.image_h, s.image_w}) &&
               x0.dtype() == s.dtype,
           "square",
           "x0: expected a batch of 1 to " << max_batch_ << " " << dtype_name(s.dtype)
                                           << " images of " << s.channels << "x" << s.image_h << "x"
                                           << s.image_w << ", found " << x0.str());
  const std::int64_t n = x0.size(0);
  RP_CHECK(p.norm == ThreatModel::Linf || (s.image_h >= 5 && s.image_w >= 5 && s.channels <= 16),
           "square",
           "the L2 variant needs images of at least 5x5 with at most 16 channels, found "
               << s.channels << "x" << s.image_h << "x" << s.image_w);
  RP_CHECK(labels.defined() && labels.dtype() == DType::I32 && labels.shape() == Shape{n}, "square",
           "expected " << n << " i32 labels, found " << labels.str());
  const Tensor best = best_.slice(0, n), proposal = proposal_.slice(0, n);
  const Tensor best_margin = best_margin_.slice(0, n), margin = margin_.slice(0, n);
  // Three draws: the stripes, the signs of every query, the windows (on the host).
  const RngStream stripes{rng.seed, rng.stream, rng.offset};
  const std::uint64_t planes = static_cast<std::uint64_t>(max_batch_ * s.channels);
  const RngStream windows{rng.seed, rng.stream ^ (1ull << 55), rng.offset};
  const auto forward_margin = [&](const Tensor& x, const Tensor& out) {
    const ProfileScope phase(ctx, ProfileKind::Phase, "attack forward");
    net_.forward(ctx, x, ForwardOptions{BnMode::Eval, false, true});
    margin_forward(ctx, net_.logits(), labels, out);
  };
  const bool l2 = p.norm == ThreatModel::L2;
  const std::int64_t h = s.image_h, w = s.image_w;
  // The window's side at query `it`: the reference's, odd and at least 3 under L2.
  const auto side_at = [&](std::int64_t it) {
    const double frac = square_p_schedule(p.p_init, it, p.queries);
    std::int64_t side =
        static_cast<std::int64_t>(std::lround(std::sqrt(frac * static_cast<double>(h * w))));
    if (l2) {
      side = std::max<std::int64_t>(side, 3);
      if (side % 2 == 0) ++side;
    }
    return std::clamp<std::int64_t>(side, 1, std::min(h, w));
  };
  // L2: the eta patterns of every side the run uses, uploaded once before the loop.
  std::vector<std::int64_t> eta_side, eta_at;
  const auto eta_of = [&](std::int64_t side) {
    for (std::size_t k = 0; k < eta_side.size(); ++k) {
      if (eta_side[k] == side) return eta_.slice(eta_at[k], eta_at[k] + side * side);
    }
    RP_FAIL("square", "no eta pattern of side " << side);
  };
  if (l2) {
    std::vector<double> table;
    const auto add = [&](std::int64_t side) {
      if (std::find(eta_side.begin(), eta_side.end(), side) != eta_side.end()) return;
      eta_side.push_back(side);
      eta_at.push_back(static_cast<std::int64_t>(table.size()));
      const std::vector<double> e = square_eta(side);
      table.insert(table.end(), e.begin(), e.end());
    };
    add(h / 5);
    for (std::int64_t it = 0; it < p.queries; ++it) add(side_at(it));
    RP_CHECK(static_cast<std::int64_t>(table.size()) <= eta_.numel(), "square",
             "eta patterns need " << table.size() << " values, planned " << eta_.numel());
    const Shape used{static_cast<std::int64_t>(table.size())};
    if (s.dtype == DType::F64) {
      ctx.copy(eta_.slice(0, used[0]), Tensor::from_vector(table, used));
    } else {
      ctx.copy(eta_.slice(0, used[0]),
               Tensor::from_vector(std::vector<float>(table.begin(), table.end()), used));
    }
    square_init_l2(ctx, x0, p.eps, eta_of(h / 5), stripes, best);
  } else {
    square_init_linf(ctx, x0, p.eps, stripes, best);
  }
  forward_margin(best, best_margin);
  queries_run_ = 1;
  FreezeGuard frozen(ctx);
  for (std::int64_t it = 0; it < p.queries; ++it) {
    if (it > 0 && it % kStopCheck == 0) {
      const std::vector<double> m = [&] {
        const Tensor host = best_margin.to(Device::cpu());
        if (host.dtype() == DType::F64) return host.to_vector<double>();
        const std::vector<float> f = host.to_vector<float>();
        return std::vector<double>(f.begin(), f.end());
      }();
      if (std::all_of(m.begin(), m.end(), [](double v) { return v < 0; })) break;
    }
    SquareWindow win;
    win.side = side_at(it);
    const auto draw = [&](std::uint64_t k, std::int64_t range) {
      return std::min<std::int64_t>(
          range - 1,
          static_cast<std::int64_t>(rng_uniform(windows, 5 * static_cast<std::uint64_t>(it) + k) *
                                    static_cast<float>(range)));
    };
    // The reference draws in [0, h - side) (h - side itself never, 0 when they are equal).
    win.top = draw(0, std::max<std::int64_t>(h - win.side, 1));
    win.left = draw(1, std::max<std::int64_t>(w - win.side, 1));
    // The L2 start uses elements up to n C tiles + tiles (at most 2 planes w h); the queries
    // follow.
    const RngStream signs{rng.seed, rng.stream,
                          rng.offset + 2 * planes * static_cast<std::uint64_t>(h * w) +
                              static_cast<std::uint64_t>(it) * planes};
    if (l2) {
      SquareL2Window w2;
      w2.side = win.side;
      w2.top = win.top;
      w2.left = win.left;
      w2.top2 = draw(2, std::max<std::int64_t>(h - win.side, 1));
      w2.left2 = draw(3, std::max<std::int64_t>(w - win.side, 1));
      w2.transpose = rng_uniform(windows, 5 * static_cast<std::uint64_t>(it) + 4) >= 0.5f;
      square_propose_l2(ctx, x0, best, p.eps, w2, eta_of(win.side), signs, proposal);
    } else {
      square_propose_linf(ctx, x0, best, p.eps, win, signs, proposal);
    }
    forward_margin(proposal, margin);
    keep_better(ctx, margin, proposal, false, best_margin, best);
    ++queries_run_;
    frozen.freeze();
  }
  best_view_ = best;
  margin_view_ = best_margin;
}

}  // namespace rp
