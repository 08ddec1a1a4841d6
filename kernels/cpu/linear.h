// Fully connected layer with bias, CPU reference: x (n, in), w (out, in), b (out), y (n, out).
//
//   forward          y = x w^T + b            (b may be null: no bias)
//   backward_data    dx (=|+=) dy w
//   backward_weight  dw (=|+=) dy^T x,  db (=|+=) sum_n dy   (db may be null)
// Rows of the output are split across threads (each output element has one owner), so
// results depend only on (shapes, threads).
#pragma once

#include <cstdint>

#include "engine/core/grad_mode.h"

namespace rp::cpu {

struct LinearShape {
  std::int64_t n = 0, in = 0, out = 0;
};

template <typename T>
void linear_forward(const LinearShape& s, const T* x, const T* w, const T* b, T* y, int threads);

template <typename T>
void linear_backward_data(const LinearShape& s, const T* dy, const T* w, T* dx, GradMode mode,
                          int threads);

template <typename T>
void linear_backward_weight(const LinearShape& s, const T* x, const T* dy, T* dw, T* db,
                            GradMode mode, int threads);

}  // namespace rp::cpu
