#include "engine/figures/figure_files.h"

#include "engine/core/files.h"

namespace rp {

std::string figure_stem(const std::string& out) {
  for (const char* ext : {".png", ".pdf", ".svg"}) {
    if (out.size() > 4 && out.compare(out.size() - 4, 4, ext) == 0)
      return out.substr(0, out.size() - 4);
  }
  return out;
}

FigureFiles write_figure_files(const Drawing& d, const std::string& stem, double dpi) {
  FigureFiles f;
  f.pdf = stem + ".pdf";
  f.svg = stem + ".svg";
  f.png = stem + ".png";
  // All three rendered before any is written: a failure leaves none of them half made.
  const std::string pdf = render_pdf(d);
  const std::string svg = render_svg(d);
  const Image png = render_png(d, dpi);
  write_file_atomic(f.pdf, pdf);
  write_file_atomic(f.svg, svg);
  save_png(f.png, png);
  f.png_width = png.width;
  f.png_height = png.height;
  return f;
}

}  // namespace rp
