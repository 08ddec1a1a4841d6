#include "engine/ops/apgd.h"

#include <limits>

#include "engine/core/error.h"
#include "engine/ops/backend.h"
#include "engine/ops/op_args.h"
#include "kernels/cpu/apgd.h"
#if RP_CUDA_KERNELS
#include "kernels/cuda/apgd.h"
#endif

namespace rp {
namespace {

constexpr const char* kDims = "(like x)";
constexpr double kMax = std::numeric_limits<double>::max();

cpu::PerturbShape shape_of(const Tensor& x) {
  return {x.size(0), x.shape().inner_numel()};
}

// x and x_prev are updated; g, x0 (like x) and step (N) are read.
void check_update(detail::OpArgs& a, const Tensor& g, const Tensor& x0, const Tensor& step,
                  double momentum, double eps, const Tensor& x, const Tensor& x_prev) {
  a.examples("x", x).floating("x_prev", x_prev, x.shape(), kDims);
  a.floating("g", g, x.shape(), kDims).floating("x0", x0, x.shape(), kDims);
  a.floating("step", step, Shape{x.size(0)}, "(N)");
  a.distinct("x", x, {{"x_prev", &x_prev}, {"g", &g}, {"x0", &x0}, {"step", &step}});
  a.distinct("x_prev", x_prev, {{"g", &g}, {"x0", &x0}, {"step", &step}});
  a.scalar("momentum", momentum, 0.0, 1.0).scalar("eps", eps, 0.0, kMax).representable("eps", eps);
  a.cpu_or_cuda_backend();
}

// The state's vectors are (N) and its rows like x; the state never aliases x, g or loss.
void check_state(detail::OpArgs& a, const Tensor& x, const Tensor& g, const ApgdState& s) {
  a.examples("x", x).floating("g", g, x.shape(), kDims);
  const Shape per{x.size(0)};
  for (const auto& [name, t] : {std::pair<const char*, const Tensor*>{"prev_loss", &s.prev_loss},
                                {"increases", &s.increases},
                                {"best_loss", &s.best_loss},
                                {"best_last", &s.best_last},
                                {"halved_last", &s.halved_last},
                                {"step", &s.step}}) {
    a.floating(name, *t, per, "(N)").distinct(name, *t, {{"x", &x}, {"g", &g}});
  }
  a.floating("best_x", s.best_x, x.shape(), kDims).floating("best_g", s.best_g, x.shape(), kDims);
  a.distinct("best_x", s.best_x, {{"x", &x}, {"g", &g}, {"best_g", &s.best_g}});
  a.distinct("best_g", s.best_g, {{"x", &x}, {"g", &g}}).distinct("x", x, "g", g);
}

}  // namespace

void apgd_update_linf(Context& ctx, const Tensor& g, const Tensor& x0, const Tensor& step,
                      double momentum, double eps, const Tensor& x, const Tensor& x_prev) {
  detail::OpArgs a("apgd_update_linf", ctx);
  check_update(a, g, x0, step, momentum, eps, x, x_prev);
  detail::dispatch_floating(a, [&](auto tag) {
    using T = decltype(tag);
    RP_ON_DEVICE(ctx, apgd_update_linf<T>, shape_of(x), g.data<T>(), x0.data<T>(), step.data<T>(),
                 momentum, eps, x.data<T>(), x_prev.data<T>());
  });
}

void apgd_update_l2(Context& ctx, const Tensor& g, const Tensor& x0, const Tensor& step,
                    double momentum, double eps, const Tensor& x, const Tensor& x_prev) {
  detail::OpArgs a("apgd_update_l2", ctx);
  check_update(a, g, x0, step, momentum, eps, x, x_prev);
  detail::dispatch_floating(a, [&](auto tag) {
    using T = decltype(tag);
    RP_ON_DEVICE(ctx, apgd_update_l2<T>, shape_of(x), g.data<T>(), x0.data<T>(), step.data<T>(),
                 momentum, eps, x.data<T>(), x_prev.data<T>());
  });
}

void apgd_track(Context& ctx, const Tensor& loss, const Tensor& x, const Tensor& g,
                const ApgdState& state) {
  detail::OpArgs a("apgd_track", ctx);
  check_state(a, x, g, state);
  a.floating("loss", loss, Shape{x.size(0)}, "(N)");
  a.distinct("loss", loss, {{"prev_loss", &state.prev_loss}, {"best_loss", &state.best_loss}});
  a.cpu_or_cuda_backend();
  detail::dispatch_floating(a, [&](auto tag) {
    using T = decltype(tag);
    RP_ON_DEVICE(ctx, apgd_track<T>, shape_of(x), loss.data<T>(), x.data<T>(), g.data<T>(),
                 state.prev_loss.data<T>(), state.increases.data<T>(), state.best_loss.data<T>(),
                 state.best_x.data<T>(), state.best_g.data<T>());
  });
}

void apgd_checkpoint(Context& ctx, std::int64_t window, double rho, const ApgdState& state,
                     const Tensor& x, const Tensor& g) {
  detail::OpArgs a("apgd_checkpoint", ctx);
  check_state(a, x, g, state);
  RP_CHECK(window >= 1, "apgd_checkpoint", "window must be >= 1, found " << window);
  a.scalar("rho", rho, 0.0, 1.0).cpu_or_cuda_backend();
  detail::dispatch_floating(a, [&](auto tag) {
    using T = decltype(tag);
    RP_ON_DEVICE(ctx, apgd_checkpoint<T>, shape_of(x), window, rho, state.best_loss.data<T>(),
                 state.best_x.data<T>(), state.best_g.data<T>(), state.best_last.data<T>(),
                 state.halved_last.data<T>(), state.increases.data<T>(), state.step.data<T>(),
                 x.data<T>(), g.data<T>());
  });
}

}  // namespace rp
