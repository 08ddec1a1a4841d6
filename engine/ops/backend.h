// The one seam between the CPU reference and the CUDA kernels: RP_ON_DEVICE(ctx, fn, args...)
// calls cuda::fn(&ctx.cuda(), args...) on a CUDA context and cpu::fn(args..., ctx.threads())
// otherwise. Builds without the CUDA kernels compile the CPU call only (OpArgs has refused a
// CUDA context before any op gets here).
#pragma once

#include "engine/core/context.h"

#if RP_CUDA_KERNELS
#define RP_ON_DEVICE(ctx, fn, ...)                                       \
  ((ctx).device().is_cuda() ? ::rp::cuda::fn(&(ctx).cuda(), __VA_ARGS__) \
                            : ::rp::cpu::fn(__VA_ARGS__, (ctx).threads()))
#else
#define RP_ON_DEVICE(ctx, fn, ...) ::rp::cpu::fn(__VA_ARGS__, (ctx).threads())
#endif
