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

// A side x side window at (top, left) inside h x w.
void check_window(const char* op, std::int64_t side, std::int64_t top, std::int64_t left,
                  std::int64_t h, std::int64_t w) {
  RP_CHECK(side >= 1 && top >= 0 && left >= 0 && top + side <= h && left + side <= w, op,
           "window of side " << side << " at (" << top << ", " << left
                             << ") does not fit images of " << h << "x" << w);
}

void check_l2(detail::OpArgs& a, const Tensor& x0, const Tensor& eta, std::int64_t side) {
  RP_CHECK(x0.rank() != 4 || x0.size(1) <= 16, a.op(),
           "x0: at most 16 channels, found " << x0.str());
  a.floating("eta", eta, Shape{side * side}, "(side * side)");
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
  check_window("square_propose_linf", window.side, window.top, window.left, x0.size(2), x0.size(3));
  a.cpu_or_cuda_backend();
  detail::dispatch_floating(a, [&](auto tag) {
    using T = decltype(tag);
    RP_ON_DEVICE(ctx, square_propose_linf<T>, shape_of(x0), x0.data<T>(), x_best.data<T>(), eps,
                 window, rng, out.data<T>());
  });
}

void square_init_l2(Context& ctx, const Tensor& x0, double eps, const Tensor& eta, RngStream rng,
                    const Tensor& out) {
  detail::OpArgs a("square_init_l2", ctx);
  a.batch("x0", x0, 4, kDims).floating("out", out, x0.shape(), kDims);
  a.distinct("out", out, {{"x0", &x0}, {"eta", &eta}});
  a.scalar("eps", eps, 0.0, kMax).representable("eps", eps);
  RP_CHECK(x0.size(2) >= 5 && x0.size(3) >= 5, "square_init_l2",
           "x0: images of at least 5x5, found " << x0.str());
  check_l2(a, x0, eta, x0.size(2) / 5);
  a.cpu_or_cuda_backend();
  detail::dispatch_floating(a, [&](auto tag) {
    using T = decltype(tag);
    RP_ON_DEVICE(ctx, square_init_l2<T>, shape_of(x0), x0.data<T>(), eps, eta.data<T>(), rng,
                 out.data<T>());
  });
}

void square_propose_l2(Context& ctx, const Tensor& x0, const Tensor& x_best, double eps,
                       const SquareL2Window& window, const Tensor& eta, RngStream rng,
                       const Tensor& out) {
  detail::OpArgs a("square_propose_l2", ctx);
  a.batch("x0", x0, 4, kDims).floating("x_best", x_best, x0.shape(), kDims);
  a.floating("out", out, x0.shape(), kDims);
  a.distinct("out", out, {{"x0", &x0}, {"x_best", &x_best}, {"eta", &eta}});
  a.scalar("eps", eps, 0.0, kMax).representable("eps", eps);
  check_window("square_propose_l2", window.side, window.top, window.left, x0.size(2), x0.size(3));
  check_window("square_propose_l2", window.side, window.top2, window.left2, x0.size(2), x0.size(3));
  check_l2(a, x0, eta, window.side);
  a.cpu_or_cuda_backend();
  detail::dispatch_floating(a, [&](auto tag) {
    using T = decltype(tag);
    RP_ON_DEVICE(ctx, square_propose_l2<T>, shape_of(x0), x0.data<T>(), x_best.data<T>(), eps,
                 window, eta.data<T>(), rng, out.data<T>());
  });
}

}  // namespace rp
