// Square Attack (Andriushchenko, Croce, Flammarion & Hein, ECCV 2020), Linf and L2, as
// fra31/auto-attack's square.py runs it: forward passes only, so it also breaks models whose
// gradients are masked. Each query changes one square window - the same position for the whole
// batch, side sqrt(p h w) with p from p_init on the reference's schedule (halved at 10, 50,
// 200, 500, 1000, 2000, 4000, 6000 and 8000 of 10,000 queries, rescaled to the budget) - and
// keeps the proposal where it lowers the margin z_y - max_{j != y} z_j.
//   Linf: starts from vertical stripes at +-eps; a query moves the window to a random vertex of
//         the ball per example and channel.
//   L2:   starts from a grid of eta patterns (square.py's centre-weighted squares) rescaled to
//         norm eps; a query (side odd, >= 3) puts a fresh signed eta pattern into window 1 on
//         top of its normalized content, moves the mass of window 2 into it, and rescales the
//         whole perturbation to norm eps (kernels/cpu/square.h).
//
// Each query is one forward pass in eval mode, a margin and a keep-better; the window is drawn
// on the host from Philox, the signs on the device. Every 100 queries the host reads the
// margins once and stops when every example is misclassified (the reference stops likewise,
// checking every query). Unlike the reference, an example already broken keeps accepting
// proposals that lower its margin further (it stays broken; the reference stops querying it).
#pragma once

#include <cstdint>

#include "engine/adv/pgd.h"
#include "engine/core/context.h"
#include "engine/core/philox.h"
#include "engine/nn/network.h"

namespace rp {

struct SquareParams {
  ThreatModel norm = ThreatModel::Linf;
  double eps = 8.0 / 255;
  std::int64_t queries = 5000;
  double p_init = 0.8;
};
// Throws rp::Error naming the field.
void validate(const SquareParams& p);
// The fraction of the image the window covers at query `it` of `queries` (the reference's
// schedule, rescaled to 10,000 queries).
double square_p_schedule(double p_init, std::int64_t it, std::int64_t queries);

class SquareAttack {
 public:
  SquareAttack(Network& net, Device device, std::int64_t max_batch);

  // Attacks x0 (n, C, H, W) with true labels (n) i32.
  void run(Context& ctx, const Tensor& x0, const Tensor& labels, const SquareParams& p,
           RngStream rng);
  // The best point of each example (n, C, H, W), and its margin (n): <= 0 where broken.
  const Tensor& adversarial() const { return best_view_; }
  const Tensor& margins() const { return margin_view_; }
  std::int64_t queries_run() const { return queries_run_; }  // forward passes per image

 private:
  Network& net_;
  std::int64_t max_batch_;
  Tensor best_, proposal_, best_margin_, margin_;
  Tensor eta_;  // the L2 variant's eta patterns
  Tensor best_view_, margin_view_;
  std::int64_t queries_run_ = 0;
};

}  // namespace rp
