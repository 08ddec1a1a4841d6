#include "engine/ops/objectives.h"

#include <cstdint>
#include <limits>

#include "engine/core/error.h"
#include "engine/ops/backend.h"
#include "engine/ops/op_args.h"
#if RP_CUDA_KERNELS
#include "kernels/cuda/objectives.h"
#endif
#include "kernels/cpu/objectives.h"

namespace rp {
namespace {

constexpr const char* kRDims = "(N, F)";
constexpr double kMax = std::numeric_limits<double>::max();

}  // namespace

void representation_distance_forward(Context& ctx, const Tensor& r, const Tensor& target,
                                     const Tensor& values) {
  detail::OpArgs a("representation_distance_forward", ctx);
  a.batch("r", r, 2, kRDims).floating("target", target, r.shape(), kRDims);
  a.floating("values", values, Shape{r.size(0)}, "(N)");
  a.distinct("values", values, {{"r", &r}, {"target", &target}}).cpu_or_cuda_backend();
  detail::dispatch_floating(a, [&](auto tag) {
    using T = decltype(tag);
    RP_ON_DEVICE(ctx, representation_distance_forward<T>, r.size(0), r.size(1), r.data<T>(),
                 target.data<T>(), values.data<T>());
  });
}

void representation_distance_backward(Context& ctx, const Tensor& r, const Tensor& target,
                                      const Tensor& upstream, const Tensor& dr, GradMode mode) {
  detail::OpArgs a("representation_distance_backward", ctx);
  a.batch("r", r, 2, kRDims).floating("target", target, r.shape(), kRDims);
  a.floating("upstream", upstream, Shape{r.size(0)}, "(N)").floating("dr", dr, r.shape(), kRDims);
  a.distinct("dr", dr, {{"r", &r}, {"target", &target}, {"upstream", &upstream}})
      .cpu_or_cuda_backend();
  detail::dispatch_floating(a, [&](auto tag) {
    using T = decltype(tag);
    RP_ON_DEVICE(ctx, representation_distance_backward<T>, r.size(0), r.size(1), r.data<T>(),
                 target.data<T>(), upstream.data<T>(), dr.data<T>(), mode);
  });
}

void coordinate_forward(Context& ctx, const Tensor& r, const Tensor& k, std::optional<double> hinge,
                        const Tensor& values) {
  detail::OpArgs a("coordinate_forward", ctx);
  a.batch("r", r, 2, kRDims).typed("k", k, DType::I32, Shape{r.size(0)}, "(N)");
  a.floating("values", values, Shape{r.size(0)}, "(N)").distinct("values", values, "r", r);
  if (hinge) a.scalar("tau", *hinge, -kMax, kMax).representable("tau", *hinge);
  a.cpu_or_cuda_backend();
  detail::dispatch_floating(a, [&](auto tag) {
    using T = decltype(tag);
    RP_ON_DEVICE(ctx, coordinate_forward<T>, r.size(0), r.size(1), r.data<T>(),
                 k.data<std::int32_t>(), hinge.has_value(), hinge.value_or(0.0), values.data<T>());
  });
}

void coordinate_backward(Context& ctx, const Tensor& r, const Tensor& k,
                         std::optional<double> hinge, const Tensor& upstream, const Tensor& dr,
                         GradMode mode) {
  detail::OpArgs a("coordinate_backward", ctx);
  a.batch("r", r, 2, kRDims).typed("k", k, DType::I32, Shape{r.size(0)}, "(N)");
  a.floating("upstream", upstream, Shape{r.size(0)}, "(N)").floating("dr", dr, r.shape(), kRDims);
  a.distinct("dr", dr, {{"r", &r}, {"upstream", &upstream}});
  if (hinge) a.scalar("tau", *hinge, -kMax, kMax).representable("tau", *hinge);
  a.cpu_or_cuda_backend();
  detail::dispatch_floating(a, [&](auto tag) {
    using T = decltype(tag);
    RP_ON_DEVICE(ctx, coordinate_backward<T>, r.size(0), r.size(1), r.data<T>(),
                 k.data<std::int32_t>(), hinge.has_value(), hinge.value_or(0.0), upstream.data<T>(),
                 dr.data<T>(), mode);
  });
}

void keep_better(Context& ctx, const Tensor& values, const Tensor& x, bool maximize,
                 const Tensor& best_values, const Tensor& best_x) {
  detail::OpArgs a("keep_better", ctx);
  a.examples("x", x).floating("values", values, Shape{x.size(0)}, "(N)");
  a.floating("best_values", best_values, Shape{x.size(0)}, "(N)");
  a.floating("best_x", best_x, x.shape(), "(like x)");
  a.distinct("best_x", best_x, {{"x", &x}, {"values", &values}, {"best_values", &best_values}});
  a.distinct("best_values", best_values, {{"x", &x}, {"values", &values}}).cpu_or_cuda_backend();
  detail::dispatch_floating(a, [&](auto tag) {
    using T = decltype(tag);
    RP_ON_DEVICE(ctx, keep_better<T>, x.size(0), x.shape().inner_numel(), values.data<T>(),
                 x.data<T>(), maximize, best_values.data<T>(), best_x.data<T>());
  });
}

}  // namespace rp
