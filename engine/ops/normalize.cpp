#include "engine/ops/normalize.h"

#include "engine/ops/backend.h"
#include "engine/ops/op_args.h"
#if RP_CUDA_KERNELS
#include "kernels/cuda/pool_normalize.h"
#endif
#include "kernels/cpu/normalize.h"

namespace rp {
namespace {

constexpr const char* kXDims = "(N, C, H, W)";

}  // namespace

void normalize_forward(Context& ctx, const Tensor& x, const Tensor& mean, const Tensor& std,
                       const Tensor& y) {
  detail::OpArgs a("normalize_forward", ctx);
  a.batch("x", x, 4, kXDims);
  a.floating("mean", mean, Shape{x.size(1)}, "(C)").floating("std", std, Shape{x.size(1)}, "(C)");
  a.floating("y", y, x.shape(), kXDims).in_place_or_distinct("y", y, "x", x);
  a.distinct("y", y, "mean", mean).distinct("y", y, "std", std).cpu_or_cuda_backend();
  detail::dispatch_floating(a, [&](auto tag) {
    using T = decltype(tag);
    RP_ON_DEVICE(ctx, normalize_forward<T>, x.size(0), x.size(1), x.size(2) * x.size(3),
                 x.data<T>(), mean.data<T>(), std.data<T>(), y.data<T>());
  });
}

void normalize_backward(Context& ctx, const Tensor& x, const Tensor& dy, const Tensor& std,
                        const Tensor& dx, GradMode mode) {
  detail::OpArgs a("normalize_backward", ctx);
  a.batch("x", x, 4, kXDims).floating("dy", dy, x.shape(), kXDims);
  a.floating("std", std, Shape{x.size(1)}, "(C)").floating("dx", dx, x.shape(), kXDims);
  a.in_place_or_distinct("dx", dx, "dy", dy).distinct("dx", dx, "x", x);
  a.distinct("dx", dx, "std", std).cpu_or_cuda_backend();
  detail::dispatch_floating(a, [&](auto tag) {
    using T = decltype(tag);
    RP_ON_DEVICE(ctx, normalize_backward<T>, x.size(0), x.size(1), x.size(2) * x.size(3),
                 x.data<T>(), dy.data<T>(), std.data<T>(), dx.data<T>(), mode);
  });
}

}  // namespace rp
