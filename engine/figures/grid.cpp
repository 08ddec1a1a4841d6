#include "engine/figures/grid.h"

#include <algorithm>

#include "engine/core/error.h"

namespace rp {
namespace {

constexpr std::int64_t kMargin = 10, kGap = 6, kTitleScale = 2;

}  // namespace

Canvas render_figure(const Figure& f) {
  RP_CHECK(!f.rows.empty(), "figure", "'" << f.title << "' has no rows");
  const std::int64_t image_w = f.width * f.scale, image_h = f.height * f.scale;
  std::size_t columns = 0;
  std::int64_t label_w = 0, cell_w = image_w, caption_h = 0;
  for (const FigureRow& row : f.rows) {
    columns = std::max(columns, row.cells.size());
    label_w = std::max(label_w, Canvas::text_width(row.label));
    for (const FigureCell& cell : row.cells) {
      RP_CHECK(cell.image.empty() ||
                   static_cast<std::int64_t>(cell.image.size()) == f.channels * f.height * f.width,
               "figure", "a cell of '" << f.title << "' holds " << cell.image.size() << " values");
      cell_w = std::max(cell_w, Canvas::text_width(cell.caption));
      caption_h = std::max(caption_h, Canvas::text_height(cell.caption));
    }
  }
  const std::int64_t row_h = image_h + (caption_h > 0 ? caption_h + 4 : 0) + kGap;
  const std::int64_t title_h =
      f.title.empty() ? 0 : Canvas::text_height(f.title, kTitleScale) + kGap * 2;
  std::int64_t notes_h = 0, notes_w = 0;
  for (const std::string& n : f.notes) {
    notes_h += Canvas::text_height(n) + 3;
    notes_w = std::max(notes_w, Canvas::text_width(n));
  }
  const std::int64_t grid_x = kMargin + (label_w > 0 ? label_w + kGap * 2 : 0);
  const std::int64_t width =
      std::max({grid_x + static_cast<std::int64_t>(columns) * (cell_w + kGap) - kGap + kMargin,
                kMargin * 2 + Canvas::text_width(f.title, kTitleScale), kMargin * 2 + notes_w});
  const std::int64_t height = kMargin + title_h + static_cast<std::int64_t>(f.rows.size()) * row_h +
                              (notes_h > 0 ? notes_h + kGap : 0) + kMargin;
  Canvas canvas(width, height);
  if (!f.title.empty()) canvas.draw_text(f.title, kMargin, kMargin, kTitleScale);
  std::int64_t y = kMargin + title_h;
  for (const FigureRow& row : f.rows) {
    canvas.draw_text(row.label, kMargin, y + (image_h - Canvas::text_height(row.label)) / 2);
    for (std::size_t c = 0; c < row.cells.size(); ++c) {
      const FigureCell& cell = row.cells[c];
      const std::int64_t x = grid_x + static_cast<std::int64_t>(c) * (cell_w + kGap);
      if (!cell.image.empty()) {
        canvas.draw_image(cell.image, f.channels, f.height, f.width, x + (cell_w - image_w) / 2, y,
                          f.scale);
      }
      canvas.draw_text(cell.caption, x + (cell_w - Canvas::text_width(cell.caption)) / 2,
                       y + image_h + 4, 1, cell.color);
    }
    y += row_h;
  }
  for (const std::string& n : f.notes) {
    canvas.draw_text(n, kMargin, y, 1, kGray);
    y += Canvas::text_height(n) + 3;
  }
  return canvas;
}

}  // namespace rp
