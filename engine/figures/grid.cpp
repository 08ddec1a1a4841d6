#include "engine/figures/grid.h"

#include <algorithm>
#include <sstream>

#include "engine/core/error.h"
#include "engine/figures/typeface.h"

namespace rp {
namespace {

// Sizes in points at text scale 1.
constexpr double kMargin = 8, kGap = 5, kTitle = 11, kLabel = 8, kCaption = 6.5, kNote = 6.5;

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

double block_width(const std::string& s, double size, Weight w = Weight::Regular) {
  double width = 0;
  for (const std::string& line : lines_of(s)) width = std::max(width, text_width(line, size, w));
  return width;
}

double block_height(const std::string& s, double size) {
  const std::size_t n = lines_of(s).size();
  return n == 0 ? 0 : static_cast<double>(n) * line_height(size);
}

// A block of lines from its top edge.
void put_block(Drawing& d, const std::string& s, double x, double top, double size, Anchor anchor,
               Rgb color = kBlack, Weight weight = Weight::Regular) {
  double baseline = top + text_ascent(size);
  for (const std::string& line : lines_of(s)) {
    d.ops.push_back(TextOp{line, x, baseline, size, weight, color, anchor, false});
    baseline += line_height(size);
  }
}

}  // namespace

double figure_text_scale(double cell_width, double cell_height) {
  return std::clamp(std::min(cell_width, cell_height) / 192.0, 1.0, 2.5);
}

Drawing layout_figure(const Figure& f) {
  RP_CHECK(!f.rows.empty(), "figure", "'" << f.title << "' has no rows");
  RP_CHECK(f.scale > 0 && f.height >= 1 && f.width >= 1, "figure",
           "'" << f.title << "': bad image geometry");
  const double image_w = static_cast<double>(f.width) * f.scale;
  const double image_h = static_cast<double>(f.height) * f.scale;
  const double ts = figure_text_scale(image_w, image_h);
  const double margin = kMargin * ts, gap = kGap * ts, title = kTitle * ts, label = kLabel * ts,
               caption = kCaption * ts, note = kNote * ts;
  std::size_t columns = f.column_labels.size();
  double label_w = 0, cell_w = image_w, caption_h = 0, column_label_h = 0;
  for (const std::string& c : f.column_labels) {
    cell_w = std::max(cell_w, block_width(c, label));
    column_label_h = std::max(column_label_h, block_height(c, label));
  }
  for (const FigureRow& row : f.rows) {
    columns = std::max(columns, row.cells.size());
    label_w = std::max(label_w, block_width(row.label, label, Weight::Bold));
    for (const FigureCell& cell : row.cells) {
      RP_CHECK(cell.image.empty() ||
                   static_cast<std::int64_t>(cell.image.size()) == f.channels * f.height * f.width,
               "figure", "a cell of '" << f.title << "' holds " << cell.image.size() << " values");
      cell_w = std::max(cell_w, block_width(cell.caption, caption));
      caption_h = std::max(caption_h, block_height(cell.caption, caption));
    }
  }
  const double row_h = image_h + (caption_h > 0 ? caption_h + gap / 2 : 0) + gap;
  const double title_h = f.title.empty() ? 0 : line_height(title) + gap;
  const double header_h = column_label_h > 0 ? column_label_h + gap / 2 : 0;
  double legend_w = 0;
  for (const LegendEntry& e : f.legend) legend_w += note * 1.5 + text_width(e.text, note) + gap * 2;
  const double legend_h = f.legend.empty() ? 0 : line_height(note) + gap / 2;
  double notes_h = 0, notes_w = 0;
  for (const std::string& n : f.notes) {
    notes_h += block_height(n, note);
    notes_w = std::max(notes_w, block_width(n, note));
  }
  const double grid_x = margin + (label_w > 0 ? label_w + gap * 1.5 : 0);
  const double grid_w = static_cast<double>(columns) * (cell_w + gap) - gap;

  Drawing d;
  d.title = f.title;
  d.width =
      std::max({grid_x + grid_w + margin, margin * 2 + text_width(f.title, title, Weight::Bold),
                margin * 2 + notes_w, margin * 2 + legend_w});
  d.height = margin + title_h + header_h + static_cast<double>(f.rows.size()) * row_h + legend_h +
             (notes_h > 0 ? notes_h + gap / 2 : 0) + margin - gap;
  if (!f.title.empty())
    put_block(d, f.title, margin, margin, title, Anchor::Start, kBlack, Weight::Bold);
  double y = margin + title_h;
  for (std::size_t c = 0; c < f.column_labels.size(); ++c) {
    const double x = grid_x + static_cast<double>(c) * (cell_w + gap) + cell_w / 2;
    put_block(d, f.column_labels[c], x,
              y + column_label_h - block_height(f.column_labels[c], label), label, Anchor::Middle);
  }
  y += header_h;
  for (const FigureRow& row : f.rows) {
    put_block(d, row.label, margin, y + (image_h - block_height(row.label, label)) / 2, label,
              Anchor::Start, kBlack, Weight::Bold);
    for (std::size_t c = 0; c < row.cells.size(); ++c) {
      const FigureCell& cell = row.cells[c];
      const double x = grid_x + static_cast<double>(c) * (cell_w + gap);
      if (!cell.image.empty()) {
        d.ops.emplace_back(std::in_place_type<ImageOp>,
                           rgb_image(cell.image, f.channels, f.height, f.width),
                           x + (cell_w - image_w) / 2, y, image_w, image_h);
      }
      put_block(d, cell.caption, x + cell_w / 2, y + image_h + gap / 2, caption, Anchor::Middle,
                cell.color);
    }
    y += row_h;
  }
  y -= gap;
  if (!f.legend.empty()) {
    y += gap / 2;
    double x = margin;
    const double sw = note;  // the swatch: a square the text's size
    for (const LegendEntry& e : f.legend) {
      d.ops.push_back(
          RectOp{x, y + (line_height(note) - sw) / 2, sw, sw, true, e.color, 0, kBlack});
      x += sw * 1.5;
      d.ops.push_back(TextOp{e.text, x, y + text_ascent(note), note, Weight::Regular, kBlack,
                             Anchor::Start, false});
      x += text_width(e.text, note) + gap * 2;
    }
    y += line_height(note);
  }
  if (notes_h > 0) y += gap / 2;
  for (const std::string& n : f.notes) {
    put_block(d, n, margin, y, note, Anchor::Start, kGray);
    y += block_height(n, note);
  }
  return d;
}

}  // namespace rp
