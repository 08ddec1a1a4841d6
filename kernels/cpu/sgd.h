// SGD with momentum, PyTorch's semantics (dampening 0), over one contiguous buffer of n
// parameters with their gradients and momentum buffer:
//
//   d = grad + weight_decay * param        (the term is skipped when weight_decay is 0)
//   if momentum != 0:  buf = momentum * buf + d;   d = nesterov ? d + momentum * buf : buf
//   param = param - lr * d
//
// With buf starting at zero this equals PyTorch's first step (buf = d). buf may be null when
// momentum is 0. One pass, elementwise: the GPU twin is one launch over the whole model.
#pragma once

#include <cstdint>

namespace rp::cpu {

struct SgdHyper {
  double lr = 0.1;
  double momentum = 0.9;
  double weight_decay = 5e-4;
  bool nesterov = false;
};

template <typename T>
void sgd_step(std::int64_t n, T* param, const T* grad, T* momentum_buf, const SgdHyper& h,
              int threads);

}  // namespace rp::cpu
