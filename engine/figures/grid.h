// Labelled image grids, the layout of the paper's figures: a title, column labels, one row per
// kind of image (clean, adversarial, robust model's result ...) with its label on the left, one
// column per example, a caption in a smaller size under every image, then the legend and notes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/figures/drawing.h"

namespace rp {

struct FigureCell {
  std::vector<float> image;  // (channels, height, width) in [0, 1]; empty: a blank cell
  std::string caption;       // may hold '\n'
  Rgb color = kBlack;        // of the caption
};

struct FigureRow {
  std::string label;  // may hold '\n'
  std::vector<FigureCell> cells;
};

struct LegendEntry {
  Rgb color;
  std::string text;
};

struct Figure {
  std::string title;
  std::int64_t channels = 3, height = 32, width = 32;
  double scale = 3;                        // points per image pixel
  std::vector<std::string> column_labels;  // above the columns; empty: none
  std::vector<FigureRow> rows;
  std::vector<LegendEntry> legend;  // what the captions' colours mean
  std::vector<std::string> notes;   // small print at the bottom
};

// Text sizes grow with the cells, from 1 for cells under 192 points (CIFAR's 32-pixel images at
// scale 3) up to 2.5, so that labels stay legible beside ImageNet's 224-pixel images.
double figure_text_scale(double cell_width, double cell_height);

Drawing layout_figure(const Figure& f);

}  // namespace rp
