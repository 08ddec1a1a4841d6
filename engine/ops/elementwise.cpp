#include "engine/ops/elementwise.h"

#include <cmath>
#include <cstdint>

#include "engine/core/error.h"
#include "engine/core/profiler.h"
#include "engine/ops/backend.h"
#include "engine/ops/op_args.h"
#if RP_CUDA_KERNELS
#include "kernels/cuda/elementwise.h"
#endif
#include "kernels/cpu/elementwise.h"

namespace rp {

namespace {
constexpr const char* kDims = "(N, ...)";
}  // namespace

void add_forward(Context& ctx, const Tensor& a, const Tensor& b, const Tensor& y) {
  detail::OpArgs args("add_forward", ctx);
  args.examples("a", a).floating("b", b, a.shape(), kDims).floating("y", y, a.shape(), kDims);
  args.in_place_or_distinct("y", y, "a", a).in_place_or_distinct("y", y, "b", b);
  args.cpu_or_cuda_backend();
  detail::dispatch_floating(args, [&](auto tag) {
    using T = decltype(tag);
    RP_ON_DEVICE(ctx, add_forward<T>, a.numel(), a.data<T>(), b.data<T>(), y.data<T>());
  });
}

void add_backward(Context& ctx, const Tensor& dy, const Tensor& da, const Tensor& db,
                  GradMode mode) {
  detail::OpArgs args("add_backward", ctx);
  args.examples("dy", dy)
      .optional("da", da, dy.shape(), kDims)
      .optional("db", db, dy.shape(), kDims);
  args.in_place_or_distinct("da", da, "dy", dy).in_place_or_distinct("db", db, "dy", dy);
  args.distinct("da", da, "db", db);
  args.cpu_or_cuda_backend();
  detail::dispatch_floating(args, [&](auto tag) {
    using T = decltype(tag);
    RP_ON_DEVICE(ctx, add_backward<T>, dy.numel(), dy.data<T>(), detail::data_or_null<T>(da),
                 detail::data_or_null<T>(db), mode);
  });
}

void fill(Context& ctx, const Tensor& x, double value) {
  constexpr const char* op = "fill";
  const ProfileScope profile(ctx, ProfileKind::Op, op);  // fill takes any dtype: no OpArgs
  RP_CHECK(x.defined(), op, "x: tensor is undefined");
  RP_CHECK(x.device() == ctx.device(), op,
           "x: lives on " << x.device() << " but the context runs on " << ctx.device());
#if !RP_CUDA_KERNELS
  RP_CHECK(ctx.device().is_cpu(), op, "has no CUDA kernel in this build");
#endif
  const std::int64_t n = x.numel();
  switch (x.dtype()) {
    case DType::F32:
      RP_ON_DEVICE(ctx, fill, n, x.data<float>(), static_cast<float>(value));
      return;
    case DType::F64:
      RP_ON_DEVICE(ctx, fill, n, x.data<double>(), value);
      return;
    case DType::I32:
      RP_CHECK(std::nearbyint(value) == value && value >= -2147483648.0 && value <= 2147483647.0,
               op, "value " << value << " is not an i32");
      RP_ON_DEVICE(ctx, fill, n, x.data<std::int32_t>(), static_cast<std::int32_t>(value));
      return;
    case DType::U8:
      RP_CHECK(value >= 0 && value <= 255 && std::nearbyint(value) == value, op,
               "value " << value << " does not fit u8");
      RP_ON_DEVICE(ctx, fill, n, x.data<std::uint8_t>(), static_cast<std::uint8_t>(value));
      return;
    default:
      RP_FAIL(op, "dtype " << dtype_name(x.dtype()) << " is not supported yet");
  }
}

}  // namespace rp
