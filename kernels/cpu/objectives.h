// Per-example objectives of the attacks and representation experiments, CPU reference. r is
// (n, f): a representation R(x) or logits.
//
//   representation_distance  values[i] = ||r_i - t_i||_2 / ||t_i||_2   (inversion; t = target)
//                            backward: dr_i (=|+=) up_i (r_i - t_i) / (||r_i - t_i|| ||t_i||),
//                            0 where r_i = t_i (the distance's subgradient there)
//   coordinate               values[i] = r_i[k_i]                       (visualization)
//                            or, with a hinge tau: min(r_i[k_i] - tau, 0) (feature addition)
//                            backward: dr_i (=|+=) up_i e_{k_i}, times [r_i[k_i] < tau] with
//                            the hinge
//   keep_better              per example, where `values` beats `best_values` (greater when
//                            maximizing, smaller otherwise; a NaN value never beats, nothing
//                            beats a NaN best, a tie keeps the best), copy the value and the
//                            example's row of x into best_values and best_x
// Norms and sums in double. Coordinates are validated before any work. The coordinate ops and
// keep_better touch one row per example and run serially: their `threads` is only the ops
// seam's calling convention (engine/ops/backend.h). CUDA twins in kernels/cuda/objectives.h.
#pragma once

#include <cstdint>

#include "engine/core/grad_mode.h"

namespace rp::cpu {

template <typename T>
void representation_distance_forward(std::int64_t n, std::int64_t f, const T* r, const T* target,
                                     T* values, int threads);
template <typename T>
void representation_distance_backward(std::int64_t n, std::int64_t f, const T* r, const T* target,
                                      const T* upstream, T* dr, GradMode mode, int threads);

template <typename T>
void coordinate_forward(std::int64_t n, std::int64_t f, const T* r, const std::int32_t* k,
                        bool hinge, double tau, T* values, int threads);
template <typename T>
void coordinate_backward(std::int64_t n, std::int64_t f, const T* r, const std::int32_t* k,
                         bool hinge, double tau, const T* upstream, T* dr, GradMode mode,
                         int threads);

template <typename T>
void keep_better(std::int64_t n, std::int64_t d, const T* values, const T* x, bool maximize,
                 T* best_values, T* best_x, int threads);

// Throws rp::Error naming `op` and the first coordinate outside [0, f).
void check_coordinates(const char* op, std::int64_t n, std::int64_t f, const std::int32_t* k);

}  // namespace rp::cpu
