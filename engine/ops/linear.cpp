#include "engine/ops/linear.h"

#include "engine/core/error.h"
#include "engine/ops/backend.h"
#include "engine/ops/op_args.h"
#if RP_CUDA_KERNELS
#include "kernels/cuda/linear.h"
#endif
#include "kernels/cpu/linear.h"

namespace rp {
namespace {

constexpr const char* kXDims = "(N, in)";
constexpr const char* kWDims = "(out, in)";
constexpr const char* kYDims = "(N, out)";

}  // namespace

void linear_forward(Context& ctx, const Tensor& x, const Tensor& w, const Tensor& b,
                    const Tensor& y) {
  detail::OpArgs a("linear_forward", ctx);
  a.batch("x", x, 2, kXDims).floating("w", w, 2, kWDims);
  RP_CHECK(w.size(1) == x.size(1), a.op(),
           "w " << w.str() << " takes " << w.size(1) << " input features but x " << x.str()
                << " has " << x.size(1));
  const cpu::LinearShape s{x.size(0), x.size(1), w.size(0)};
  a.optional("b", b, Shape{s.out}, "(out)").floating("y", y, Shape{s.n, s.out}, kYDims);
  a.distinct("y", y, "x", x)
      .distinct("y", y, "w", w)
      .distinct("y", y, "b", b)
      .cpu_or_cuda_backend();
  detail::dispatch_floating(a, [&](auto tag) {
    using T = decltype(tag);
    RP_ON_DEVICE(ctx, linear_forward<T>, s, x.data<T>(), w.data<T>(), detail::data_or_null<T>(b),
                 y.data<T>());
  });
}

void linear_backward_data(Context& ctx, const Tensor& dy, const Tensor& w, const Tensor& dx,
                          GradMode mode) {
  detail::OpArgs a("linear_backward_data", ctx);
  a.batch("dy", dy, 2, kYDims).floating("w", w, 2, kWDims);
  const cpu::LinearShape s{dy.size(0), w.size(1), w.size(0)};
  a.floating("dy", dy, Shape{s.n, s.out}, kYDims).floating("dx", dx, Shape{s.n, s.in}, kXDims);
  a.distinct("dx", dx, "dy", dy).distinct("dx", dx, "w", w).cpu_or_cuda_backend();
  detail::dispatch_floating(a, [&](auto tag) {
    using T = decltype(tag);
    RP_ON_DEVICE(ctx, linear_backward_data<T>, s, dy.data<T>(), w.data<T>(), dx.data<T>(), mode);
  });
}

void linear_backward_weight(Context& ctx, const Tensor& x, const Tensor& dy, const Tensor& dw,
                            const Tensor& db, GradMode mode) {
  detail::OpArgs a("linear_backward_weight", ctx);
  a.batch("x", x, 2, kXDims).batch("dy", dy, 2, kYDims);
  const cpu::LinearShape s{x.size(0), x.size(1), dy.size(1)};
  a.floating("dy", dy, Shape{s.n, s.out}, kYDims).floating("dw", dw, Shape{s.out, s.in}, kWDims);
  a.optional("db", db, Shape{s.out}, "(out)");
  a.distinct("dw", dw, "x", x).distinct("dw", dw, "dy", dy).distinct("db", db, "dy", dy);
  a.distinct("db", db, "dw", dw).cpu_or_cuda_backend();
  detail::dispatch_floating(a, [&](auto tag) {
    using T = decltype(tag);
    RP_ON_DEVICE(ctx, linear_backward_weight<T>, s, x.data<T>(), dy.data<T>(), dw.data<T>(),
                 detail::data_or_null<T>(db), mode);
  });
}

}  // namespace rp
