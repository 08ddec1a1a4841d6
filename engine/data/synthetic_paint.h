// What the synthetic datasets' generators (synthetic.cpp, synthetic_scenes.cpp) share: colours,
// the sequence of one image's random draws and antialiased coverage.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>

#include "engine/core/philox.h"

namespace rp::synthetic {

using Rgb = std::array<double, 3>;
constexpr double kPi = 3.14159265358979323846;
// Each image's draws start this far apart in its split's stream; no image takes more.
constexpr std::uint64_t kDrawsPerImage = 64;

// Sequential draws for one image.
struct Draws {
  RngStream rng;
  std::uint64_t next = 0;
  double u() { return static_cast<double>(rng_uniform(rng, next++)); }
  double in(double lo, double hi) { return lo + (hi - lo) * u(); }
  // Standard normal from the next two uniform draws (Box-Muller, cosine branch). Not
  // rng_normal(): its number e shares block e / 4's words with the uniform draws around it, so
  // mixing the two in one sequence would correlate them.
  double normal() {
    const double u1 = 1.0 - u(), u2 = u();  // u1 in (0, 1]
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2 * kPi * u2);
  }
};

inline double luminance(const Rgb& c) {
  return 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2];
}

// Coverage of a pixel by the region where a signed distance (in pixels) is negative, with a
// one-pixel ramp so edges are antialiased.
inline double coverage(double signed_distance) {
  return std::clamp(0.5 - signed_distance, 0.0, 1.0);
}

inline Rgb mix(const Rgb& a, const Rgb& b, double t) {
  return {a[0] * (1 - t) + b[0] * t, a[1] * (1 - t) + b[1] * t, a[2] * (1 - t) + b[2] * t};
}

// h in turns (any real), s and v in [0, 1].
inline Rgb from_hsv(double h, double s, double v) {
  h = (h - std::floor(h)) * 6;
  const double f = h - std::floor(h);
  const double p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
  switch (static_cast<int>(h) % 6) {
    case 0:
      return {v, t, p};
    case 1:
      return {q, v, p};
    case 2:
      return {p, v, t};
    case 3:
      return {p, q, v};
    case 4:
      return {t, p, v};
    default:
      return {v, p, q};
  }
}

}  // namespace rp::synthetic
