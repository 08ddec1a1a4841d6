#include "engine/figures/canvas.h"

#include <algorithm>
#include <cmath>

#include "engine/core/error.h"
#include "engine/figures/font.h"

namespace rp {

Canvas::Canvas(std::int64_t width, std::int64_t height, Rgb background)
    : width_(width), height_(height) {
  RP_CHECK(width >= 1 && height >= 1 && width * height <= (1ll << 28), "Canvas",
           "bad size " << width << "x" << height);
  image_.width = width;
  image_.height = height;
  image_.channels = 3;
  image_.pixels.resize(static_cast<std::size_t>(width * height * 3));
  fill_rect(0, 0, width, height, background);
}

void Canvas::set(std::int64_t x, std::int64_t y, Rgb c) {
  if (x < 0 || y < 0 || x >= width_ || y >= height_) return;
  std::uint8_t* p = image_.pixels.data() + (y * width_ + x) * 3;
  p[0] = c.r;
  p[1] = c.g;
  p[2] = c.b;
}

void Canvas::fill_rect(std::int64_t x, std::int64_t y, std::int64_t w, std::int64_t h, Rgb color) {
  for (std::int64_t j = std::max<std::int64_t>(y, 0); j < std::min(y + h, height_); ++j) {
    for (std::int64_t i = std::max<std::int64_t>(x, 0); i < std::min(x + w, width_); ++i)
      set(i, j, color);
  }
}

void Canvas::draw_image(const std::vector<float>& chw, std::int64_t channels, std::int64_t height,
                        std::int64_t w, std::int64_t x, std::int64_t y, std::int64_t scale) {
  RP_CHECK(channels == 1 || channels == 3, "Canvas",
           "images have 1 or 3 channels, found " << channels);
  RP_CHECK(static_cast<std::int64_t>(chw.size()) == channels * height * w && scale >= 1, "Canvas",
           chw.size() << " values for a " << channels << "x" << height << "x" << w << " image");
  const auto byte = [](float v) {
    const float c = std::isnan(v) ? 0.f : std::min(1.f, std::max(0.f, v));
    return static_cast<std::uint8_t>(std::lround(c * 255.f));
  };
  for (std::int64_t r = 0; r < height; ++r) {
    for (std::int64_t c = 0; c < w; ++c) {
      Rgb px;
      const auto at = [&](std::int64_t ch) {
        return chw[static_cast<std::size_t>((ch * height + r) * w + c)];
      };
      px.r = byte(at(0));
      px.g = channels == 3 ? byte(at(1)) : px.r;
      px.b = channels == 3 ? byte(at(2)) : px.r;
      fill_rect(x + c * scale, y + r * scale, scale, scale, px);
    }
  }
}

std::int64_t Canvas::text_width(const std::string& text, std::int64_t scale) {
  std::int64_t widest = 0, line = 0;
  for (char ch : text) {
    if (ch == '\n') {
      widest = std::max(widest, line);
      line = 0;
    } else {
      ++line;
    }
  }
  widest = std::max(widest, line);
  return widest == 0 ? 0 : (widest * font::kAdvance - 1) * scale;
}

std::int64_t Canvas::text_height(const std::string& text, std::int64_t scale) {
  if (text.empty()) return 0;
  const auto lines = 1 + std::count(text.begin(), text.end(), '\n');
  return ((lines - 1) * font::kLineHeight + font::kGlyphHeight) * scale;
}

std::int64_t Canvas::draw_text(const std::string& text, std::int64_t x, std::int64_t y,
                               std::int64_t scale, Rgb color) {
  std::int64_t cx = x, cy = y;
  for (char ch : text) {
    if (ch == '\n') {
      cx = x;
      cy += font::kLineHeight * scale;
      continue;
    }
    const unsigned char* rows = font::glyph(ch);
    for (int r = 0; r < font::kGlyphHeight; ++r) {
      for (int c = 0; c < font::kGlyphWidth; ++c) {
        if (rows[r] & (1 << (font::kGlyphWidth - 1 - c)))
          fill_rect(cx + c * scale, cy + r * scale, scale, scale, color);
      }
    }
    cx += font::kAdvance * scale;
  }
  return text_width(text, scale);
}

}  // namespace rp
