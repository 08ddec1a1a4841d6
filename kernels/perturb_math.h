// Per-element arithmetic of the perturbation updates, shared by the CPU reference and the CUDA
// kernels so both round identically: the Linf step, the Linf projection and clipping are
// required to agree bit for bit.
#pragma once

#include "engine/core/host_device.h"

namespace rp {

// The L2 step's guard against a zero gradient, as the robustness library uses it.
constexpr double kL2StepEpsilon = 1e-10;

template <typename T>
RP_HOST_DEVICE inline T clamp01(T v) {
  return v < T(0) ? T(0) : (v > T(1) ? T(1) : v);  // NaN passes through
}

// sign(0) = 0; a NaN stays NaN, so a diverging gradient shows in the iterate instead of
// silently freezing it.
template <typename T>
RP_HOST_DEVICE inline T sign_of(T v) {
  return v > T(0) ? T(1) : (v < T(0) ? T(-1) : (v == T(0) ? T(0) : v));
}

// A per-example scale computed in double, rounded to T without overflowing to infinity (a
// zero gradient or a huge epsilon would otherwise turn 0 * inf into NaN).
template <typename T>
RP_HOST_DEVICE inline T saturate_to(double v, double max_of_t) {
  return static_cast<T>(v > max_of_t ? max_of_t : (v < -max_of_t ? -max_of_t : v));
}

// x + alpha * sign(g): alpha * sign(g) is exact, so this is one rounding, fused or not.
template <typename T>
RP_HOST_DEVICE inline T linf_step_value(T x, T g, T alpha) {
  return x + alpha * sign_of(g);
}

// clamp(x0 + clamp(x - x0, -eps, eps), 0, 1). Inside the ball x itself is kept (rather than
// x0 + (x - x0), which can round differently), so a point in the ball is left exactly alone.
template <typename T>
RP_HOST_DEVICE inline T project_linf_value(T x, T x0, T eps) {
  const T d = x - x0;
  const T v = d > eps ? x0 + eps : (d < -eps ? x0 - eps : x);
  return clamp01(v);
}

// The L2 projection of one element once the example's scale is known: scale >= 1 means
// "inside the ball" and keeps x exactly.
template <typename T>
RP_HOST_DEVICE inline T project_l2_value(T x, T x0, T scale) {
  return clamp01(scale >= T(1) ? x : x0 + scale * (x - x0));
}

// eps / ||delta|| when delta leaves the ball, else 1.
RP_HOST_DEVICE inline double l2_projection_scale(double norm, double eps) {
  return norm > eps ? eps / norm : 1.0;
}

}  // namespace rp
