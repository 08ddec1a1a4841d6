// count_correct: correct (1) = the number of rows of logits (N, K) whose argmax equals the
// label (N) i32; in the logits' dtype so it can land in a device-side metrics buffer.
#pragma once

#include "engine/core/context.h"
#include "engine/core/tensor.h"

namespace rp {

void count_correct(Context& ctx, const Tensor& logits, const Tensor& labels, const Tensor& correct);
// correct (N) = 1 where the row's argmax equals the label, else 0.
void correct_flags(Context& ctx, const Tensor& logits, const Tensor& labels, const Tensor& correct);

}  // namespace rp
