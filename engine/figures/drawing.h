// A figure as a list of drawing operations in points (1/72 inch) from its top-left corner: what
// the PDF, SVG and PNG writers (figure_files.h) all render, so the three agree. Layouts (grid.h,
// plot.h) measure their text with the figures' typeface (typeface.h) and emit these.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "engine/data/image_io.h"

namespace rp {

struct Rgb {
  std::uint8_t r = 0, g = 0, b = 0;
};
constexpr Rgb kWhite{255, 255, 255}, kBlack{0, 0, 0}, kGray{110, 110, 110};
constexpr Rgb kLightGray{215, 215, 215}, kGreen{0, 130, 0}, kRed{200, 0, 0};

enum class Weight { Regular, Bold };
enum class Anchor { Start, Middle, End };  // where x is along the text
enum class Dash { Solid, Dashed, Dotted };

struct Point {
  double x = 0, y = 0;
};

// One line of text; y is its baseline. Vertical text reads upwards (a y-axis label), rotated
// about (x, y).
struct TextOp {
  std::string text;
  double x = 0, y = 0, size = 8;
  Weight weight = Weight::Regular;
  Rgb color = kBlack;
  Anchor anchor = Anchor::Start;
  bool vertical = false;
};

struct RectOp {
  double x = 0, y = 0, w = 0, h = 0;
  bool filled = true;
  Rgb fill = kWhite;
  double stroke_width = 0;  // 0: no outline
  Rgb stroke = kBlack;
};

struct LineOp {
  std::vector<Point> points;  // a polyline
  Rgb color = kBlack;
  double width = 1;
  Dash dash = Dash::Solid;
};

struct MarkerOp {  // a filled circle
  Point at;
  double radius = 1.5;
  Rgb color = kBlack;
};

// An image drawn into a box, each of its pixels a sharp rectangle (no smoothing).
struct ImageOp {
  ImageOp() = default;
  ImageOp(Image img, double x_, double y_, double w_, double h_)
      : image(std::move(img)), x(x_), y(y_), w(w_), h(h_) {}
  Image image;  // 8-bit RGB, interleaved
  double x = 0, y = 0, w = 0, h = 0;
};

using DrawOp = std::variant<TextOp, RectOp, LineOp, MarkerOp, ImageOp>;

struct Drawing {
  double width = 0, height = 0;  // points
  std::string title;             // the document's title (PDF and SVG metadata)
  std::vector<DrawOp> ops;
};

// The on and off lengths of a dash for a line `width` wide (empty: solid): what every writer
// draws.
std::vector<double> dash_lengths(Dash dash, double width);

// An image (channels, height, width) of values in [0, 1] (clipped; channels 1 or 3) as 8-bit
// RGB.
Image rgb_image(const std::vector<float>& chw, std::int64_t channels, std::int64_t height,
                std::int64_t width);

}  // namespace rp
