#include "engine/ops/pool.h"

#include <limits>

#include "engine/core/error.h"
#include "engine/ops/backend.h"
#include "engine/ops/op_args.h"
#if RP_CUDA_KERNELS
#include "kernels/cuda/max_pool.h"
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

namespace {

// The parameters and the input plane; the output size follows (the caller checks the rank).
MaxPool2dGeometry max_pool_geometry(const char* op, const Shape& x, const MaxPool2dParams& p) {
  RP_CHECK(p.kernel_h >= 1 && p.kernel_w >= 1, op,
           "kernel must be >= 1, found " << p.kernel_h << "x" << p.kernel_w);
  RP_CHECK(p.stride_h >= 1 && p.stride_w >= 1, op,
           "stride must be >= 1, found " << p.stride_h << "x" << p.stride_w);
  // PyTorch's rule: more padding would let a window hold padding only.
  RP_CHECK(p.pad_h >= 0 && p.pad_w >= 0 && p.pad_h <= p.kernel_h / 2 && p.pad_w <= p.kernel_w / 2,
           op,
           "pad must be in [0, kernel / 2], found pad "
               << p.pad_h << "x" << p.pad_w << " for kernel " << p.kernel_h << "x" << p.kernel_w);
  MaxPool2dGeometry g;
  g.n = x[0];
  g.c = x[1];
  g.h = x[2];
  g.w = x[3];
  g.kh = p.kernel_h;
  g.kw = p.kernel_w;
  g.stride_h = p.stride_h;
  g.stride_w = p.stride_w;
  g.pad_h = p.pad_h;
  g.pad_w = p.pad_w;
  RP_CHECK(g.h + 2 * g.pad_h >= g.kh && g.w + 2 * g.pad_w >= g.kw, op,
           "a " << g.kh << "x" << g.kw << " window does not fit an input of " << x << " padded by "
                << g.pad_h << "x" << g.pad_w);
  // argmax holds in-plane indices as int32.
  RP_CHECK(g.h * g.w <= std::numeric_limits<std::int32_t>::max(), op,
           "planes of " << g.h << "x" << g.w << " pixels exceed int32 argmax indices");
  return g;
}

Shape output_of(const MaxPool2dGeometry& g) {
  return Shape{g.n, g.c, g.h_out(), g.w_out()};
}

}  // namespace

Shape max_pool2d_output_shape(const Shape& x, const MaxPool2dParams& p) {
  RP_CHECK(x.rank() == 4, "max_pool2d", "expected an input shape (N, C, H, W), found " << x);
  return output_of(max_pool_geometry("max_pool2d", x, p));
}

void max_pool2d_forward(Context& ctx, const Tensor& x, const Tensor& y, const Tensor& argmax,
                        const MaxPool2dParams& p) {
  detail::OpArgs a("max_pool2d_forward", ctx);
  a.batch("x", x, 4, "(N, C, H, W)");
  const MaxPool2dGeometry g = max_pool_geometry(a.op(), x.shape(), p);
  const Shape out = output_of(g);
  a.floating("y", y, out, "(N, C, H_out, W_out)")
      .typed("argmax", argmax, DType::I32, out, "(N, C, H_out, W_out)")
      .distinct("y", y, "x", x)
      .distinct("argmax", argmax, {{"x", &x}, {"y", &y}})
      .cpu_or_cuda_backend();
  detail::dispatch_floating(a, [&](auto tag) {
    using T = decltype(tag);
    RP_ON_DEVICE(ctx, max_pool2d_forward<T>, g, x.data<T>(), y.data<T>(),
                 argmax.data<std::int32_t>());
  });
}

void max_pool2d_backward(Context& ctx, const Tensor& dy, const Tensor& argmax, const Tensor& dx,
                         const MaxPool2dParams& p, GradMode mode) {
  detail::OpArgs a("max_pool2d_backward", ctx);
  a.batch("dx", dx, 4, "(N, C, H, W)");
  const MaxPool2dGeometry g = max_pool_geometry(a.op(), dx.shape(), p);
  const Shape out = output_of(g);
  a.floating("dy", dy, out, "(N, C, H_out, W_out)")
      .typed("argmax", argmax, DType::I32, out, "(N, C, H_out, W_out)")
      .distinct("dx", dx, {{"dy", &dy}, {"argmax", &argmax}})
      .cpu_or_cuda_backend();
  detail::dispatch_floating(a, [&](auto tag) {
    using T = decltype(tag);
    RP_ON_DEVICE(ctx, max_pool2d_backward<T>, g, dy.data<T>(), argmax.data<std::int32_t>(),
                 dx.data<T>(), mode);
  });
}

}  // namespace rp
