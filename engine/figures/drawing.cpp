#include "engine/figures/drawing.h"

#include <algorithm>
#include <cmath>

#include "engine/core/error.h"

namespace rp {

std::vector<double> dash_lengths(Dash dash, double width) {
  switch (dash) {
    case Dash::Dashed:
      return {4 * width, 2.5 * width};
    case Dash::Dotted:
      return {width, 2 * width};
    case Dash::Solid:
      break;
  }
  return {};
}

Image rgb_image(const std::vector<float>& chw, std::int64_t channels, std::int64_t height,
                std::int64_t width) {
  RP_CHECK(channels == 1 || channels == 3, "figure",
           "images have 1 or 3 channels, found " << channels);
  RP_CHECK(static_cast<std::int64_t>(chw.size()) == channels * height * width, "figure",
           "an image of " << chw.size() << " values for (" << channels << ", " << height << ", "
                          << width << ")");
  Image img;
  img.width = width;
  img.height = height;
  img.channels = 3;
  img.pixels.resize(static_cast<std::size_t>(3 * height * width));
  const std::int64_t plane = height * width;
  for (std::int64_t p = 0; p < plane; ++p) {
    for (std::int64_t c = 0; c < 3; ++c) {
      const float v = chw[static_cast<std::size_t>((channels == 1 ? 0 : c) * plane + p)];
      const double clipped = std::isnan(v) ? 0.0 : std::clamp(static_cast<double>(v), 0.0, 1.0);
      img.pixels[static_cast<std::size_t>(3 * p + c)] =
          static_cast<std::uint8_t>(std::lround(255.0 * clipped));
    }
  }
  return img;
}

}  // namespace rp
