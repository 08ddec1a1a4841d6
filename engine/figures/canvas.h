// A raster to compose figures on: filled rectangles, images scaled by an integer factor, and
// text in the built-in 5x7 font. Saved as PNG (atomically).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/data/image_io.h"

namespace rp {

struct Rgb {
  std::uint8_t r = 0, g = 0, b = 0;
};
constexpr Rgb kWhite{255, 255, 255}, kBlack{0, 0, 0}, kGray{128, 128, 128};
constexpr Rgb kGreen{0, 130, 0}, kRed{200, 0, 0};

class Canvas {
 public:
  Canvas(std::int64_t width, std::int64_t height, Rgb background = kWhite);

  std::int64_t width() const { return width_; }
  std::int64_t height() const { return height_; }

  void fill_rect(std::int64_t x, std::int64_t y, std::int64_t w, std::int64_t h, Rgb color);
  // An image (channels, height, width) of values in [0, 1] (clipped), channels 1 or 3, drawn
  // with its top-left at (x, y), each pixel a scale x scale square. Parts outside are cut.
  void draw_image(const std::vector<float>& chw, std::int64_t channels, std::int64_t height,
                  std::int64_t w, std::int64_t x, std::int64_t y, std::int64_t scale);
  // Text from its top-left corner; '\n' starts a line. Returns the width drawn.
  std::int64_t draw_text(const std::string& text, std::int64_t x, std::int64_t y,
                         std::int64_t scale = 1, Rgb color = kBlack);
  static std::int64_t text_width(const std::string& text, std::int64_t scale = 1);
  static std::int64_t text_height(const std::string& text, std::int64_t scale = 1);

  const Image& image() const { return image_; }
  void save(const std::string& path) const { save_png(path, image_); }

 private:
  void set(std::int64_t x, std::int64_t y, Rgb c);
  std::int64_t width_, height_;
  Image image_;
};

}  // namespace rp
