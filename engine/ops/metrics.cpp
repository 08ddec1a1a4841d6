#include "engine/ops/metrics.h"

#include <cstdint>

#include "engine/ops/backend.h"
#include "engine/ops/op_args.h"
#if RP_CUDA_KERNELS
#include "kernels/cuda/metrics.h"
#endif
#include "kernels/cpu/metrics.h"

namespace rp {

void count_correct(Context& ctx, const Tensor& logits, const Tensor& labels,
                   const Tensor& correct) {
  detail::OpArgs a("count_correct", ctx);
  a.batch("logits", logits, 2, "(N, K)");
  a.typed("labels", labels, DType::I32, Shape{logits.size(0)}, "(N)");
  a.floating("correct", correct, Shape{1}, "(1)").distinct("correct", correct, "logits", logits);
  a.cpu_or_cuda_backend();
  detail::dispatch_floating(a, [&](auto tag) {
    using T = decltype(tag);
    RP_ON_DEVICE(ctx, count_correct<T>, logits.size(0), logits.size(1), logits.data<T>(),
                 labels.data<std::int32_t>(), correct.data<T>());
  });
}

void correct_flags(Context& ctx, const Tensor& logits, const Tensor& labels,
                   const Tensor& correct) {
  detail::OpArgs a("correct_flags", ctx);
  a.batch("logits", logits, 2, "(N, K)");
  a.typed("labels", labels, DType::I32, Shape{logits.size(0)}, "(N)");
  a.floating("correct", correct, Shape{logits.size(0)}, "(N)")
      .distinct("correct", correct, "logits", logits);
  a.cpu_or_cuda_backend();
  detail::dispatch_floating(a, [&](auto tag) {
    using T = decltype(tag);
    RP_ON_DEVICE(ctx, correct_flags<T>, logits.size(0), logits.size(1), logits.data<T>(),
                 labels.data<std::int32_t>(), correct.data<T>());
  });
}

}  // namespace rp
