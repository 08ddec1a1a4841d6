#include "engine/data/synthetic_scenes.h"

namespace rp::synthetic {
namespace {

enum Shape { Disk, Ring, Square, Bar, Cross };

// The class's colours: hues a tenth of a turn apart, stepped differently for sky, ground and
// object so that no two classes share a pair; values alternate so lightness is a cue as well.
Rgb sky_of(int c) {
  return from_hsv(0.1 * ((3 * c) % 10), 0.5, c % 2 != 0 ? 0.85 : 0.55);
}
Rgb ground_of(int c) {
  return from_hsv(0.1 * ((7 * c + 2) % 10), 0.6, c % 3 != 0 ? 0.4 : 0.7);
}
Rgb object_of(int c) {
  return from_hsv(0.1 * ((9 * c + 5) % 10), 0.8, (c / 2) % 2 != 0 ? 0.9 : 0.25);
}

constexpr double kColourJitter = 0.2;

// The class's colour (jittered) with probability p, else a uniformly random one.
Rgb cue_colour(const Rgb& of_class, double p, Draws& d) {
  Rgb out{};
  if (d.u() < p) {
    for (std::size_t i = 0; i < 3; ++i) {
      out[i] = std::clamp(of_class[i] + kColourJitter * d.normal(), 0.0, 1.0);
    }
  } else {
    for (double& v : out) v = d.u();
  }
  return out;
}

}  // namespace

// At most 35 draws: within kDrawsPerImage.
CueScene draw_cue_scene(int cls, double size, double p, Draws& d) {
  const double px = size / 32;  // one pixel of a 32 x 32 image
  CueScene s;
  s.sky = cue_colour(sky_of(cls), p, d);
  s.ground = cue_colour(ground_of(cls), p, d);
  s.object = cue_colour(object_of(cls), p, d);
  const double height = d.u() < p ? 0.25 + 0.05 * cls : d.in(0.2, 0.9);
  s.horizon = height * size + 3 * px * d.normal();
  s.tilt = 0.3 * d.normal();
  s.shape = d.u() < p ? cls % 5 : std::min(static_cast<int>(d.u() * 5), 4);
  s.cx = d.in(0.25, 0.75) * size;
  s.cy = d.in(0.25, 0.75) * size;
  s.radius = d.in(0.12, 0.32) * size;
  s.stripe_period = d.in(2, 6) * px;
  s.stripe_amplitude = d.in(0, 0.08);
  const double theta = d.in(0, 2 * kPi);
  s.cos_t = std::cos(theta);
  s.sin_t = std::sin(theta);
  return s;
}

Rgb cue_scene_colour(const CueScene& s, double x, double y, double size) {
  // Sky above the horizon, ground below, with a one-pixel ramp between.
  const double horizon = s.horizon + s.tilt * (x - size / 2);
  const double ground = coverage(horizon - y);
  Rgb c = mix(s.sky, s.ground, ground);
  // The sky brightens towards the horizon; the ground has faint horizontal stripes.
  const double shade = (1 - ground) * 0.1 * (y / size - 0.5) +
                       ground * s.stripe_amplitude * std::sin(2 * kPi * y / s.stripe_period);
  for (double& v : c) v += shade;

  const double dx = x - s.cx, dy = y - s.cy;
  const double u = s.cos_t * dx + s.sin_t * dy, v = -s.sin_t * dx + s.cos_t * dy;
  const double r = s.radius;
  double distance = 0;
  switch (static_cast<Shape>(s.shape)) {
    case Disk:
      distance = std::hypot(dx, dy) - r;
      break;
    case Ring:
      distance = std::abs(std::hypot(dx, dy) - 0.7 * r) - 0.25 * r;
      break;
    case Square:
      distance = std::max(std::abs(u), std::abs(v)) - 0.8 * r;
      break;
    case Bar:
      distance = std::max(std::abs(u) - r, std::abs(v) - 0.35 * r);
      break;
    case Cross:
      distance = std::min(std::max(std::abs(u) - r, std::abs(v) - 0.28 * r),
                          std::max(std::abs(u) - 0.28 * r, std::abs(v) - r));
      break;
  }
  // The object is lit from the top left.
  const double lit = 0.15 * (-dx - dy) / (r + size / 32);
  const Rgb object{s.object[0] + lit, s.object[1] + lit, s.object[2] + lit};
  return mix(c, object, coverage(distance));
}

const std::vector<std::string>& cue_scene_classes() {
  static const std::vector<std::string> names = [] {
    const char* shapes[] = {"disk", "ring", "square", "bar", "cross"};
    // The names of the sky hues, a tenth of a turn apart from red.
    const char* hues[] = {"red",  "orange", "lime",   "green",  "spring",
                          "cyan", "azure",  "violet", "purple", "rose"};
    std::vector<std::string> n;
    for (int c = 0; c < 10; ++c) {
      n.push_back(std::string(shapes[c % 5]) + ", " + hues[(3 * c) % 10] + " sky");
    }
    return n;
  }();
  return names;
}

}  // namespace rp::synthetic
