#include "engine/figures/grid.h"

#include <algorithm>

#include "engine/core/error.h"

namespace rp {
namespace {

// At text scale 1 (the size of CIFAR's 32-pixel images at scale 3); text_scale() grows all of
// them with the cells.
constexpr std::int64_t kMargin = 10, kGap = 6, kTitleScale = 2, kCaptionGap = 4, kNoteGap = 3;

}  // namespace

std::int64_t figure_text_scale(std::int64_t cell_width, std::int64_t cell_height) {
  return std::clamp<std::int64_t>(std::min(cell_width, cell_height) / 112, 1, 4);
}

Canvas render_figure(const Figure& f) {
  RP_CHECK(!f.rows.empty(), "figure", "'" << f.title << "' has no rows");
  const std::int64_t image_w = f.width * f.scale, image_h = f.height * f.scale;
  // Labels, captions, margins and gaps in proportion to the images (1 up to 223-pixel cells).
  const std::int64_t ts = figure_text_scale(image_w, image_h);
  const std::int64_t margin = kMargin * ts, gap = kGap * ts, caption_gap = kCaptionGap * ts,
                     note_gap = kNoteGap * ts, title_scale = kTitleScale * ts;
  std::size_t columns = 0;
  std::int64_t label_w = 0, cell_w = image_w, caption_h = 0;
  for (const FigureRow& row : f.rows) {
    columns = std::max(columns, row.cells.size());
    label_w = std::max(label_w, Canvas::text_width(row.label, ts));
    for (const FigureCell& cell : row.cells) {
      RP_CHECK(cell.image.empty() ||
                   static_cast<std::int64_t>(cell.image.size()) == f.channels * f.height * f.width,
               "figure", "a cell of '" << f.title << "' holds " << cell.image.size() << " values");
      cell_w = std::max(cell_w, Canvas::text_width(cell.caption, ts));
      caption_h = std::max(caption_h, Canvas::text_height(cell.caption, ts));
    }
  }
  const std::int64_t row_h = image_h + (caption_h > 0 ? caption_h + caption_gap : 0) + gap;
  const std::int64_t title_h =
      f.title.empty() ? 0 : Canvas::text_height(f.title, title_scale) + gap * 2;
  std::int64_t notes_h = 0, notes_w = 0;
  for (const std::string& n : f.notes) {
    notes_h += Canvas::text_height(n, ts) + note_gap;
    notes_w = std::max(notes_w, Canvas::text_width(n, ts));
  }
  const std::int64_t grid_x = margin + (label_w > 0 ? label_w + gap * 2 : 0);
  const std::int64_t width =
      std::max({grid_x + static_cast<std::int64_t>(columns) * (cell_w + gap) - gap + margin,
                margin * 2 + Canvas::text_width(f.title, title_scale), margin * 2 + notes_w});
  const std::int64_t height = margin + title_h + static_cast<std::int64_t>(f.rows.size()) * row_h +
                              (notes_h > 0 ? notes_h + gap : 0) + margin;
  Canvas canvas(width, height);
  if (!f.title.empty()) canvas.draw_text(f.title, margin, margin, title_scale);
  std::int64_t y = margin + title_h;
  for (const FigureRow& row : f.rows) {
    canvas.draw_text(row.label, margin, y + (image_h - Canvas::text_height(row.label, ts)) / 2, ts);
    for (std::size_t c = 0; c < row.cells.size(); ++c) {
      const FigureCell& cell = row.cells[c];
      const std::int64_t x = grid_x + static_cast<std::int64_t>(c) * (cell_w + gap);
      if (!cell.image.empty()) {
        canvas.draw_image(cell.image, f.channels, f.height, f.width, x + (cell_w - image_w) / 2, y,
                          f.scale);
      }
      canvas.draw_text(cell.caption, x + (cell_w - Canvas::text_width(cell.caption, ts)) / 2,
                       y + image_h + caption_gap, ts, cell.color);
    }
    y += row_h;
  }
  for (const std::string& n : f.notes) {
    canvas.draw_text(n, margin, y, ts, kGray);
    y += Canvas::text_height(n, ts) + note_gap;
  }
  return canvas;
}

}  // namespace rp
