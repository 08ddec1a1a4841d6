// A Drawing written three ways: PDF and SVG (vector lines, real text, images embedded at their
// pixel resolution and drawn without smoothing) and PNG at a chosen resolution. The PNG and SVG
// are the same bytes for the same drawing; every file is written atomically.
#pragma once

#include <cstdint>
#include <string>

#include "engine/figures/drawing.h"

namespace rp {

constexpr double kDefaultDpi = 144;  // a figure's PNG: twice the points' 72 per inch
// --dpi flags take [kMinDpi, kMaxDpi]; the PNG's pixels are bounded too (kMaxImagePixels).
constexpr double kMinDpi = 36, kMaxDpi = 1200;

struct FigureFiles {
  std::string pdf, svg, png;
  std::int64_t png_width = 0, png_height = 0;
};

// A --out value as a stem: a trailing .png, .pdf or .svg is dropped.
std::string figure_stem(const std::string& out);

// <stem>.pdf, <stem>.svg and <stem>.png.
FigureFiles write_figure_files(const Drawing& d, const std::string& stem, double dpi);

std::string render_pdf(const Drawing& d);
std::string render_svg(const Drawing& d);
Image render_png(const Drawing& d, double dpi);  // 8-bit RGB

// A drawing of at most 14400 points a side (throws rp::Error otherwise).
void check_figure_size(const Drawing& d);
// The PNG's size in pixels at `dpi` (checked against the bounds).
void png_size(const Drawing& d, double dpi, std::int64_t* width, std::int64_t* height);

}  // namespace rp
