// The figures' typeface: DejaVu Sans, regular and bold, from Debian's fonts-dejavu-core. Found
// through fontconfig, else at its known path (ROBUSTPRIOR_FONT_DIR overrides both: a folder
// holding DejaVuSans.ttf and DejaVuSans-Bold.ttf); refused, naming the package to install, when
// absent. Every layout measures its text here, without hinting, so the geometry is the same in
// the PDF, the SVG and a PNG at any resolution.
#pragma once

#include <string>

#include "engine/figures/drawing.h"

typedef struct _cairo_font_face cairo_font_face_t;

namespace rp {

// The font file used for a weight (throws rp::Error when none is found).
const std::string& font_file(Weight weight);
// The family name written into SVG files.
constexpr const char* kFontFamily = "DejaVu Sans";

// The advance width of one line of text at `size` points.
double text_width(const std::string& text, double size, Weight weight = Weight::Regular);
// The font's ascent at `size` points.
double text_ascent(double size);
// Baseline to baseline.
inline double line_height(double size) {
  return 1.2 * size;
}

// For the cairo renderer: the face of a weight, alive for the process.
cairo_font_face_t* font_face(Weight weight);

}  // namespace rp
