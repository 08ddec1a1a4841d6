// SGD with momentum, weight decay and the Nesterov option, PyTorch's semantics (maths in
// kernels/cpu/sgd.h), over one contiguous buffer holding every parameter of a model.
//
//   params, grads, momentum_buf: the same shape (usually 1-D, the whole model)
//   momentum_buf may be undefined when momentum is 0; start it at zero
#pragma once

#include "engine/core/context.h"
#include "engine/core/tensor.h"

namespace rp {

struct SgdParams {
  double lr = 0.1;
  double momentum = 0.9;
  double weight_decay = 5e-4;
  bool nesterov = false;
};

void sgd_step(Context& ctx, const Tensor& params, const Tensor& grads, const Tensor& momentum_buf,
              const SgdParams& p);

}  // namespace rp
