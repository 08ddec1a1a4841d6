// FAB-T, the targeted Fast Adaptive Boundary attack (Croce & Hein, "Minimally distorted
// adversarial examples with a fast adaptive boundary attack", ICML 2020), Linf and L2, as
// AutoAttack's standard version runs it (fra31/auto-attack fab_pt.py, fab_base.py
// attack_single_run, targeted): for each of the `targets` classes ranked 2nd, 3rd, ... by the
// clean image's logits in turn, on the examples no earlier target broke within eps, one run of
// `iterations` steps from the clean point (one restart, so no random start):
//
//   f = z_t - z_y and g = grad_x f          one forward and one backward (upstream e_t - e_y)
//   the hyperplane {z : f + g.(z - x) = 0}  d1 = its projection of x, d2 = of x0 (inside the
//                                           box [0, 1], engine/ops/fab.h)
//   x <- clip((x + eta d1)(1 - alpha) + (x0 + eta d2) alpha, 0, 1),
//        alpha = min(||d1|| / (||d1|| + ||d2||), alpha_max)
//   a forward pass of x: where misclassified, keep x if closer to x0 than the kept point,
//        then x <- x0 + beta (x - x0)
//
// After a target's run, an example whose kept point lies within eps of x0 is broken (fab_pt.py
// counts a success only within eps). The attack minimizes the perturbation, so the returned
// points are typically well inside the ball.
//
// Every step runs per example on the device (engine/ops/fab.h): a target's loop never
// synchronizes with the host and, after its first iteration, allocates nothing; the host reads
// the examples still standing once per target. BN runs in eval mode; only input gradients are
// computed.
//
// Differences from the reference, none of which changes what is measured: examples broken by
// an earlier target keep being stepped (masked out when accepted) rather than compacted out of
// the batch, so every target costs the whole batch; the projections and steps run in double
// precision (the reference: float32); the projections' multipliers come from a sorted sweep
// (CPU) or a bisection on the multiplier itself (CUDA) where fab_projections.py bisects over
// sorted breakpoints: the same minimizer.
#pragma once

#include <cstdint>

#include "engine/adv/pgd.h"
#include "engine/core/context.h"
#include "engine/nn/network.h"

namespace rp {

struct FabParams {
  ThreatModel norm = ThreatModel::Linf;
  double eps = 8.0 / 255;
  std::int64_t iterations = 100;
  std::int64_t targets = 9;  // the reference's n_target_classes
  double alpha_max = 0.1;
  double eta = 1.05;
  double beta = 0.9;
};
// Throws rp::Error naming the field.
void validate(const FabParams& p);

class FabAttack {
 public:
  // Plans every buffer for batches of up to max_batch; the network must be prepared for as many.
  FabAttack(Network& net, Device device, std::int64_t max_batch);

  // Attacks x0 (n, C, H, W) in [0, 1] with true labels (n) i32. The network must have at least
  // targets + 1 classes. An example misclassified already comes back broken at norm 0 (the
  // AutoAttack sequence passes only correctly classified ones).
  void run(Context& ctx, const Tensor& x0, const Tensor& labels, const FabParams& p);

  // 1 where no target found a misclassified point within eps, 0 where one did (n).
  const Tensor& still_correct() const { return still_view_; }
  // For each broken example the smallest misclassified point its first successful target found;
  // x0 elsewhere (n, C, H, W).
  const Tensor& adversarial() const { return adv_view_; }
  // The norm of each broken example's perturbation, +inf elsewhere (n).
  const Tensor& perturbation_norms() const { return norm_view_; }
  // Forward-and-backward passes over single images in the last run (each also pays one more
  // forward pass, the misclassification check).
  std::int64_t image_iterations() const { return image_iterations_; }

 private:
  Network& net_;
  std::int64_t max_batch_;
  std::int64_t image_iterations_ = 0;
  Tensor x_, best_, adv_, d1_, d2_;                  // (max_batch, C, H, W)
  Tensor f_, flags_, best_norm_, still_, adv_norm_;  // (max_batch)
  Tensor targets_;                                   // (max_batch) i32
  Tensor dlogits_;                                   // (max_batch, K)
  Tensor still_view_, adv_view_, norm_view_;
};

}  // namespace rp
