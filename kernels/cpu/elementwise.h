// Elementwise ops over n contiguous values, CPU reference.
//
//   add_forward     y = a + b                    (the residual join; y may alias a or b)
//   add_backward    da (=|+=) dy,  db (=|+=) dy  (either may be null)
//   pass_gradient   dx (=|+=) dy                 (identity backward: fake-ReLU, copies)
//   fill            x = value
#pragma once

#include <cstdint>

#include "engine/core/grad_mode.h"

namespace rp::cpu {

template <typename T>
void add_forward(std::int64_t n, const T* a, const T* b, T* y, int threads);

template <typename T>
void add_backward(std::int64_t n, const T* dy, T* da, T* db, GradMode mode, int threads);

template <typename T>
void pass_gradient(std::int64_t n, const T* dy, T* dx, GradMode mode, int threads);

template <typename T>
void fill(std::int64_t n, T* x, T value, int threads);

// Elements per thread below which elementwise loops stay on one thread.
constexpr std::int64_t kElementwiseGrain = 1 << 15;

}  // namespace rp::cpu
