// Labelled image grids, the layout of the paper's figures: a title, one row per kind of image
// (clean, adversarial, robust model's result ...) with its label on the left, one column per
// example, a caption under every image, and notes at the bottom.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/figures/canvas.h"

namespace rp {

struct FigureCell {
  std::vector<float> image;  // (channels, height, width) in [0, 1]; empty: a blank cell
  std::string caption;       // may hold '\n'
  Rgb color = kBlack;        // of the caption
};

struct FigureRow {
  std::string label;
  std::vector<FigureCell> cells;
};

struct Figure {
  std::string title;
  std::int64_t channels = 3, height = 32, width = 32;
  std::int64_t scale = 3;  // screen pixels per image pixel
  std::vector<FigureRow> rows;
  std::vector<std::string> notes;
};

// Labels, captions, margins and gaps are drawn this many times their base size: 1 for cells
// under 224 pixels (CIFAR's 32-pixel images at scale 3), growing with the cells up to 4, so
// that text stays legible next to ImageNet's 224-pixel images.
std::int64_t figure_text_scale(std::int64_t cell_width, std::int64_t cell_height);

Canvas render_figure(const Figure& f);

}  // namespace rp
