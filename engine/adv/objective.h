// Objectives: what an attack or an experiment optimizes, as small pluggable pieces. Each reads
// the network's logits or its representation R(x), gives per-example values and their
// gradient with respect to that output, and says which way is better.
//
//   CrossEntropyObjective   CE(logits, labels): maximized (untargeted attacks, adversarial
//                           training) or minimized towards target labels (targeted)
//   RepresentationDistance  ||R(x) - r|| / ||r||, minimized (inversion, interpolation)
//   CoordinateObjective     R(x)_k, maximized (feature visualization), or with a hinge
//                           min(R(x)_k - tau, 0), maximized (feature addition)
//   DlrObjective            AutoAttack's DLR loss, untargeted or towards target classes,
//                           maximized (APGD-DLR, APGD-T)
// Objectives that read R(x) run the network with fake-ReLU on its last ReLU, as the paper's
// notebooks do, so a coordinate that is off still gets a gradient.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "engine/core/context.h"
#include "engine/core/tensor.h"
#include "engine/nn/network.h"

namespace rp {

class Objective {
 public:
  virtual ~Objective() = default;
  virtual std::string name() const = 0;
  virtual bool reads_representation() const = 0;  // else the logits
  bool fake_relu() const { return reads_representation(); }
  virtual bool maximize() const = 0;
  // Throws rp::Error when the targets do not fit a batch of n for `net` (before any work).
  virtual void check(const Network& net, std::int64_t n) const = 0;
  // values (n) of the output `out` (n, K or F).
  virtual void values(Context& ctx, const Tensor& out, const Tensor& values) = 0;
  // grad (n, K or F) = d(sum_i upstream_i values_i) / d out.
  virtual void gradient(Context& ctx, const Tensor& out, const Tensor& upstream,
                        const Tensor& grad) = 0;
  // Scores by which restarts are compared (scores (n), and whether higher is better): the
  // objective itself by default; attacks on a classifier compare success instead.
  virtual bool maximize_score() const { return maximize(); }
  virtual void score(Context& ctx, const Tensor& out, const Tensor& values, const Tensor& scores);
};

class CrossEntropyObjective final : public Objective {
 public:
  // labels (n) i32: the true classes (untargeted) or the targets (targeted).
  CrossEntropyObjective(Tensor labels, bool targeted);
  std::string name() const override {
    return targeted_ ? "targeted cross-entropy" : "cross-entropy";
  }
  bool reads_representation() const override { return false; }
  bool maximize() const override { return !targeted_; }
  void check(const Network& net, std::int64_t n) const override;
  void values(Context& ctx, const Tensor& out, const Tensor& values) override;
  void gradient(Context& ctx, const Tensor& out, const Tensor& upstream,
                const Tensor& grad) override;
  // Success: misclassified (untargeted) or classified as the target (targeted).
  bool maximize_score() const override { return targeted_; }
  void score(Context& ctx, const Tensor& out, const Tensor& values, const Tensor& scores) override;

 private:
  Tensor labels_;
  bool targeted_;
};

class RepresentationDistance final : public Objective {
 public:
  explicit RepresentationDistance(Tensor targets);  // (n, F), none all zero
  std::string name() const override { return "representation distance"; }
  bool reads_representation() const override { return true; }
  bool maximize() const override { return false; }
  void check(const Network& net, std::int64_t n) const override;
  void values(Context& ctx, const Tensor& out, const Tensor& values) override;
  void gradient(Context& ctx, const Tensor& out, const Tensor& upstream,
                const Tensor& grad) override;

 private:
  Tensor targets_;
};

class CoordinateObjective final : public Objective {
 public:
  // coordinates (n) i32; hinge: tau of min(R_k - tau, 0), or none for R_k itself.
  CoordinateObjective(Tensor coordinates, std::optional<double> hinge);
  std::string name() const override { return hinge_ ? "feature addition" : "coordinate"; }
  bool reads_representation() const override { return true; }
  bool maximize() const override { return true; }
  void check(const Network& net, std::int64_t n) const override;
  void values(Context& ctx, const Tensor& out, const Tensor& values) override;
  void gradient(Context& ctx, const Tensor& out, const Tensor& upstream,
                const Tensor& grad) override;

 private:
  Tensor coordinates_;
  std::optional<double> hinge_;
};

class DlrObjective final : public Objective {
 public:
  // labels (n) i32: the true classes; targets (n) i32, or undefined for the untargeted loss.
  DlrObjective(Tensor labels, Tensor targets);
  std::string name() const override { return targets_.defined() ? "targeted DLR" : "DLR"; }
  bool reads_representation() const override { return false; }
  bool maximize() const override { return true; }
  // Also refuses a model with fewer classes than the loss reads (3, or 4 when targeted).
  void check(const Network& net, std::int64_t n) const override;
  void values(Context& ctx, const Tensor& out, const Tensor& values) override;
  void gradient(Context& ctx, const Tensor& out, const Tensor& upstream,
                const Tensor& grad) override;
  // Success is misclassification (targeted or not, as AutoAttack counts it): minimized.
  bool maximize_score() const override { return false; }
  void score(Context& ctx, const Tensor& out, const Tensor& values, const Tensor& scores) override;

 private:
  Tensor labels_, targets_;
};

}  // namespace rp
