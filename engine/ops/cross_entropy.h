// Softmax cross-entropy (maths in kernels/cpu/cross_entropy.h).
//
//   logits, dlogits (N, K)    labels (N) i32 in [0, K)    losses, dlosses (N)    mean (1)
//   forward   losses[i] = -log softmax(logits_i)[labels_i];  mean = sum(losses) / N (optional)
//   backward  dlogits_i (=|+=) dlosses_i (softmax(logits_i) - onehot(labels_i))
// For the gradient of the mean, fill dlosses with 1/N.
#pragma once

#include "engine/core/context.h"
#include "engine/core/grad_mode.h"
#include "engine/core/tensor.h"

namespace rp {

void cross_entropy_forward(Context& ctx, const Tensor& logits, const Tensor& labels,
                           const Tensor& losses, const Tensor& mean);
void cross_entropy_backward(Context& ctx, const Tensor& logits, const Tensor& labels,
                            const Tensor& dlosses, const Tensor& dlogits, GradMode mode);

}  // namespace rp
