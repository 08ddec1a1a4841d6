#include "engine/data/synthetic.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <sstream>

#include "engine/core/context.h"
#include "engine/core/error.h"
#include "engine/core/philox.h"
#include "engine/core/rng_streams.h"
#include "engine/data/synthetic_paint.h"
#include "engine/data/synthetic_scenes.h"
#include "kernels/cpu/parallel.h"

namespace rp {
namespace {

using synthetic::coverage;
using synthetic::Draws;
using synthetic::from_hsv;
using synthetic::kDrawsPerImage;
using synthetic::kPi;
using synthetic::luminance;
using synthetic::Rgb;

enum Kind { Disk, Ring, Square, Triangle, Cross, HStripes, VStripes, Diagonal, Checker, Dots };

// Inigo Quilez's exact distance to an equilateral triangle of circumradius-ish r, apex up.
double triangle_distance(double px, double py, double r) {
  const double k = std::sqrt(3.0);
  px = std::abs(px) - r;
  py = py + r / k;
  if (px + k * py > 0) {
    const double nx = (px - k * py) / 2, ny = (-k * px - py) / 2;
    px = nx;
    py = ny;
  }
  px -= std::clamp(px, -2 * r, 0.0);
  return -std::hypot(px, py) * (py < 0 ? -1.0 : 1.0);
}

struct Scene {
  Kind kind;
  Rgb fg, bg0, bg1;
  double gx, gy;                        // background gradient direction
  double cx, cy, radius, cos_t, sin_t;  // shapes
  double x0, y0, x1, y1;                // texture patch
  double period, phase_x, phase_y;      // textures
  bool diagonal_up;
};

// A class's own colours (the class colour scheme). The ten background hues are spread evenly
// round the colour wheel (from a seeded offset, neighbouring classes three steps apart), light
// and dark by turns; the foreground takes the opposite hue and lightness. So every class
// differs from every other by a colour change that no small perturbation makes, and the
// shape stands out on its background.
struct Palette {
  Rgb fg, bg;
};
constexpr double kClassJitter = 0.06;

Palette class_palette(std::uint64_t seed, int cls) {
  const RngStream offset{seed, rng_stream(RngPurpose::Synthetic, 48), 0};
  const double hue = static_cast<double>(rng_uniform(offset, 0)) + 0.1 * ((3 * cls) % 10);
  const bool light = cls % 2 == 0;
  return Palette{from_hsv(hue + 0.5, 0.7, light ? 0.3 : 0.9),
                 from_hsv(hue, 0.55, light ? 0.85 : 0.35)};
}

Rgb jittered(const Rgb& c, Draws& d) {
  Rgb out{};
  for (std::size_t i = 0; i < 3; ++i)
    out[i] = std::clamp(c[i] + d.in(-1, 1) * kClassJitter, 0.0, 1.0);
  return out;
}

// Random colours: a background, then a foreground with enough (shapes) or a moderate
// (textures) luminance contrast against it.
void random_colours(Scene& s, Draws& d) {
  s.bg0 = {d.u(), d.u(), d.u()};
  for (int c = 0; c < 3; ++c) {
    s.bg1[static_cast<std::size_t>(c)] =
        std::clamp(s.bg0[static_cast<std::size_t>(c)] + d.in(-0.15, 0.15), 0.0, 1.0);
  }
  const double angle = d.in(0, 2 * kPi);
  s.gx = std::cos(angle);
  s.gy = std::sin(angle);
  const double bg_lum = (luminance(s.bg0) + luminance(s.bg1)) / 2;
  // Shapes stand out (contrast >= 0.3); textures are subtler (0.12 to 0.3): a person still
  // reads them at once, but they are not so loud that small perturbations cannot move a model.
  const bool texture = s.kind >= HStripes;
  const double lo = texture ? 0.12 : 0.3, hi = texture ? 0.3 : 1.0;
  bool found = false;
  for (int attempt = 0; attempt < 16 && !found; ++attempt) {
    s.fg = {d.u(), d.u(), d.u()};
    const double contrast = std::abs(luminance(s.fg) - bg_lum);
    found = contrast >= lo && contrast <= hi;
  }
  if (!found) s.fg = bg_lum < 0.5 ? Rgb{0.95, 0.95, 0.9} : Rgb{0.05, 0.05, 0.1};
}

void class_colours(Scene& s, const Palette& p, Draws& d) {
  s.fg = jittered(p.fg, d);
  s.bg0 = jittered(p.bg, d);
  for (std::size_t c = 0; c < 3; ++c) s.bg1[c] = std::clamp(s.bg0[c] + d.in(-0.1, 0.1), 0.0, 1.0);
  const double angle = d.in(0, 2 * kPi);
  s.gx = std::cos(angle);
  s.gy = std::sin(angle);
}

// palette: the class's colours, or null for random ones.
Scene draw_scene(Kind kind, double size, const Palette* palette, Draws& d) {
  Scene s{};
  s.kind = kind;
  if (palette != nullptr) {
    class_colours(s, *palette, d);
  } else {
    random_colours(s, d);
  }
  s.cx = d.in(0.3, 0.7) * size;
  s.cy = d.in(0.3, 0.7) * size;
  s.radius = d.in(0.18, 0.32) * size;
  const double theta = d.in(-kPi / 6, kPi / 6);
  s.cos_t = std::cos(theta);
  s.sin_t = std::sin(theta);
  const double w = d.in(0.6, 1.0) * size, h = d.in(0.6, 1.0) * size;
  s.x0 = d.in(0, size - w);
  s.y0 = d.in(0, size - h);
  s.x1 = s.x0 + w;
  s.y1 = s.y0 + h;
  s.period = d.in(0.14, 0.25) * size;
  s.phase_x = d.in(0, 2 * kPi);
  s.phase_y = d.in(0, 2 * kPi);
  s.diagonal_up = d.u() < 0.5;
  return s;
}

// Stripes: a smooth wave turned into a one-pixel-ramped square wave.
double wave(double t, double period, double phase) {
  return std::clamp(0.5 + std::sin(2 * kPi * t / period + phase) * period / (2 * kPi), 0.0, 1.0);
}

// How much of pixel (x, y) (its centre) the foreground covers.
double foreground(const Scene& s, double x, double y) {
  const double dx = x - s.cx, dy = y - s.cy;
  const double u = s.cos_t * dx + s.sin_t * dy, v = -s.sin_t * dx + s.cos_t * dy;
  const double r = s.radius;
  switch (s.kind) {
    case Disk:
      return coverage(std::hypot(dx, dy) - r);
    case Ring:
      return coverage(std::abs(std::hypot(dx, dy) - 0.72 * r) - 0.22 * r);
    case Square:
      return coverage(std::max(std::abs(u), std::abs(v)) - 0.8 * r);
    case Triangle:
      return coverage(triangle_distance(u, -v, r));
    case Cross:
      return coverage(std::min(std::max(std::abs(u) - r, std::abs(v) - 0.28 * r),
                               std::max(std::abs(u) - 0.28 * r, std::abs(v) - r)));
    default:
      break;
  }
  // Textures inside their patch only.
  const double inside = coverage(std::max({s.x0 - x, x - s.x1, s.y0 - y, y - s.y1}));
  if (inside == 0) return 0;
  const double p = s.period;
  double t = 0;
  switch (s.kind) {
    case HStripes:
      t = wave(y, p, s.phase_y);
      break;
    case VStripes:
      t = wave(x, p, s.phase_x);
      break;
    case Diagonal:
      t = wave((s.diagonal_up ? x + y : x - y) / std::sqrt(2.0), p, s.phase_x);
      break;
    case Checker: {
      const double c =
          std::sin(2 * kPi * x / p + s.phase_x) * std::sin(2 * kPi * y / p + s.phase_y);
      t = std::clamp(0.5 + c * p / kPi, 0.0, 1.0);
      break;
    }
    case Dots: {
      const double ox = s.phase_x / (2 * kPi) * p, oy = s.phase_y / (2 * kPi) * p;
      const double fx = std::remainder(x - ox, p), fy = std::remainder(y - oy, p);
      t = coverage(std::hypot(fx, fy) - 0.28 * p);
      break;
    }
    default:
      break;
  }
  return inside * t;
}

std::string format_probability(double p) {
  std::ostringstream o;
  o << p;
  return o.str();
}

// Writes image `index` of a split: the clean picture paint(x, y) (pixel centres), plus the
// pixel noise and the class's faint pattern, quantized to bytes.
template <typename Paint>
void finish(std::int64_t index, const SyntheticOptions& opt, std::uint64_t split,
            const Paint& paint, std::uint8_t* out) {
  const std::int64_t size = opt.size, plane = size * size;
  const RngStream noise{opt.seed, rng_stream(RngPurpose::Synthetic, 16 + split),
                        static_cast<std::uint64_t>(index * 3 * plane)};
  // The class's faint pattern: the same signs for every example of the class.
  const RngStream pattern{
      opt.seed, rng_stream(RngPurpose::Synthetic, 32 + static_cast<std::uint64_t>(index % 10)), 0};
  for (std::int64_t y = 0; y < size; ++y) {
    for (std::int64_t x = 0; x < size; ++x) {
      const Rgb clean = paint(static_cast<double>(x) + 0.5, static_cast<double>(y) + 0.5);
      for (std::int64_t c = 0; c < 3; ++c) {
        const std::int64_t k = c * plane + y * size + x;
        const double n =
            (static_cast<double>(rng_uniform(noise, static_cast<std::uint64_t>(k))) - 0.5) *
            (8.0 / 255);
        const double sign = rng_uniform(pattern, static_cast<std::uint64_t>(k)) < 0.5f ? -1.0 : 1.0;
        const double v = std::clamp(
            clean[static_cast<std::size_t>(c)] + n + sign * opt.pattern_amplitude, 0.0, 1.0);
        out[k] = static_cast<std::uint8_t>(std::lround(v * 255));
      }
    }
  }
}

void render(std::int64_t index, const SyntheticOptions& opt, std::uint64_t split,
            const std::vector<Palette>& palettes, std::uint8_t* out) {
  Draws d{RngStream{opt.seed, rng_stream(RngPurpose::Synthetic, split),
                    static_cast<std::uint64_t>(index) * kDrawsPerImage}};
  const auto cls = static_cast<int>(index % 10);
  const double side = static_cast<double>(opt.size);
  if (opt.kind == "scenes") {
    const synthetic::CueScene s = synthetic::draw_cue_scene(cls, side, opt.cue_probability, d);
    RP_CHECK(d.next <= kDrawsPerImage, "synthetic",
             "a scene took " << d.next << " random draws, more than its " << kDrawsPerImage);
    finish(
        index, opt, split,
        [&](double x, double y) { return synthetic::cue_scene_colour(s, x, y, side); }, out);
    return;
  }
  const Scene s =
      draw_scene(static_cast<Kind>(cls), side,
                 palettes.empty() ? nullptr : &palettes[static_cast<std::size_t>(cls)], d);
  finish(
      index, opt, split,
      [&](double x, double y) {
        const double a = foreground(s, x, y);
        const double g =
            std::clamp(0.5 + ((x / side - 0.5) * s.gx + (y / side - 0.5) * s.gy), 0.0, 1.0);
        return synthetic::mix(synthetic::mix(s.bg0, s.bg1, g), s.fg, a);
      },
      out);
}

Dataset make_split(const SyntheticOptions& opt, std::int64_t count, std::uint64_t split) {
  Dataset d;
  d.name = "synthetic";
  d.source = "seed " + std::to_string(opt.seed) + ", " +
             (opt.kind == "scenes" ? "scenes of weak cues (each kept with probability " +
                                         format_probability(opt.cue_probability) + ")"
                                   : opt.colours + " colours");
  d.classes = opt.kind == "scenes" ? synthetic::cue_scene_classes() : synthetic_classes();
  d.channels = 3;
  d.height = d.width = opt.size;
  d.images.resize(static_cast<std::size_t>(count * d.image_elements()));
  d.labels.resize(static_cast<std::size_t>(count));
  std::vector<Palette> palettes;
  if (opt.kind == "objects" && opt.colours == "class") {
    for (int c = 0; c < 10; ++c) palettes.push_back(class_palette(opt.seed, c));
  }
  cpu::parallel_for(Context::default_threads(), count, 64,
                    [&](std::int64_t b, std::int64_t e, int) {
                      for (std::int64_t i = b; i < e; ++i) {
                        render(i, opt, split, palettes, d.images.data() + i * d.image_elements());
                        d.labels[static_cast<std::size_t>(i)] = static_cast<std::int32_t>(i % 10);
                      }
                    });
  return d;
}

}  // namespace

const char* const kSyntheticColours = "random or class";
const char* const kSyntheticKinds = "objects or scenes";

bool is_synthetic_colours(const std::string& scheme) {
  return scheme == "random" || scheme == "class";
}

bool is_synthetic_kind(const std::string& kind) {
  return kind == "objects" || kind == "scenes";
}

const std::vector<std::string>& synthetic_classes() {
  static const std::vector<std::string> names{"disk",    "ring",     "square",   "triangle",
                                              "cross",   "hstripes", "vstripes", "diagonal",
                                              "checker", "dots"};
  return names;
}

DatasetSplits make_synthetic(const SyntheticOptions& opt) {
  RP_CHECK(opt.train >= 1 && opt.test >= 1, "synthetic",
           "needs at least one training and one test image, asked for " << opt.train << " and "
                                                                        << opt.test);
  RP_CHECK(opt.size >= 8 && opt.size <= 512, "synthetic",
           "image size must be in [8, 512], found " << opt.size);
  RP_CHECK(opt.pattern_amplitude >= 0 && opt.pattern_amplitude <= 0.25, "synthetic",
           "pattern amplitude must be in [0, 0.25], found " << opt.pattern_amplitude);
  RP_CHECK(is_synthetic_colours(opt.colours), "synthetic",
           "colours must be " << kSyntheticColours << ", found '" << opt.colours << "'");
  RP_CHECK(is_synthetic_kind(opt.kind), "synthetic",
           "kind must be " << kSyntheticKinds << ", found '" << opt.kind << "'");
  RP_CHECK(opt.cue_probability >= 0 && opt.cue_probability <= 1, "synthetic",
           "cue probability must be in [0, 1], found " << opt.cue_probability);
  return DatasetSplits{make_split(opt, opt.train, 0), make_split(opt, opt.test, 1)};
}

}  // namespace rp
