// Per-example objectives on the GPU: the CUDA twins of kernels/cpu/objectives.h, with its
// definitions. Work is queued on the context's stream; nothing allocates or synchronizes with
// the host.
//   representation_distance_forward/backward  a block per example reduces ||r_i - t_i||^2 and
//       ||t_i||^2 in double (the CPU's sums in another order: ~1e-6 relative), then the
//       backward writes dr_i (=|+=) up_i (r_i - t_i) / (||r_i - t_i|| ||t_i||), 0 where r_i = t_i.
//   coordinate_forward   a thread per example: r_i[k_i], or min(r_i[k_i] - tau, 0) rounded as
//       the CPU's std::min (a NaN stays NaN).
//   coordinate_backward  a thread per element of dr: up_i at k_i (and r_i[k_i] < tau with the
//       hinge), else 0; = or +=.
//   keep_better          a block per example: compare, then copy the value and the row.
// Coordinates are not read back to the host (no synchronization inside an op): an example
// whose coordinate lies outside [0, f) gets a NaN value and a NaN gradient row, which the
// loop's divergence checks report, as cross_entropy does for a bad label.
#pragma once

#include <cstdint>

#include "engine/core/grad_mode.h"

namespace rp {
struct CudaHandles;
}

namespace rp::cuda {

template <typename T>
void representation_distance_forward(CudaHandles* h, std::int64_t n, std::int64_t f, const T* r,
                                     const T* target, T* values);
template <typename T>
void representation_distance_backward(CudaHandles* h, std::int64_t n, std::int64_t f, const T* r,
                                      const T* target, const T* upstream, T* dr, GradMode mode);

template <typename T>
void coordinate_forward(CudaHandles* h, std::int64_t n, std::int64_t f, const T* r,
                        const std::int32_t* k, bool hinge, double tau, T* values);
template <typename T>
void coordinate_backward(CudaHandles* h, std::int64_t n, std::int64_t f, const T* r,
                         const std::int32_t* k, bool hinge, double tau, const T* upstream, T* dr,
                         GradMode mode);

template <typename T>
void keep_better(CudaHandles* h, std::int64_t n, std::int64_t d, const T* values, const T* x,
                 bool maximize, T* best_values, T* best_x);

}  // namespace rp::cuda
