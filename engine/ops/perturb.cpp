#include "engine/ops/perturb.h"

#include <limits>

#include "engine/ops/backend.h"
#include "engine/ops/op_args.h"
#include "kernels/cpu/perturb.h"
#if RP_CUDA_KERNELS
#include "kernels/cuda/perturb.h"
#endif

namespace rp {
namespace {

constexpr const char* kDims = "(like x)";
constexpr double kMax = std::numeric_limits<double>::max();

cpu::PerturbShape shape_of(const Tensor& x) {
  return {x.size(0), x.shape().inner_numel()};
}

// x is the batch; every other named tensor has its shape; out may be x, nothing else.
detail::OpArgs& check_batch(detail::OpArgs& a, const Tensor& x, const Tensor& out,
                            std::initializer_list<std::pair<const char*, const Tensor*>> others) {
  a.examples("x", x)
      .floating("out", out, x.shape(), kDims)
      .in_place_or_distinct("out", out, "x", x);
  for (const auto& [name, t] : others) {
    a.floating(name, *t, x.shape(), kDims).distinct("out", out, name, *t);
  }
  return a.cpu_or_cuda_backend();
}

}  // namespace

void pgd_step_linf(Context& ctx, const Tensor& x, const Tensor& g, double alpha,
                   const Tensor& out) {
  detail::OpArgs a("pgd_step_linf", ctx);
  check_batch(a, x, out, {{"g", &g}})
      .scalar("alpha", alpha, -kMax, kMax)
      .representable("alpha", alpha);
  detail::dispatch_floating(a, [&](auto tag) {
    using T = decltype(tag);
    RP_ON_DEVICE(ctx, pgd_step_linf<T>, shape_of(x), x.data<T>(), g.data<T>(), alpha,
                 out.data<T>());
  });
}

void pgd_step_l2(Context& ctx, const Tensor& x, const Tensor& g, double alpha, const Tensor& out) {
  detail::OpArgs a("pgd_step_l2", ctx);
  check_batch(a, x, out, {{"g", &g}})
      .scalar("alpha", alpha, -kMax, kMax)
      .representable("alpha", alpha);
  detail::dispatch_floating(a, [&](auto tag) {
    using T = decltype(tag);
    RP_ON_DEVICE(ctx, pgd_step_l2<T>, shape_of(x), x.data<T>(), g.data<T>(), alpha, out.data<T>());
  });
}

void project_linf(Context& ctx, const Tensor& x, const Tensor& x0, double eps, const Tensor& out) {
  detail::OpArgs a("project_linf", ctx);
  check_batch(a, x, out, {{"x0", &x0}}).scalar("eps", eps, 0.0, kMax).representable("eps", eps);
  detail::dispatch_floating(a, [&](auto tag) {
    using T = decltype(tag);
    RP_ON_DEVICE(ctx, project_linf<T>, shape_of(x), x.data<T>(), x0.data<T>(), eps, out.data<T>());
  });
}

void project_l2(Context& ctx, const Tensor& x, const Tensor& x0, double eps, const Tensor& out) {
  detail::OpArgs a("project_l2", ctx);
  check_batch(a, x, out, {{"x0", &x0}}).scalar("eps", eps, 0.0, kMax).representable("eps", eps);
  detail::dispatch_floating(a, [&](auto tag) {
    using T = decltype(tag);
    RP_ON_DEVICE(ctx, project_l2<T>, shape_of(x), x.data<T>(), x0.data<T>(), eps, out.data<T>());
  });
}

void pgd_update_linf(Context& ctx, const Tensor& x, const Tensor& g, const Tensor& x0, double alpha,
                     double eps, const Tensor& out) {
  detail::OpArgs a("pgd_update_linf", ctx);
  check_batch(a, x, out, {{"g", &g}, {"x0", &x0}});
  a.scalar("alpha", alpha, -kMax, kMax)
      .representable("alpha", alpha)
      .scalar("eps", eps, 0.0, kMax)
      .representable("eps", eps);
  detail::dispatch_floating(a, [&](auto tag) {
    using T = decltype(tag);
    RP_ON_DEVICE(ctx, pgd_update_linf<T>, shape_of(x), x.data<T>(), g.data<T>(), x0.data<T>(),
                 alpha, eps, out.data<T>());
  });
}

void pgd_update_l2(Context& ctx, const Tensor& x, const Tensor& g, const Tensor& x0, double alpha,
                   double eps, const Tensor& out) {
  detail::OpArgs a("pgd_update_l2", ctx);
  check_batch(a, x, out, {{"g", &g}, {"x0", &x0}});
  a.scalar("alpha", alpha, -kMax, kMax)
      .representable("alpha", alpha)
      .scalar("eps", eps, 0.0, kMax)
      .representable("eps", eps);
  detail::dispatch_floating(a, [&](auto tag) {
    using T = decltype(tag);
    RP_ON_DEVICE(ctx, pgd_update_l2<T>, shape_of(x), x.data<T>(), g.data<T>(), x0.data<T>(), alpha,
                 eps, out.data<T>());
  });
}

void random_start_linf(Context& ctx, const Tensor& x0, double eps, RngStream rng,
                       const Tensor& out) {
  detail::OpArgs a("random_start_linf", ctx);
  a.examples("x0", x0).floating("out", out, x0.shape(), "(like x0)");
  a.in_place_or_distinct("out", out, "x0", x0)
      .scalar("eps", eps, 0.0, kMax)
      .representable("eps", eps)
      .cpu_or_cuda_backend();
  detail::dispatch_floating(a, [&](auto tag) {
    using T = decltype(tag);
    RP_ON_DEVICE(ctx, random_start_linf<T>, shape_of(x0), x0.data<T>(), eps, rng, out.data<T>());
  });
}

void random_start_l2(Context& ctx, const Tensor& x0, double eps, RngStream rng, const Tensor& out) {
  detail::OpArgs a("random_start_l2", ctx);
  a.examples("x0", x0).floating("out", out, x0.shape(), "(like x0)");
  a.in_place_or_distinct("out", out, "x0", x0)
      .scalar("eps", eps, 0.0, kMax)
      .representable("eps", eps)
      .cpu_or_cuda_backend();
  detail::dispatch_floating(a, [&](auto tag) {
    using T = decltype(tag);
    RP_ON_DEVICE(ctx, random_start_l2<T>, shape_of(x0), x0.data<T>(), eps, rng, out.data<T>());
  });
}

void l2_norm_per_example(Context& ctx, const Tensor& x, const Tensor& norms) {
  detail::OpArgs a("l2_norm_per_example", ctx);
  a.examples("x", x).floating("norms", norms, Shape{x.size(0)}, "(N)");
  a.distinct("norms", norms, "x", x).cpu_or_cuda_backend();
  detail::dispatch_floating(a, [&](auto tag) {
    using T = decltype(tag);
    RP_ON_DEVICE(ctx, l2_norm_per_example<T>, shape_of(x), x.data<T>(), norms.data<T>());
  });
}

}  // namespace rp
