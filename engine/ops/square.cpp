#include "engine/ops/square.h"

#include <limits>

#include "engine/core/error.h"
#include "engine/ops/backend.h"
#include "engine/ops/op_args.h"
#if RP_CUDA_KERNELS
#include "kernels/cuda/square.h"
#endif

namespace rp {
namespace {

constexpr const char* kDims = "(N, C, H, W)";
constexpr double kMax = std::numeric_limits<double>::max();

cpu::SquareShape shape_of(const Tensor& x) {
  return {x.size(0), x.size(1), x.size(2), x.size(3)};
}

}  // namespace

void square_init_linf(Context& ctx, const Tensor& x0, double eps, RngStream rng,
                      const Tensor& out) {
  detail::OpArgs a("square_init_linf", ctx);
  a.batch("x0", x0, 4, kDims).floating("out", out, x0.shape(), kDims);
  a.distinct("out", out, "x0", x0).scalar("eps", eps, 0.0, kMax).representable("eps", eps);
  a.cpu_or_cuda_backend();
  detail::dispatch_floating(a, [&](auto tag) {
    using T = decltype(tag);
    RP_ON_DEVICE(ctx, square_init_linf<T>, shape_of(x0), x0.data<T>(), eps, rng, out.data<T>());
  });
}

void square_propose_linf(Context& ctx, const Tensor& x0, const Tensor& x_best, double eps,
                         const SquareWindow& window, RngStream rng, const Tensor& out) {
  detail::OpArgs a("square_propose_linf", ctx);
  a.batch("x0", x0, 4, kDims).floating("x_best", x_best, x0.shape(), kDims);
  a.floating("out", out, x0.shape(), kDims);
  a.distinct("out", out, {{"x0", &x0}, {"x_best", &x_best}});
  a.scalar("eps", eps, 0.0, kMax).representable("eps", eps);
  const std::int64_t h = x0.size(2), w = x0.size(3);
  RP_CHECK(window.side >= 1 && window.top >= 0 && window.left >= 0 &&
               window.top + window.side <= h && window.left + window.side <= w,
           "square_propose_linf",
           "window of side " << window.side << " at (" << window.top << ", " << window.left
                             << ") does not fit images of " << h << "x" << w);
  a.cpu_or_cuda_backend();
  detail::dispatch_floating(a, [&](auto tag) {
    using T = decltype(tag);
    RP_ON_DEVICE(ctx, square_propose_linf<T>, shape_of(x0), x0.data<T>(), x_best.data<T>(), eps,
                 window, rng, out.data<T>());
  });
}

}  // namespace rp
