#include "engine/ops/conv2d.h"

#include "engine/core/error.h"
#include "engine/ops/op_args.h"
#include "kernels/conv2d_geometry.h"
#include "kernels/cpu/conv2d.h"

namespace rp {
namespace {

constexpr const char* kXDims = "(N, C_in, H, W)";
constexpr const char* kWDims = "(C_out, C_in, kH, kW)";
constexpr const char* kYDims = "(N, C_out, H_out, W_out)";

Conv2dGeometry geometry(const char* op, const Shape& x, const Shape& w, const Conv2dParams& p) {
  RP_CHECK(x.rank() == 4 && w.rank() == 4, op,
           "expected 4-D x " << kXDims << " and w " << kWDims << ", found x" << x << " and w" << w);
  RP_CHECK(p.stride_h >= 1 && p.stride_w >= 1, op,
           "stride must be >= 1, found (" << p.stride_h << ", " << p.stride_w << ")");
  RP_CHECK(p.pad_h >= 0 && p.pad_w >= 0, op,
           "padding must be >= 0, found (" << p.pad_h << ", " << p.pad_w << ")");
  RP_CHECK(x[1] == w[1], op,
           "x has " << x[1] << " channels " << x << " but w expects C_in = " << w[1] << " " << w);
  RP_CHECK(w[0] > 0 && w[2] > 0 && w[3] > 0, op, "w has an empty dimension " << w);
  RP_CHECK(x[2] + 2 * p.pad_h >= w[2] && x[3] + 2 * p.pad_w >= w[3], op,
           "the " << w[2] << "x" << w[3] << " kernel does not fit the padded " << x[2] << "x"
                  << x[3] << " input (padding " << p.pad_h << ", " << p.pad_w << ")");
  Conv2dGeometry g;
  g.n = x[0];
  g.c_in = x[1];
  g.h = x[2];
  g.w = x[3];
  g.c_out = w[0];
  g.kh = w[2];
  g.kw = w[3];
  g.stride_h = p.stride_h;
  g.stride_w = p.stride_w;
  g.pad_h = p.pad_h;
  g.pad_w = p.pad_w;
  return g;
}

Shape output_shape(const Conv2dGeometry& g) {
  return Shape{g.n, g.c_out, g.h_out(), g.w_out()};
}

template <typename T>
T* workspace_for(Context& ctx, const Conv2dGeometry& g) {
  return static_cast<T*>(
      ctx.workspace(cpu::conv2d_workspace_size<T>(g, ctx.threads()) * sizeof(T)));
}

}  // namespace

Shape conv2d_output_shape(const Shape& x, const Shape& w, const Conv2dParams& p) {
  return output_shape(geometry("conv2d_output_shape", x, w, p));
}

void conv2d_forward(Context& ctx, const Tensor& x, const Tensor& w, const Tensor& y,
                    const Conv2dParams& p) {
  detail::OpArgs a("conv2d_forward", ctx);
  a.batch("x", x, 4, kXDims).floating("w", w, 4, kWDims);
  const Conv2dGeometry g = geometry(a.op(), x.shape(), w.shape(), p);
  a.floating("y", y, output_shape(g), kYDims).distinct("y", y, "x", x).distinct("y", y, "w", w);
  a.cpu_backend();
  detail::dispatch_floating(a, [&](auto tag) {
    using T = decltype(tag);
    cpu::conv2d_forward<T>(g, x.data<T>(), w.data<T>(), y.data<T>(), workspace_for<T>(ctx, g),
                           ctx.threads());
  });
}

void conv2d_backward_data(Context& ctx, const Tensor& dy, const Tensor& w, const Tensor& dx,
                          const Conv2dParams& p, GradMode mode) {
  detail::OpArgs a("conv2d_backward_data", ctx);
  a.batch("dx", dx, 4, kXDims).floating("w", w, 4, kWDims);
  const Conv2dGeometry g = geometry(a.op(), dx.shape(), w.shape(), p);
  a.floating("dy", dy, output_shape(g), kYDims)
      .distinct("dx", dx, "dy", dy)
      .distinct("dx", dx, "w", w);
  a.cpu_backend();
  detail::dispatch_floating(a, [&](auto tag) {
    using T = decltype(tag);
    cpu::conv2d_backward_data<T>(g, dy.data<T>(), w.data<T>(), dx.data<T>(), mode,
                                 workspace_for<T>(ctx, g), ctx.threads());
  });
}

void conv2d_backward_filter(Context& ctx, const Tensor& x, const Tensor& dy, const Tensor& dw,
                            const Conv2dParams& p, GradMode mode) {
  detail::OpArgs a("conv2d_backward_filter", ctx);
  a.batch("x", x, 4, kXDims).floating("dw", dw, 4, kWDims);
  const Conv2dGeometry g = geometry(a.op(), x.shape(), dw.shape(), p);
  a.floating("dy", dy, output_shape(g), kYDims)
      .distinct("dw", dw, "x", x)
      .distinct("dw", dw, "dy", dy);
  a.cpu_backend();
  detail::dispatch_floating(a, [&](auto tag) {
    using T = decltype(tag);
    cpu::conv2d_backward_filter<T>(g, x.data<T>(), dy.data<T>(), dw.data<T>(), mode,
                                   workspace_for<T>(ctx, g), ctx.threads());
  });
}

}  // namespace rp
