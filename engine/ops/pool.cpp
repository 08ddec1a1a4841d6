#include "engine/ops/pool.h"

#include "engine/core/error.h"
#include "engine/ops/backend.h"
#include "engine/ops/op_args.h"
#if RP_CUDA_KERNELS
#include "kernels/cuda/pool_normalize.h"
#endif
#include "kernels/cpu/pool.h"

namespace rp {

void global_avg_pool_forward(Context& ctx, const Tensor& x, const Tensor& y) {
  detail::OpArgs a("global_avg_pool_forward", ctx);
  a.batch("x", x, 4, "(N, C, H, W)").floating("y", y, Shape{x.size(0), x.size(1)}, "(N, C)");
  RP_CHECK(x.size(2) * x.size(3) > 0, a.op(), "x: no pixels to average in " << x.str());
  a.distinct("y", y, "x", x).cpu_or_cuda_backend();
  detail::dispatch_floating(a, [&](auto tag) {
    using T = decltype(tag);
    RP_ON_DEVICE(ctx, global_avg_pool_forward<T>, x.size(0), x.size(1), x.size(2) * x.size(3),
                 x.data<T>(), y.data<T>());
  });
}

void global_avg_pool_backward(Context& ctx, const Tensor& dy, const Tensor& dx, GradMode mode) {
  detail::OpArgs a("global_avg_pool_backward", ctx);
  a.batch("dx", dx, 4, "(N, C, H, W)").floating("dy", dy, Shape{dx.size(0), dx.size(1)}, "(N, C)");
  RP_CHECK(dx.size(2) * dx.size(3) > 0, a.op(), "dx: no pixels to average over in " << dx.str());
  a.distinct("dx", dx, "dy", dy).cpu_or_cuda_backend();
  detail::dispatch_floating(a, [&](auto tag) {
    using T = decltype(tag);
    RP_ON_DEVICE(ctx, global_avg_pool_backward<T>, dx.size(0), dx.size(1), dx.size(2) * dx.size(3),
                 dy.data<T>(), dx.data<T>(), mode);
  });
}

}  // namespace rp
