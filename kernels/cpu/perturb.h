// Perturbation updates of PGD-style attacks, CPU reference. Tensors are (n, d): n examples of
// d = C*H*W values in pixel space [0, 1]; x0 is the centre of the threat ball (the clean or
// seed image). Norms are per example, over d values, summed in double.
//
//   pgd_step_linf        out = x + alpha sign(g)                           (sign(0) = 0)
//   pgd_step_l2          out = x + alpha g / (||g||_2 + 1e-10)
//   project_linf         out = clamp(x0 + clamp(x - x0, -eps, eps), 0, 1)
//   project_l2           delta = x - x0
//                        out = clamp(x0 + delta min(1, eps / ||delta||_2), 0, 1)
//   pgd_update_linf      project_linf(pgd_step_linf(x, g)): one pass
//   pgd_update_l2        project_l2(pgd_step_l2(x, g)): one pass per example (after the norms)
//   random_start_linf    out = clamp(x0 + eps (2u - 1), 0, 1),  u ~ U[0, 1) per value
//   random_start_l2      out = clamp(x0 + eps z / (||z||_2 + 1e-10), 0, 1),  z ~ N(0, I)
//   l2_norm_per_example  norms[i] = ||x_i||_2
//
// A point already inside the ball is returned exactly (then clipped). alpha < 0 descends
// (targeted attacks, minimized objectives). out may alias x. Element e of the (n, d) tensor
// draws Philox element e of `rng` (philox.h): the GPU twin draws the same numbers.
#pragma once

#include <cstdint>

#include "engine/core/philox.h"

namespace rp::cpu {

struct PerturbShape {
  std::int64_t n = 0, d = 0;  // examples, values per example
};

template <typename T>
void pgd_step_linf(const PerturbShape& s, const T* x, const T* g, double alpha, T* out,
                   int threads);
template <typename T>
void pgd_step_l2(const PerturbShape& s, const T* x, const T* g, double alpha, T* out, int threads);
template <typename T>
void project_linf(const PerturbShape& s, const T* x, const T* x0, double eps, T* out, int threads);
template <typename T>
void project_l2(const PerturbShape& s, const T* x, const T* x0, double eps, T* out, int threads);
template <typename T>
void pgd_update_linf(const PerturbShape& s, const T* x, const T* g, const T* x0, double alpha,
                     double eps, T* out, int threads);
template <typename T>
void pgd_update_l2(const PerturbShape& s, const T* x, const T* g, const T* x0, double alpha,
                   double eps, T* out, int threads);
template <typename T>
void random_start_linf(const PerturbShape& s, const T* x0, double eps, RngStream rng, T* out,
                       int threads);
template <typename T>
void random_start_l2(const PerturbShape& s, const T* x0, double eps, RngStream rng, T* out,
                     int threads);
template <typename T>
void l2_norm_per_example(const PerturbShape& s, const T* x, T* norms, int threads);

}  // namespace rp::cpu
