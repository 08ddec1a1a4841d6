#include "engine/adv/objective.h"

#include <cmath>
#include <utility>

#include "engine/core/error.h"
#include "engine/ops/cross_entropy.h"
#include "engine/ops/dlr.h"
#include "engine/ops/metrics.h"
#include "engine/ops/objectives.h"

namespace rp {

void Objective::score(Context& ctx, const Tensor&, const Tensor& values, const Tensor& scores) {
  ctx.copy(scores, values);
}

CrossEntropyObjective::CrossEntropyObjective(Tensor labels, bool targeted)
    : labels_(std::move(labels)), targeted_(targeted) {
  RP_CHECK(labels_.defined(), name(),
           (targeted_ ? "a targeted attack needs target classes" : "needs the true labels"));
}

void CrossEntropyObjective::check(const Network& net, std::int64_t n) const {
  RP_CHECK(labels_.dtype() == DType::I32 && labels_.shape() == Shape{n}, name(),
           "expected " << n << " i32 " << (targeted_ ? "targets" : "labels") << ", found "
                       << labels_.str());
  if (labels_.device().is_cpu()) {
    const std::int32_t* l = labels_.data<std::int32_t>();
    for (std::int64_t i = 0; i < n; ++i) {
      RP_CHECK(l[i] >= 0 && l[i] < net.spec().num_classes, name(),
               (targeted_ ? "target class " : "label ")
                   << l[i] << " of example " << i << " is outside the model's "
                   << net.spec().num_classes << " classes");
    }
  }
}

void CrossEntropyObjective::values(Context& ctx, const Tensor& out, const Tensor& values) {
  cross_entropy_forward(ctx, out, labels_, values, Tensor());
}

void CrossEntropyObjective::gradient(Context& ctx, const Tensor& out, const Tensor& upstream,
                                     const Tensor& grad) {
  cross_entropy_backward(ctx, out, labels_, upstream, grad, GradMode::Assign);
}

void CrossEntropyObjective::score(Context& ctx, const Tensor& out, const Tensor&,
                                  const Tensor& scores) {
  // 1 where classified as labels_: success is 0 untargeted (minimized), 1 targeted (maximized).
  correct_flags(ctx, out, labels_, scores);
}

RepresentationDistance::RepresentationDistance(Tensor targets) : targets_(std::move(targets)) {
  RP_CHECK(targets_.defined(), name(), "needs target representations");
}

void RepresentationDistance::check(const Network& net, std::int64_t n) const {
  const Shape expected{n, net.representation_size()};
  RP_CHECK(targets_.shape() == expected && targets_.dtype() == net.spec().dtype, name(),
           "expected target representations " << dtype_name(net.spec().dtype) << expected
                                              << ", found " << targets_.str());
}

void RepresentationDistance::values(Context& ctx, const Tensor& out, const Tensor& values) {
  representation_distance_forward(ctx, out, targets_, values);
}

void RepresentationDistance::gradient(Context& ctx, const Tensor& out, const Tensor& upstream,
                                      const Tensor& grad) {
  representation_distance_backward(ctx, out, targets_, upstream, grad, GradMode::Assign);
}

CoordinateObjective::CoordinateObjective(Tensor coordinates, std::optional<double> hinge)
    : coordinates_(std::move(coordinates)), hinge_(hinge) {
  RP_CHECK(coordinates_.defined(), name(), "needs coordinates");
  RP_CHECK(!hinge_ || std::isfinite(*hinge_), name(), "tau must be finite, found " << *hinge_);
}

void CoordinateObjective::check(const Network& net, std::int64_t n) const {
  RP_CHECK(coordinates_.dtype() == DType::I32 && coordinates_.shape() == Shape{n}, name(),
           "expected " << n << " i32 coordinates, found " << coordinates_.str());
  if (coordinates_.device().is_cpu()) {
    const std::int32_t* k = coordinates_.data<std::int32_t>();
    for (std::int64_t i = 0; i < n; ++i) {
      RP_CHECK(k[i] >= 0 && k[i] < net.representation_size(), name(),
               "coordinate " << k[i] << " of example " << i << " is outside R(x)'s "
                             << net.representation_size() << " coordinates");
    }
  }
}

void CoordinateObjective::values(Context& ctx, const Tensor& out, const Tensor& values) {
  coordinate_forward(ctx, out, coordinates_, hinge_, values);
}

void CoordinateObjective::gradient(Context& ctx, const Tensor& out, const Tensor& upstream,
                                   const Tensor& grad) {
  coordinate_backward(ctx, out, coordinates_, hinge_, upstream, grad, GradMode::Assign);
}

DlrObjective::DlrObjective(Tensor labels, Tensor targets)
    : labels_(std::move(labels)), targets_(std::move(targets)) {
  RP_CHECK(labels_.defined(), name(), "needs the true labels");
}

void DlrObjective::check(const Network& net, std::int64_t n) const {
  const std::int64_t k = net.spec().num_classes, needed = targets_.defined() ? 4 : 3;
  RP_CHECK(k >= needed, name(),
           "needs a model with at least " << needed << " classes, found " << k);
  for (const auto& [what, t] :
       {std::pair<const char*, const Tensor*>{"labels", &labels_}, {"targets", &targets_}}) {
    if (!t->defined()) continue;
    RP_CHECK(t->dtype() == DType::I32 && t->shape() == Shape{n}, name(),
             "expected " << n << " i32 " << what << ", found " << t->str());
    if (!t->device().is_cpu()) continue;
    const std::int32_t* c = t->data<std::int32_t>();
    for (std::int64_t i = 0; i < n; ++i) {
      RP_CHECK(c[i] >= 0 && c[i] < k, name(),
               "class " << c[i] << " of example " << i << " (" << what
                        << ") is outside the model's " << k << " classes");
    }
  }
}

void DlrObjective::values(Context& ctx, const Tensor& out, const Tensor& values) {
  dlr_forward(ctx, out, labels_, targets_, values);
}

void DlrObjective::gradient(Context& ctx, const Tensor& out, const Tensor& upstream,
                            const Tensor& grad) {
  dlr_backward(ctx, out, labels_, targets_, upstream, grad, GradMode::Assign);
}

void DlrObjective::score(Context& ctx, const Tensor& out, const Tensor&, const Tensor& scores) {
  correct_flags(ctx, out, labels_, scores);
}

}  // namespace rp
