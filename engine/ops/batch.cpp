#include "engine/ops/batch.h"

#include <cstdint>

#include "engine/core/error.h"
#include "engine/ops/backend.h"
#include "engine/ops/op_args.h"
#if RP_CUDA_KERNELS
#include "kernels/cuda/gather.h"
#endif

namespace rp {

void gather_batch(Context& ctx, const Tensor& images, const Tensor& labels, const Tensor& order,
                  const Augmentation& aug, const Tensor& out_images, const Tensor& out_labels) {
  detail::OpArgs a("gather_batch", ctx);
  RP_CHECK(images.defined() && images.rank() == 4 && images.dtype() == DType::U8, a.op(),
           "images: expected u8 (M, C, H, W), found " << images.str());
  const std::int64_t m = images.size(0);
  a.typed("images", images, DType::U8, images.shape(), "(M, C, H, W)");
  a.typed("labels", labels, DType::I32, Shape{m}, "(M)");
  RP_CHECK(order.defined() && order.rank() == 1, a.op(),
           "order: expected (N), found " << order.str());
  const std::int64_t n = order.size(0);
  a.typed("order", order, DType::I32, Shape{n}, "(N)");
  a.batch("out_images", out_images, 4, "(N, C, H, W)");
  a.floating("out_images", out_images, Shape{n, images.size(1), images.size(2), images.size(3)},
             "(N, C, H, W)");
  a.typed("out_labels", out_labels, DType::I32, Shape{n}, "(N)");
  RP_CHECK(!aug.enabled || (aug.pad >= 0 && aug.pad <= 64), a.op(),
           "padding must be in [0, 64], found " << aug.pad);
  a.distinct("out_labels", out_labels, "labels", labels)
      .distinct("out_labels", out_labels, "order", order);
  a.cpu_or_cuda_backend();
  const std::int32_t* idx = order.data<std::int32_t>();
  // On the GPU `order` is not read back (a host round trip per batch): the kernel writes NaN
  // images and label -1 for an index out of range instead (batch.h).
  if (ctx.device().is_cpu()) {
    for (std::int64_t j = 0; j < n; ++j) {
      RP_CHECK(idx[j] >= 0 && idx[j] < m, a.op(),
               "order[" << j << "] = " << idx[j] << " is outside the dataset [0, " << m << ")");
    }
  }
  const cpu::GatherShape s{m, n, images.size(1), images.size(2), images.size(3)};
  detail::dispatch_floating(a, [&](auto tag) {
    using T = decltype(tag);
    RP_ON_DEVICE(ctx, gather_batch<T>, s, images.data<std::uint8_t>(), labels.data<std::int32_t>(),
                 idx, aug, out_images.data<T>(), out_labels.data<std::int32_t>());
  });
}

}  // namespace rp
