// Softmax cross-entropy, CPU reference: logits z (n, k), labels (n) in [0, k).
//
//   forward   loss_i = logsumexp(z_i) - z_i[label_i]      (max-shifted: stable for any logits)
//             mean   = sum_i loss_i / n                   (optional output)
//   backward  dz_i (=|+=) dloss_i * (softmax(z_i) - onehot(label_i))
// The upstream gradient is per example: 1/n for the mean, -1 for a targeted attack, 0 to mask
// an example out. Labels are validated (rp::Error naming the example) before any work.
#pragma once

#include <cstdint>

#include "engine/core/grad_mode.h"

namespace rp::cpu {

template <typename T>
void cross_entropy_forward(std::int64_t n, std::int64_t k, const T* logits,
                           const std::int32_t* labels, T* losses, T* mean, int threads);

template <typename T>
void cross_entropy_backward(std::int64_t n, std::int64_t k, const T* logits,
                            const std::int32_t* labels, const T* dlosses, T* dlogits, GradMode mode,
                            int threads);

// Throws rp::Error naming `op` and the first label outside [0, k).
void check_labels(const char* op, std::int64_t n, std::int64_t k, const std::int32_t* labels);

}  // namespace rp::cpu
