#include "engine/ops/cross_entropy.h"

#include <cstdint>

#include "engine/ops/backend.h"
#include "engine/ops/op_args.h"
#if RP_CUDA_KERNELS
#include "kernels/cuda/cross_entropy.h"
#endif
#include "kernels/cpu/cross_entropy.h"

namespace rp {
namespace {

constexpr const char* kLogitDims = "(N, K)";

}  // namespace

void cross_entropy_forward(Context& ctx, const Tensor& logits, const Tensor& labels,
                           const Tensor& losses, const Tensor& mean) {
  detail::OpArgs a("cross_entropy_forward", ctx);
  a.batch("logits", logits, 2, kLogitDims);
  const std::int64_t n = logits.size(0), k = logits.size(1);
  a.typed("labels", labels, DType::I32, Shape{n}, "(N)");
  a.floating("losses", losses, Shape{n}, "(N)").optional("mean", mean, Shape{1}, "(1)");
  a.distinct("losses", losses, "logits", logits).distinct("mean", mean, "logits", logits);
  a.distinct("mean", mean, "losses", losses).cpu_or_cuda_backend();
  detail::dispatch_floating(a, [&](auto tag) {
    using T = decltype(tag);
    RP_ON_DEVICE(ctx, cross_entropy_forward<T>, n, k, logits.data<T>(), labels.data<std::int32_t>(),
                 losses.data<T>(), detail::data_or_null<T>(mean));
  });
}

void cross_entropy_backward(Context& ctx, const Tensor& logits, const Tensor& labels,
                            const Tensor& dlosses, const Tensor& dlogits, GradMode mode) {
  detail::OpArgs a("cross_entropy_backward", ctx);
  a.batch("logits", logits, 2, kLogitDims);
  const std::int64_t n = logits.size(0), k = logits.size(1);
  a.typed("labels", labels, DType::I32, Shape{n}, "(N)");
  a.floating("dlosses", dlosses, Shape{n}, "(N)");
  a.floating("dlogits", dlogits, logits.shape(), kLogitDims);
  a.distinct("dlogits", dlogits, "logits", logits).distinct("dlogits", dlogits, "dlosses", dlosses);
  a.cpu_or_cuda_backend();
  detail::dispatch_floating(a, [&](auto tag) {
    using T = decltype(tag);
    RP_ON_DEVICE(ctx, cross_entropy_backward<T>, n, k, logits.data<T>(),
                 labels.data<std::int32_t>(), dlosses.data<T>(), dlogits.data<T>(), mode);
  });
}

}  // namespace rp
