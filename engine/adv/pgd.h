// PGD over a batch, with the robustness library's semantics (its attacker.py and
// attack_steps.py): threat model L2 or Linf (eps, step, steps); random start; random restarts
// keeping, per example, a successful result (or a better objective); use_best keeping, per
// example, the iterate with the best objective, evaluated before each step and once after the
// last. The objective decides the direction (maximized or minimized).
//
// Every iteration runs the network with BN in eval mode and computes the input gradient only
// - no weight gradients - then one fused update (step, projection onto the ball, clip to
// [0, 1]). All buffers are planned when the attack is built; the loop allocates nothing and
// never synchronizes with the host (it runs with the context's allocations frozen after the
// first iteration, which proves it), so it can be captured as a CUDA graph.
//
// The gradient is that of the sum of the per-example objectives (the library takes the mean:
// a per-example scale that neither the sign step nor the normalized L2 step sees).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "engine/adv/objective.h"
#include "engine/core/context.h"
#include "engine/core/philox.h"
#include "engine/nn/network.h"

namespace rp {

enum class ThreatModel { L2, Linf };
ThreatModel parse_threat_model(const std::string& text);  // "2", "l2", "inf", "linf"
const char* threat_model_name(ThreatModel t);             // "2", "inf"

struct AttackParams {
  ThreatModel norm = ThreatModel::Linf;
  double eps = 8.0 / 255;
  double step = 2.0 / 255;
  std::int64_t steps = 10;
  bool random_start = false;
  std::int64_t restarts = 1;  // runs; more than 1 draws a new random start each time
  bool use_best = true;
};
// Throws rp::Error naming the field (negative, NaN or infinite eps or step; steps < 1 ...).
void validate(const AttackParams& p);
// The robustness library's evaluation step: 2.5 eps / steps.
double default_step(double eps, std::int64_t steps);

class PgdAttack {
 public:
  // Plans every buffer for batches of up to max_batch; the network must be prepared for as many.
  PgdAttack(Network& net, Device device, std::int64_t max_batch);

  // Attacks x0 (n, C, H, W) in [0, 1]; returns a view of the result (n, C, H, W), valid until
  // the next run. Restart r draws its random start at offset r * numel(x0) of `rng`.
  const Tensor& run(Context& ctx, const Tensor& x0, Objective& objective, const AttackParams& p,
                    RngStream rng);
  // The objective's value at each returned example (NaN after a single run without use_best,
  // which skips the final evaluation).
  const Tensor& result_values() const { return result_values_view_; }

  // Called with every iterate before its step (tests, figures); reading x costs a host sync.
  using Observer = std::function<void(std::int64_t restart, std::int64_t iteration, const Tensor& x,
                                      const Tensor& values)>;
  void set_observer(Observer o) { observer_ = std::move(o); }

 private:
  // Forward x, the objective's values, and (when wanted) the input gradient.
  void evaluate(Context& ctx, const Tensor& x, Objective& obj, const Tensor& values, bool gradient);

  Network& net_;
  std::int64_t max_batch_;
  Tensor x_, best_x_, result_;
  Tensor values_, best_values_, result_values_, scores_, result_scores_, prior_scores_, upstream_;
  Tensor grad_logits_, grad_rep_;
  Tensor result_view_, result_values_view_;
  Observer observer_;
};

}  // namespace rp
