// The PDF and PNG writers, on cairo.
#include <cairo-pdf.h>
#include <cairo.h>

#include <cmath>
#include <memory>
#include <variant>
#include <vector>

#include "engine/core/error.h"
#include "engine/figures/figure_files.h"
#include "engine/figures/typeface.h"

namespace rp {
namespace {

void set_color(cairo_t* cr, Rgb c) {
  cairo_set_source_rgb(cr, c.r / 255.0, c.g / 255.0, c.b / 255.0);
}

void set_dash(cairo_t* cr, Dash dash, double width) {
  const std::vector<double> lengths = dash_lengths(dash, width);
  cairo_set_dash(cr, lengths.data(), static_cast<int>(lengths.size()), 0);
}

struct SurfaceDeleter {
  void operator()(cairo_surface_t* s) const { cairo_surface_destroy(s); }
};
struct ContextDeleter {
  void operator()(cairo_t* cr) const { cairo_destroy(cr); }
};
using Surface = std::unique_ptr<cairo_surface_t, SurfaceDeleter>;
using Cairo = std::unique_ptr<cairo_t, ContextDeleter>;

void draw(cairo_t* cr, const TextOp& t) {
  cairo_save(cr);
  cairo_set_font_face(cr, font_face(t.weight));
  cairo_set_font_size(cr, t.size);
  set_color(cr, t.color);
  const double w = text_width(t.text, t.size, t.weight);
  const double shift = t.anchor == Anchor::Middle ? w / 2 : t.anchor == Anchor::End ? w : 0;
  cairo_translate(cr, t.x, t.y);
  if (t.vertical) cairo_rotate(cr, -M_PI / 2);
  cairo_move_to(cr, -shift, 0);
  cairo_show_text(cr, t.text.c_str());
  cairo_restore(cr);
}

void draw(cairo_t* cr, const RectOp& r) {
  cairo_rectangle(cr, r.x, r.y, r.w, r.h);
  if (r.filled) {
    set_color(cr, r.fill);
    if (r.stroke_width > 0) {
      cairo_fill_preserve(cr);
    } else {
      cairo_fill(cr);
    }
  }
  if (r.stroke_width > 0) {
    set_color(cr, r.stroke);
    cairo_set_line_width(cr, r.stroke_width);
    set_dash(cr, Dash::Solid, r.stroke_width);
    cairo_stroke(cr);
  }
  cairo_new_path(cr);
}

void draw(cairo_t* cr, const LineOp& l) {
  if (l.points.size() < 2) return;
  cairo_move_to(cr, l.points[0].x, l.points[0].y);
  for (std::size_t i = 1; i < l.points.size(); ++i) cairo_line_to(cr, l.points[i].x, l.points[i].y);
  set_color(cr, l.color);
  cairo_set_line_width(cr, l.width);
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
  set_dash(cr, l.dash, l.width);
  cairo_stroke(cr);
}

void draw(cairo_t* cr, const MarkerOp& m) {
  cairo_new_sub_path(cr);
  cairo_arc(cr, m.at.x, m.at.y, m.radius, 0, 2 * M_PI);
  set_color(cr, m.color);
  cairo_fill(cr);
}

void draw(cairo_t* cr, const ImageOp& op) {
  const Image& img = op.image;
  RP_CHECK(img.channels == 3 && img.width > 0 && img.height > 0, "figure",
           "an image to draw must be 8-bit RGB");
  const Surface s(cairo_image_surface_create(CAIRO_FORMAT_RGB24, static_cast<int>(img.width),
                                             static_cast<int>(img.height)));
  RP_CHECK(cairo_surface_status(s.get()) == CAIRO_STATUS_SUCCESS, "figure",
           "cairo cannot hold a " << img.width << "x" << img.height << " image");
  cairo_surface_flush(s.get());
  unsigned char* data = cairo_image_surface_get_data(s.get());
  const int stride = cairo_image_surface_get_stride(s.get());
  for (std::int64_t y = 0; y < img.height; ++y) {
    auto* row = reinterpret_cast<std::uint32_t*>(data + y * stride);
    for (std::int64_t x = 0; x < img.width; ++x) {
      const std::uint8_t* p = img.pixels.data() + 3 * (y * img.width + x);
      row[x] = (std::uint32_t{p[0]} << 16) | (std::uint32_t{p[1]} << 8) | p[2];
    }
  }
  cairo_surface_mark_dirty(s.get());
  cairo_save(cr);
  cairo_translate(cr, op.x, op.y);
  cairo_scale(cr, op.w / static_cast<double>(img.width), op.h / static_cast<double>(img.height));
  cairo_set_source_surface(cr, s.get(), 0, 0);
  // Each image pixel a sharp square: PDF's /Interpolate false, nearest neighbour in the PNG.
  cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
  cairo_rectangle(cr, 0, 0, static_cast<double>(img.width), static_cast<double>(img.height));
  cairo_fill(cr);
  cairo_restore(cr);
}

void draw_all(cairo_t* cr, const Drawing& d) {
  cairo_font_options_t* options = cairo_font_options_create();
  cairo_font_options_set_hint_style(options, CAIRO_HINT_STYLE_NONE);
  cairo_font_options_set_hint_metrics(options, CAIRO_HINT_METRICS_OFF);
  cairo_font_options_set_antialias(options, CAIRO_ANTIALIAS_GRAY);
  cairo_set_font_options(cr, options);
  cairo_font_options_destroy(options);
  set_color(cr, kWhite);
  cairo_paint(cr);
  for (const DrawOp& op : d.ops) {
    std::visit([cr](const auto& o) { draw(cr, o); }, op);
  }
  RP_CHECK(
      cairo_status(cr) == CAIRO_STATUS_SUCCESS, "figure",
      "cairo failed drawing '" << d.title << "': " << cairo_status_to_string(cairo_status(cr)));
}

cairo_status_t append(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

}  // namespace

void check_figure_size(const Drawing& d) {
  RP_CHECK(d.width > 0 && d.height > 0 && d.width < 14400 && d.height < 14400, "figure",
           "'" << d.title << "' is " << d.width << "x" << d.height
               << " points; a figure is at most 14400 points a side");
}

void png_size(const Drawing& d, double dpi, std::int64_t* width, std::int64_t* height) {
  check_figure_size(d);
  RP_CHECK(dpi >= kMinDpi && dpi <= kMaxDpi, "figure",
           "--dpi must be in [" << kMinDpi << ", " << kMaxDpi << "], found " << dpi);
  *width = static_cast<std::int64_t>(std::ceil(d.width * dpi / 72 - 1e-9));
  *height = static_cast<std::int64_t>(std::ceil(d.height * dpi / 72 - 1e-9));
  RP_CHECK(*width <= 32767 && *height <= 32767 && *width * *height <= kMaxImagePixels, "figure",
           "'" << d.title << "' at " << dpi << " dpi would be " << *width << "x" << *height
               << " pixels; choose a lower --dpi");
}

std::string render_pdf(const Drawing& d) {
  check_figure_size(d);
  std::string out;
  const Surface s(cairo_pdf_surface_create_for_stream(append, &out, d.width, d.height));
  cairo_pdf_surface_set_metadata(s.get(), CAIRO_PDF_METADATA_TITLE, d.title.c_str());
  cairo_pdf_surface_set_metadata(s.get(), CAIRO_PDF_METADATA_CREATOR, "robustprior");
  draw_all(Cairo(cairo_create(s.get())).get(), d);
  cairo_surface_finish(s.get());
  const cairo_status_t status = cairo_surface_status(s.get());
  RP_CHECK(
      status == CAIRO_STATUS_SUCCESS, "figure",
      "cairo could not write the PDF of '" << d.title << "': " << cairo_status_to_string(status));
  return out;
}

Image render_png(const Drawing& d, double dpi) {
  std::int64_t w = 0, h = 0;
  png_size(d, dpi, &w, &h);
  const Surface s(
      cairo_image_surface_create(CAIRO_FORMAT_RGB24, static_cast<int>(w), static_cast<int>(h)));
  RP_CHECK(cairo_surface_status(s.get()) == CAIRO_STATUS_SUCCESS, "figure",
           "cairo cannot hold a " << w << "x" << h << " image");
  {
    const Cairo cr(cairo_create(s.get()));
    cairo_scale(cr.get(), dpi / 72, dpi / 72);
    draw_all(cr.get(), d);
  }
  cairo_surface_flush(s.get());
  Image img;
  img.width = w;
  img.height = h;
  img.channels = 3;
  img.pixels.resize(static_cast<std::size_t>(3 * w * h));
  const unsigned char* data = cairo_image_surface_get_data(s.get());
  const int stride = cairo_image_surface_get_stride(s.get());
  for (std::int64_t y = 0; y < h; ++y) {
    const auto* row = reinterpret_cast<const std::uint32_t*>(data + y * stride);
    for (std::int64_t x = 0; x < w; ++x) {
      std::uint8_t* p = img.pixels.data() + 3 * (y * w + x);
      p[0] = static_cast<std::uint8_t>(row[x] >> 16);
      p[1] = static_cast<std::uint8_t>(row[x] >> 8);
      p[2] = static_cast<std::uint8_t>(row[x]);
    }
  }
  return img;
}

}  // namespace rp
