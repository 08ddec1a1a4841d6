// Classification metrics, CPU reference.
//
//   count_correct  correct[0] = #{i : argmax_k logits[i, k] == labels[i]}, as a float (the
//                  first maximum wins ties, as torch.argmax does on the CPU). Written into a
//                  tensor so training can accumulate it on the device without a host sync.
//                  A NaN logit never wins against a number: the scan keeps the running best
//                  unless a later logit is strictly greater, so a NaN at k = 0 makes 0 the
//                  argmax and a NaN elsewhere is passed over.
// Serial (a handful of classes per row); `threads` is only the ops seam's calling convention
// (engine/ops/backend.h). CUDA twins in kernels/cuda/metrics.h.
#pragma once

#include <cstdint>

namespace rp::cpu {

// correct[i] = 1 where argmax_k logits[i, k] == labels[i], else 0.
template <typename T>
void correct_flags(std::int64_t n, std::int64_t k, const T* logits, const std::int32_t* labels,
                   T* correct, int threads);

template <typename T>
void count_correct(std::int64_t n, std::int64_t k, const T* logits, const std::int32_t* labels,
                   T* correct, int threads);

}  // namespace rp::cpu
