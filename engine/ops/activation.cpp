#include "engine/ops/activation.h"

#include "engine/ops/backend.h"
#include "engine/ops/op_args.h"
#if RP_CUDA_KERNELS
#include "kernels/cuda/elementwise.h"
#endif
#include "kernels/cpu/activation.h"
#include "kernels/cpu/elementwise.h"

namespace rp {
namespace {

constexpr const char* kDims = "(N, ...)";

void check_backward(detail::OpArgs& a, const Tensor& y, const Tensor& dy, const Tensor& dx) {
  a.examples("y", y).floating("dy", dy, y.shape(), kDims).floating("dx", dx, y.shape(), kDims);
  a.in_place_or_distinct("dx", dx, "dy", dy).distinct("dx", dx, "y", y);
  a.cpu_or_cuda_backend();
}

}  // namespace

void relu_forward(Context& ctx, const Tensor& x, const Tensor& y) {
  detail::OpArgs a("relu_forward", ctx);
  a.examples("x", x).floating("y", y, x.shape(), kDims).in_place_or_distinct("y", y, "x", x);
  a.cpu_or_cuda_backend();
  detail::dispatch_floating(a, [&](auto tag) {
    using T = decltype(tag);
    RP_ON_DEVICE(ctx, relu_forward<T>, x.numel(), x.data<T>(), y.data<T>());
  });
}

void relu_backward(Context& ctx, const Tensor& y, const Tensor& dy, const Tensor& dx,
                   GradMode mode) {
  detail::OpArgs a("relu_backward", ctx);
  check_backward(a, y, dy, dx);
  detail::dispatch_floating(a, [&](auto tag) {
    using T = decltype(tag);
    RP_ON_DEVICE(ctx, relu_backward<T>, y.numel(), y.data<T>(), dy.data<T>(), dx.data<T>(), mode);
  });
}

void fake_relu_backward(Context& ctx, const Tensor& y, const Tensor& dy, const Tensor& dx,
                        GradMode mode) {
  detail::OpArgs a("fake_relu_backward", ctx);
  check_backward(a, y, dy, dx);
  detail::dispatch_floating(a, [&](auto tag) {
    using T = decltype(tag);
    RP_ON_DEVICE(ctx, pass_gradient<T>, dy.numel(), dy.data<T>(), dx.data<T>(), mode);
  });
}

}  // namespace rp
