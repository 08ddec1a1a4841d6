// Line plots: panels side by side, each with axes, ticks, labels and its series, and one legend
// below them all (a series is known by its colour and dash across the panels).
#pragma once

#include <string>
#include <vector>

#include "engine/figures/drawing.h"

namespace rp {

struct Series {
  std::string label;  // in the legend
  std::vector<double> x, y;
  Rgb color = kBlack;
  Dash dash = Dash::Solid;
};

struct Panel {
  std::string title, x_label, y_label;
  std::vector<Series> series;
  bool y_from_zero = false;  // include 0 in the y range (accuracies)
  bool x_integers = false;   // ticks on whole numbers only (epochs)
};

struct Plot {
  std::string title;
  std::vector<Panel> panels;
  std::vector<std::string> notes;
  double panel_width = 200, panel_height = 140;  // the plotting area of one panel, in points
  int panels_per_row = 3;
};

// An axis: its range covering [lo, hi] with "nice" ticks (1, 2 or 5 times a power of ten) at
// both ends or inside; a flat range is widened.
struct Axis {
  double lo = 0, hi = 1;
  std::vector<double> ticks;
};
Axis nice_axis(double lo, double hi, int target_ticks = 5, double min_step = 0);
// A tick's label: as few digits as tell the ticks apart.
std::string tick_label(double v, double step);

// Throws rp::Error for a plot with no panel, a series whose x and y differ in length or hold a
// non-finite value.
Drawing layout_plot(const Plot& p);

// Colours told apart in print and by the colour-blind (Okabe and Ito's palette).
Rgb series_color(std::size_t i);

}  // namespace rp
