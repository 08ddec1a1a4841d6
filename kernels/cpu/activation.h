// ReLU and fake-ReLU, CPU reference, over n contiguous values.
//
//   relu_forward    y = max(x, 0)  (NaN propagates, so a diverging run is caught downstream;
//                   y may alias x)
//   relu_backward   dx (=|+=) dy * [y > 0]   (from the output, so the forward may run in place)
//   fake-ReLU       forward is relu_forward; backward is the identity dx (=|+=) dy
//                   (pass_gradient in elementwise.h): a coordinate that is 0 still receives a
//                   gradient, which feature visualization needs
#pragma once

#include <cstdint>

#include "engine/core/grad_mode.h"

namespace rp::cpu {

template <typename T>
void relu_forward(std::int64_t n, const T* x, T* y, int threads);

template <typename T>
void relu_backward(std::int64_t n, const T* y, const T* dy, T* dx, GradMode mode, int threads);

}  // namespace rp::cpu
