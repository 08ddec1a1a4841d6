#include "engine/ops/dlr.h"

#include <cstdint>

#include "engine/core/error.h"
#include "engine/ops/backend.h"
#include "engine/ops/op_args.h"
#if RP_CUDA_KERNELS
#include "kernels/cuda/dlr.h"
#endif
#include "kernels/cpu/dlr.h"

namespace rp {
namespace {

constexpr const char* kLogitDims = "(N, K)";

// The logits, the labels and (when defined) the targets; the classes the loss needs.
void check_classes(detail::OpArgs& a, const Tensor& logits, const Tensor& labels,
                   const Tensor& targets, std::int64_t min_classes) {
  a.batch("logits", logits, 2, kLogitDims);
  const std::int64_t n = logits.size(0), k = logits.size(1);
  a.typed("labels", labels, DType::I32, Shape{n}, "(N)");
  if (targets.defined()) a.typed("targets", targets, DType::I32, Shape{n}, "(N)");
  RP_CHECK(k >= min_classes, a.op(),
           "logits: needs at least " << min_classes << " classes, found " << logits.str());
}

const std::int32_t* targets_or_null(const Tensor& targets) {
  return targets.defined() ? targets.data<std::int32_t>() : nullptr;
}

}  // namespace

void dlr_forward(Context& ctx, const Tensor& logits, const Tensor& labels, const Tensor& targets,
                 const Tensor& values) {
  detail::OpArgs a("dlr_forward", ctx);
  check_classes(a, logits, labels, targets, targets.defined() ? 4 : 3);
  a.floating("values", values, Shape{logits.size(0)}, "(N)")
      .distinct("values", values, "logits", logits);
  a.cpu_or_cuda_backend();
  detail::dispatch_floating(a, [&](auto tag) {
    using T = decltype(tag);
    RP_ON_DEVICE(ctx, dlr_forward<T>, logits.size(0), logits.size(1), logits.data<T>(),
                 labels.data<std::int32_t>(), targets_or_null(targets), values.data<T>());
  });
}

void dlr_backward(Context& ctx, const Tensor& logits, const Tensor& labels, const Tensor& targets,
                  const Tensor& upstream, const Tensor& dlogits, GradMode mode) {
  detail::OpArgs a("dlr_backward", ctx);
  check_classes(a, logits, labels, targets, targets.defined() ? 4 : 3);
  a.floating("upstream", upstream, Shape{logits.size(0)}, "(N)");
  a.floating("dlogits", dlogits, logits.shape(), kLogitDims);
  a.distinct("dlogits", dlogits, {{"logits", &logits}, {"upstream", &upstream}});
  a.cpu_or_cuda_backend();
  detail::dispatch_floating(a, [&](auto tag) {
    using T = decltype(tag);
    RP_ON_DEVICE(ctx, dlr_backward<T>, logits.size(0), logits.size(1), logits.data<T>(),
                 labels.data<std::int32_t>(), targets_or_null(targets), upstream.data<T>(),
                 dlogits.data<T>(), mode);
  });
}

void margin_forward(Context& ctx, const Tensor& logits, const Tensor& labels,
                    const Tensor& values) {
  detail::OpArgs a("margin_forward", ctx);
  check_classes(a, logits, labels, Tensor(), 2);
  a.floating("values", values, Shape{logits.size(0)}, "(N)")
      .distinct("values", values, "logits", logits);
  a.cpu_or_cuda_backend();
  detail::dispatch_floating(a, [&](auto tag) {
    using T = decltype(tag);
    RP_ON_DEVICE(ctx, margin_forward<T>, logits.size(0), logits.size(1), logits.data<T>(),
                 labels.data<std::int32_t>(), values.data<T>());
  });
}

}  // namespace rp
