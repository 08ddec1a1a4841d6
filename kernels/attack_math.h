// Per-example arithmetic of the AutoAttack attacks, shared by the CPU reference and the CUDA
// kernels so both decide and round identically (Croce & Hein 2020; fra31/auto-attack).
//
//   top4        the indices of a row's four largest logits, largest first; ties go to the
//               smaller index, NaNs are never chosen (then the row's value is NaN)
//   DLR         untargeted  -(z_y - max_{j != y} z_j) / (z_pi1 - z_pi3 + 1e-12)
//               targeted    -(z_y - z_t) / (z_pi1 - (z_pi3 + z_pi4) / 2 + 1e-12)
//               margin      z_y - max_{j != y} z_j    (Square's loss, minimized)
//   apgd_halves APGD's step-size rule at a checkpoint
#pragma once

#include <cmath>
#include <cstdint>

#include "engine/core/host_device.h"
#include "engine/core/philox.h"

namespace rp {

// AutoAttack's guard against a zero denominator (all top logits equal).
constexpr double kDlrEpsilon = 1e-12;

struct Top4 {
  std::int64_t at[4] = {-1, -1, -1, -1};
};

template <typename T>
RP_HOST_DEVICE inline Top4 top4_of(const T* row, std::int64_t k) {
  Top4 t;
  for (std::int64_t j = 0; j < k; ++j) {
    const T v = row[j];
    if (!(v == v)) continue;
    int slot = 4;
    while (slot > 0 && (t.at[slot - 1] < 0 || v > row[t.at[slot - 1]])) --slot;
    if (slot == 4) continue;
    for (int s = 3; s > slot; --s) t.at[s] = t.at[s - 1];
    t.at[slot] = j;
  }
  return t;
}

// The pieces of one example's DLR loss: value = -num / den, the classes the gradient touches.
struct DlrTerms {
  double num = 0, den = 1;
  std::int64_t y = 0, other = 0;  // num = z_y - z_other (other: the target, or the top non-y)
  std::int64_t pi1 = 0, pi3 = 0, pi4 = -1;  // den's classes (pi4 only when targeted)
  bool ok = false;                          // false: a NaN logit or a class out of range
};

// target < 0: untargeted. k must be >= 3 (untargeted) or >= 4 (targeted).
template <typename T>
RP_HOST_DEVICE inline DlrTerms dlr_terms(const T* row, std::int64_t k, std::int32_t y,
                                         std::int32_t target) {
  DlrTerms d;
  const Top4 t = top4_of(row, k);
  const bool targeted = target >= 0;
  if (y < 0 || y >= k || (targeted && target >= k) || t.at[targeted ? 3 : 2] < 0) return d;
  d.y = y;
  d.other = targeted ? target : (t.at[0] == y ? t.at[1] : t.at[0]);
  d.pi1 = t.at[0];
  d.pi3 = t.at[2];
  d.pi4 = targeted ? t.at[3] : -1;
  const double z1 = static_cast<double>(row[d.pi1]), z3 = static_cast<double>(row[d.pi3]);
  d.num = static_cast<double>(row[d.y]) - static_cast<double>(row[d.other]);
  d.den = targeted ? z1 - 0.5 * (z3 + static_cast<double>(row[d.pi4])) + kDlrEpsilon
                   : z1 - z3 + kDlrEpsilon;
  d.ok = true;
  return d;
}

// z_y - max_{j != y} z_j, or NaN (a NaN among the top logits, y out of range, k < 2).
template <typename T>
RP_HOST_DEVICE inline double margin_value(const T* row, std::int64_t k, std::int32_t y) {
  const Top4 t = top4_of(row, k);
  if (y < 0 || y >= k || t.at[1] < 0) return static_cast<double>(NAN);
  const std::int64_t other = t.at[0] == y ? t.at[1] : t.at[0];
  return static_cast<double>(row[y]) - static_cast<double>(row[other]);
}

// APGD's rule at a checkpoint that closes a window of `window` iterations (Croce & Hein 2020,
// Sec. 3.2, as fra31/auto-attack codes it): halve the step, restarting from the best point,
// when at most rho * window of the window's iterations increased the loss (condition 1), or
// when the step was not halved at the previous checkpoint and the best loss has not improved
// since it (condition 2). The reference implementation counts with <=, the paper says "fewer
// than"; we follow the code.
RP_HOST_DEVICE inline bool apgd_halves(double increases, std::int64_t window, double rho,
                                       bool halved_last, double best_last, double best) {
  const bool oscillating = increases <= static_cast<double>(window) * rho;
  const bool stalled = !halved_last && best_last >= best;
  return oscillating || stalled;
}

// One element of APGD's momentum update (Croce & Hein 2020, Algorithm 1, lines 7-8):
//   w = x + a (z - x) + (1 - a) (x - x_prev), z the projected gradient step from x.
template <typename T>
RP_HOST_DEVICE inline T apgd_momentum_value(T x, T x_prev, T z, T a) {
  return x + a * (z - x) + (T(1) - a) * (x - x_prev);
}

// Square's random sign: -1 or +1 from Philox element i of `rng`.
template <typename T>
RP_HOST_DEVICE inline T square_sign(RngStream rng, std::uint64_t i) {
  return rng_uniform(rng, i) < 0.5f ? T(-1) : T(1);
}

// Square's window value: x_best + 2 eps s, projected onto the Linf ball around x0 and [0, 1].
template <typename T>
RP_HOST_DEVICE inline T square_vertex_value(T x_best, T x0, T eps, T sign) {
  const T v = x_best + T(2) * eps * sign;
  const T lo = x0 - eps, hi = x0 + eps;
  const T in_ball = v < lo ? lo : (v > hi ? hi : v);
  return in_ball < T(0) ? T(0) : (in_ball > T(1) ? T(1) : in_ball);
}

// Square L2's geometry: whether (r, q) lies in a side x side window at (top, left).
RP_HOST_DEVICE inline bool square_inside(std::int64_t r, std::int64_t q, std::int64_t top,
                                         std::int64_t left, std::int64_t side) {
  return r >= top && r < top + side && q >= left && q < left + side;
}

template <typename T>
RP_HOST_DEVICE inline double square_eta_at(const T* eta, std::int64_t side, std::int64_t r,
                                           std::int64_t q, bool transpose) {
  return static_cast<double>(transpose ? eta[q * side + r] : eta[r * side + q]);
}

// Square L2's start: the tile (and the position inside it) of (r, q), or -1 outside the grid.
struct SquareTile {
  std::int64_t tile = -1, r = 0, q = 0;
};
RP_HOST_DEVICE inline SquareTile square_tile_of(std::int64_t r, std::int64_t q, std::int64_t h,
                                                std::int64_t w, std::int64_t side) {
  SquareTile t;
  const std::int64_t start = (h - 5 * side) / 2, rows = h / side, cols = w / side;
  if (r < start || q < start) return t;
  const std::int64_t tr = (r - start) / side, tq = (q - start) / side;
  if (tr >= rows || tq >= cols) return t;
  t.tile = tr * cols + tq;
  t.r = (r - start) % side;
  t.q = (q - start) % side;
  return t;
}

}  // namespace rp
