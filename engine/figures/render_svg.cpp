// The SVG writer: text as <text> in DejaVu Sans (searchable, editable), lines as polylines,
// images as embedded PNGs drawn pixelated. Numbers are printed to a fixed precision, so the
// same drawing gives the same bytes.
#include <cstdio>
#include <sstream>
#include <variant>

#include "engine/core/error.h"
#include "engine/core/markup_text.h"
#include "engine/figures/figure_files.h"
#include "engine/figures/typeface.h"

namespace rp {
namespace {

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  std::string s = buf;
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s == "-0" ? "0" : s;
}

std::string color(Rgb c) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", c.r, c.g, c.b);
  return buf;
}

std::string base64(const std::string& bytes) {
  static const char* table = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    std::uint32_t v = static_cast<std::uint32_t>(static_cast<std::uint8_t>(bytes[i])) << 16;
    if (i + 1 < bytes.size())
      v |= static_cast<std::uint32_t>(static_cast<std::uint8_t>(bytes[i + 1])) << 8;
    if (i + 2 < bytes.size()) v |= static_cast<std::uint8_t>(bytes[i + 2]);
    out += table[(v >> 18) & 63];
    out += table[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? table[(v >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? table[v & 63] : '=';
  }
  return out;
}

std::string dasharray(Dash d, double width) {
  std::string out;
  for (const double length : dash_lengths(d, width)) out += (out.empty() ? "" : " ") + num(length);
  return out.empty() ? "" : " stroke-dasharray=\"" + out + "\"";
}

void write(std::ostringstream& os, const TextOp& t) {
  os << "<text x=\"" << num(t.x) << "\" y=\"" << num(t.y) << "\" font-size=\"" << num(t.size)
     << "\"";
  if (t.weight == Weight::Bold) os << " font-weight=\"bold\"";
  if (t.anchor == Anchor::Middle) os << " text-anchor=\"middle\"";
  if (t.anchor == Anchor::End) os << " text-anchor=\"end\"";
  if (!(t.color.r == 0 && t.color.g == 0 && t.color.b == 0))
    os << " fill=\"" << color(t.color) << "\"";
  if (t.vertical) os << " transform=\"rotate(-90 " << num(t.x) << " " << num(t.y) << ")\"";
  os << ">" << markup_escape(t.text) << "</text>\n";
}

void write(std::ostringstream& os, const RectOp& r) {
  os << "<rect x=\"" << num(r.x) << "\" y=\"" << num(r.y) << "\" width=\"" << num(r.w)
     << "\" height=\"" << num(r.h) << "\" fill=\"" << (r.filled ? color(r.fill) : "none") << "\"";
  if (r.stroke_width > 0) {
    os << " stroke=\"" << color(r.stroke) << "\" stroke-width=\"" << num(r.stroke_width) << "\"";
  }
  os << "/>\n";
}

void write(std::ostringstream& os, const LineOp& l) {
  if (l.points.size() < 2) return;
  os << "<polyline fill=\"none\" stroke=\"" << color(l.color) << "\" stroke-width=\""
     << num(l.width) << "\" stroke-linejoin=\"round\"" << dasharray(l.dash, l.width)
     << " points=\"";
  for (std::size_t i = 0; i < l.points.size(); ++i) {
    os << (i ? " " : "") << num(l.points[i].x) << "," << num(l.points[i].y);
  }
  os << "\"/>\n";
}

void write(std::ostringstream& os, const MarkerOp& m) {
  os << "<circle cx=\"" << num(m.at.x) << "\" cy=\"" << num(m.at.y) << "\" r=\"" << num(m.radius)
     << "\" fill=\"" << color(m.color) << "\"/>\n";
}

void write(std::ostringstream& os, const ImageOp& op) {
  os << "<image x=\"" << num(op.x) << "\" y=\"" << num(op.y) << "\" width=\"" << num(op.w)
     << "\" height=\"" << num(op.h) << "\" preserveAspectRatio=\"none\""
     << " image-rendering=\"optimizeSpeed\" style=\"image-rendering:pixelated\""
     << " xlink:href=\"data:image/png;base64," << base64(encode_png(op.image)) << "\"/>\n";
}

}  // namespace

std::string render_svg(const Drawing& d) {
  check_figure_size(d);
  std::ostringstream os;
  os << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
     << "<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\""
     << " version=\"1.1\" width=\"" << num(d.width) << "pt\" height=\"" << num(d.height)
     << "pt\" viewBox=\"0 0 " << num(d.width) << " " << num(d.height) << "\">\n"
     << "<title>" << markup_escape(d.title) << "</title>\n"
     << "<style>text{font-family:'" << kFontFamily << "',sans-serif;white-space:pre}</style>\n"
     << "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n";
  for (const DrawOp& op : d.ops) {
    std::visit([&os](const auto& o) { write(os, o); }, op);
  }
  os << "</svg>\n";
  return os.str();
}

}  // namespace rp
