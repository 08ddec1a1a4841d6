#include "engine/ops/sgd.h"

#include <limits>

#include "engine/core/error.h"
#include "engine/ops/backend.h"
#include "engine/ops/op_args.h"
#if RP_CUDA_KERNELS
#include "kernels/cuda/elementwise.h"
#endif
#include "kernels/cpu/sgd.h"

namespace rp {

void sgd_step(Context& ctx, const Tensor& params, const Tensor& grads, const Tensor& momentum_buf,
              const SgdParams& p) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  detail::OpArgs a("sgd_step", ctx);
  a.examples("params", params).floating("grads", grads, params.shape(), "(like params)");
  a.scalar("lr", p.lr, 0.0, kInf).scalar("momentum", p.momentum, 0.0, 1.0);
  a.scalar("weight_decay", p.weight_decay, 0.0, kInf);
  RP_CHECK(!p.nesterov || p.momentum > 0, a.op(), "Nesterov momentum needs momentum > 0");
  if (p.momentum != 0.0) {
    RP_CHECK(momentum_buf.defined(), a.op(),
             "momentum_buf: required when momentum is " << p.momentum);
    a.floating("momentum_buf", momentum_buf, params.shape(), "(like params)");
  }
  a.distinct("params", params, "grads", grads)
      .distinct("params", params, "momentum_buf", momentum_buf);
  a.distinct("grads", grads, "momentum_buf", momentum_buf).cpu_or_cuda_backend();
  const cpu::SgdHyper h{p.lr, p.momentum, p.weight_decay, p.nesterov};
  detail::dispatch_floating(a, [&](auto tag) {
    using T = decltype(tag);
    RP_ON_DEVICE(ctx, sgd_step<T>, params.numel(), params.data<T>(), grads.data<T>(),
                 p.momentum != 0.0 ? momentum_buf.data<T>() : nullptr, h);
  });
}

}  // namespace rp
