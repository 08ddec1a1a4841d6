// APGD (Croce & Hein, "Reliable evaluation of adversarial robustness with an ensemble of
// diverse parameter-free attacks", ICML 2020, Algorithm 1), Linf and L2, following
// fra31/auto-attack's autopgd_base.py: a random start, an initial step of 2 eps, momentum
// 0.75 (none on the first step), and checkpoints after w_j = ceil(p_j N) iterations
// (p_0 = 0, p_1 = 0.22, p_{j+1} = p_j + max(p_j - p_{j-1} - 0.03, 0.06)) at which an example
// whose loss rose in at most rho = 0.75 of the window's steps - or whose step was kept last
// time and whose best loss has not improved since - halves its step and restarts from its best
// point (with that point's gradient).
//
// The objective is maximized: cross-entropy (APGD-CE), DLR, or targeted DLR (APGD-T). An
// example counts as broken as soon as any iterate is misclassified (its true label compared to
// the argmax); the first such iterate is kept. Restarts re-run from new random starts and
// only add broken examples.
//
// Every decision is made per example on the device (engine/ops/apgd.h): the loop never
// synchronizes with the host and, after its first iteration, allocates nothing (the context's
// allocations are frozen). BN runs in eval mode; only input gradients are computed.
//
// Differences from the reference, none of which changes what is measured: the Linf random
// start is uniform in the ball (the reference rescales a uniform draw to touch its surface);
// the loss-increase count of a window's first step compares with the loss at the previous
// checkpoint, and of the very first window with the starting point's loss (the reference
// compares with a zero-initialized slot there); the L2 step guards a zero gradient with 1e-10
// as the PGD update does (the reference: 1e-12).
#pragma once

#include <cstdint>
#include <vector>

#include "engine/adv/objective.h"
#include "engine/adv/pgd.h"
#include "engine/core/context.h"
#include "engine/core/philox.h"
#include "engine/nn/network.h"
#include "engine/ops/apgd.h"

namespace rp {

struct ApgdParams {
  ThreatModel norm = ThreatModel::Linf;
  double eps = 8.0 / 255;
  std::int64_t iterations = 100;
  double rho = 0.75;
  double momentum = 0.75;
  std::int64_t restarts = 1;
};
// Throws rp::Error naming the field.
void validate(const ApgdParams& p);

// A checkpoint: after `iteration` iterations (counted from 1), closing a window of `window`.
struct ApgdCheckpoint {
  std::int64_t iteration = 0, window = 0;
};
// The reference implementation's integer form of the schedule: the first window
// max(floor(0.22 N), 1), each next one shorter by max(floor(0.03 N), 1) down to
// max(floor(0.06 N), 1); checkpoints up to N.
std::vector<ApgdCheckpoint> apgd_checkpoints(std::int64_t iterations);

class ApgdAttack {
 public:
  // Plans every buffer for batches of up to max_batch; the network must be prepared for as many.
  ApgdAttack(Network& net, Device device, std::int64_t max_batch);

  // Starts attacking x0 (n, C, H, W) in [0, 1] with true labels (n) i32: nothing broken yet.
  // x0 and labels must stay alive and unchanged until the last run.
  void begin(Context& ctx, const Tensor& x0, const Tensor& labels);
  // One APGD run per restart with a maximized objective on the logits. Restart r draws its
  // random start at offset r * numel(x0) of `rng`.
  void run(Context& ctx, Objective& objective, const ApgdParams& p, RngStream rng);

  // 1 where no iterate has been misclassified yet, 0 where the attack broke the example (n).
  const Tensor& still_correct() const { return correct_view_; }
  // The first misclassified iterate of each broken example, x0 elsewhere (n, C, H, W).
  const Tensor& adversarial() const { return adv_view_; }
  // Forward-and-backward passes over single images since begin (throughput reports).
  std::int64_t image_iterations() const { return image_iterations_; }

 private:
  void evaluate(Context& ctx, const Tensor& x, Objective& obj, std::int64_t n);

  Network& net_;
  std::int64_t max_batch_;
  std::int64_t n_ = 0, image_iterations_ = 0;
  Tensor x0_, labels_;
  Tensor x_, x_prev_, grad_, adv_;              // (max_batch, C, H, W)
  Tensor values_, flags_, correct_, upstream_;  // (max_batch)
  Tensor grad_logits_;                          // (max_batch, K)
  ApgdState state_;                             // planned for max_batch
  Tensor correct_view_, adv_view_;
};

}  // namespace rp
