#include "engine/figures/plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "engine/core/error.h"
#include "engine/figures/typeface.h"

namespace rp {
namespace {

constexpr double kMargin = 8, kGap = 6, kTitle = 11, kPanelTitle = 8.5, kLabel = 7.5, kTick = 6.5;

bool same_style(const Series& a, const Series& b) {
  return a.label == b.label && a.color.r == b.color.r && a.color.g == b.color.g &&
         a.color.b == b.color.b && a.dash == b.dash;
}

}  // namespace

Rgb series_color(std::size_t i) {
  static const Rgb palette[] = {{0, 114, 178}, {213, 94, 0},   {0, 158, 115}, {204, 121, 167},
                                {230, 159, 0}, {86, 180, 233}, {0, 0, 0},     {240, 228, 66}};
  return palette[i % (sizeof palette / sizeof palette[0])];
}

Axis nice_axis(double lo, double hi, int target_ticks, double min_step) {
  RP_CHECK(std::isfinite(lo) && std::isfinite(hi) && lo <= hi && target_ticks >= 2, "plot",
           "bad axis range [" << lo << ", " << hi << "]");
  if (hi - lo < 1e-12 * std::max(1.0, std::fabs(hi))) {
    const double pad = lo == 0 ? 1 : std::fabs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const double raw = (hi - lo) / (target_ticks - 1);
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  double step = power * 10;
  for (const double m : {1.0, 2.0, 5.0, 10.0}) {
    if (m * power >= raw) {
      step = m * power;
      break;
    }
  }
  step = std::max(step, min_step);
  Axis a;
  a.lo = std::floor(lo / step + 1e-9) * step;
  a.hi = std::ceil(hi / step - 1e-9) * step;
  for (double t = a.lo; t <= a.hi + step * 1e-6; t += step) {
    a.ticks.push_back(std::fabs(t) < step * 1e-9 ? 0.0 : t);
  }
  return a;
}

std::string tick_label(double v, double step) {
  int digits = 0;
  while (digits < 8 && std::fabs(step * std::pow(10.0, digits) -
                                 std::round(step * std::pow(10.0, digits))) > 1e-6) {
    ++digits;
  }
  char buf[48];
  if (std::fabs(v) >= 1e6 || (v != 0 && std::fabs(v) < 1e-4)) {
    std::snprintf(buf, sizeof buf, "%.2g", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  }
  return buf;
}

Drawing layout_plot(const Plot& p) {
  RP_CHECK(!p.panels.empty(), "plot", "'" << p.title << "' has no panels");
  const double tick_w = text_width("-0.0000", kTick);
  const double left = kGap + line_height(kLabel) + tick_w + kGap;  // y label, ticks, gap
  const double bottom = kGap + line_height(kTick) + line_height(kLabel) + kGap;
  const double top = line_height(kPanelTitle) + kGap;
  const double cell_w = left + p.panel_width + kGap * 2, cell_h = top + p.panel_height + bottom;
  const int per_row =
      std::max(1, std::min<int>(p.panels_per_row, static_cast<int>(p.panels.size())));
  const int rows = (static_cast<int>(p.panels.size()) + per_row - 1) / per_row;

  std::vector<const Series*> legend;
  for (const Panel& panel : p.panels) {
    for (const Series& s : panel.series) {
      RP_CHECK(s.x.size() == s.y.size(), "plot",
               "series '" << s.label << "' has " << s.x.size() << " x and " << s.y.size() << " y");
      for (std::size_t i = 0; i < s.x.size(); ++i) {
        RP_CHECK(std::isfinite(s.x[i]) && std::isfinite(s.y[i]), "plot",
                 "series '" << s.label << "' holds a non-finite point at index " << i);
      }
      if (!s.label.empty() && std::none_of(legend.begin(), legend.end(),
                                           [&](const Series* l) { return same_style(*l, s); })) {
        legend.push_back(&s);
      }
    }
  }
  const double title_h = p.title.empty() ? 0 : line_height(kTitle) + kGap;
  double notes_w = 0;
  for (const std::string& n : p.notes) notes_w = std::max(notes_w, text_width(n, kTick));
  const double width = std::max({kMargin * 2 + per_row * cell_w, kMargin * 2 + notes_w,
                                 kMargin * 2 + text_width(p.title, kTitle, Weight::Bold)});
  // The legend flows in lines as wide as the figure.
  const double swatch = 18, entry_gap = 12;
  std::vector<std::vector<const Series*>> legend_lines;
  double line_w = 0;
  for (const Series* s : legend) {
    const double w = swatch + 4 + text_width(s->label, kLabel) + entry_gap;
    if (legend_lines.empty() || line_w + w > width - kMargin * 2) {
      legend_lines.emplace_back();
      line_w = 0;
    }
    legend_lines.back().push_back(s);
    line_w += w;
  }
  const double legend_h = static_cast<double>(legend_lines.size()) * line_height(kLabel);
  double notes_h = 0;
  for (std::size_t i = 0; i < p.notes.size(); ++i) notes_h += line_height(kTick);

  Drawing d;
  d.title = p.title;
  d.width = width;
  d.height =
      kMargin + title_h + rows * cell_h + legend_h + (notes_h > 0 ? kGap + notes_h : 0) + kMargin;
  if (!p.title.empty()) {
    d.ops.push_back(TextOp{p.title, kMargin, kMargin + text_ascent(kTitle), kTitle, Weight::Bold,
                           kBlack, Anchor::Start, false});
  }
  for (std::size_t k = 0; k < p.panels.size(); ++k) {
    const Panel& panel = p.panels[k];
    const double ox = kMargin + static_cast<double>(static_cast<int>(k) % per_row) * cell_w;
    const double oy =
        kMargin + title_h + static_cast<double>(static_cast<int>(k) / per_row) * cell_h;
    const double ax = ox + left, ay = oy + top, aw = p.panel_width, ah = p.panel_height;
    double xlo = std::numeric_limits<double>::infinity(), xhi = -xlo, ylo = xlo, yhi = -xlo;
    for (const Series& s : panel.series) {
      for (std::size_t i = 0; i < s.x.size(); ++i) {
        xlo = std::min(xlo, s.x[i]);
        xhi = std::max(xhi, s.x[i]);
        ylo = std::min(ylo, s.y[i]);
        yhi = std::max(yhi, s.y[i]);
      }
    }
    if (!std::isfinite(xlo)) xlo = 0, xhi = 1, ylo = 0, yhi = 1;  // no data: empty axes
    if (panel.y_from_zero) ylo = std::min(ylo, 0.0), yhi = std::max(yhi, 0.0);
    const Axis xa = nice_axis(xlo, xhi, 5, panel.x_integers ? 1 : 0), ya = nice_axis(ylo, yhi);
    const auto px = [&](double v) { return ax + (v - xa.lo) / (xa.hi - xa.lo) * aw; };
    const auto py = [&](double v) { return ay + ah - (v - ya.lo) / (ya.hi - ya.lo) * ah; };
    d.ops.push_back(TextOp{panel.title, ax + aw / 2, oy + text_ascent(kPanelTitle), kPanelTitle,
                           Weight::Bold, kBlack, Anchor::Middle, false});
    // Grid lines and ticks.
    const double xstep = xa.ticks.size() > 1 ? xa.ticks[1] - xa.ticks[0] : 1;
    const double ystep = ya.ticks.size() > 1 ? ya.ticks[1] - ya.ticks[0] : 1;
    for (const double t : xa.ticks) {
      d.ops.push_back(LineOp{{{px(t), ay}, {px(t), ay + ah}}, kLightGray, 0.4, Dash::Solid});
      d.ops.push_back(LineOp{{{px(t), ay + ah}, {px(t), ay + ah + 3}}, kBlack, 0.6, Dash::Solid});
      d.ops.push_back(TextOp{tick_label(t, xstep), px(t), ay + ah + 4 + text_ascent(kTick), kTick,
                             Weight::Regular, kBlack, Anchor::Middle, false});
    }
    for (const double t : ya.ticks) {
      d.ops.push_back(LineOp{{{ax, py(t)}, {ax + aw, py(t)}}, kLightGray, 0.4, Dash::Solid});
      d.ops.push_back(LineOp{{{ax - 3, py(t)}, {ax, py(t)}}, kBlack, 0.6, Dash::Solid});
      d.ops.push_back(TextOp{tick_label(t, ystep), ax - 4, py(t) + text_ascent(kTick) / 2 - 0.5,
                             kTick, Weight::Regular, kBlack, Anchor::End, false});
    }
    d.ops.push_back(RectOp{ax, ay, aw, ah, false, kWhite, 0.8, kBlack});
    d.ops.push_back(TextOp{panel.x_label, ax + aw / 2,
                           ay + ah + 4 + line_height(kTick) + text_ascent(kLabel), kLabel,
                           Weight::Regular, kBlack, Anchor::Middle, false});
    d.ops.push_back(TextOp{panel.y_label, ox + kGap + text_ascent(kLabel), ay + ah / 2, kLabel,
                           Weight::Regular, kBlack, Anchor::Middle, true});
    for (const Series& s : panel.series) {
      LineOp line{{}, s.color, 1.2, s.dash};
      for (std::size_t i = 0; i < s.x.size(); ++i) line.points.push_back({px(s.x[i]), py(s.y[i])});
      d.ops.push_back(line);
      for (const Point& q : line.points) d.ops.push_back(MarkerOp{q, 1.6, s.color});
    }
  }
  double y = kMargin + title_h + rows * cell_h;
  for (const auto& line : legend_lines) {
    double x = kMargin;
    const double mid = y + line_height(kLabel) / 2;
    for (const Series* s : line) {
      d.ops.push_back(LineOp{{{x, mid}, {x + swatch, mid}}, s->color, 1.2, s->dash});
      d.ops.push_back(MarkerOp{{x + swatch / 2, mid}, 1.6, s->color});
      x += swatch + 4;
      d.ops.push_back(TextOp{s->label, x, mid + text_ascent(kLabel) / 2 - 0.5, kLabel,
                             Weight::Regular, kBlack, Anchor::Start, false});
      x += text_width(s->label, kLabel) + entry_gap;
    }
    y += line_height(kLabel);
  }
  if (notes_h > 0) y += kGap;
  for (const std::string& n : p.notes) {
    d.ops.push_back(TextOp{n, kMargin, y + text_ascent(kTick), kTick, Weight::Regular, kGray,
                           Anchor::Start, false});
    y += line_height(kTick);
  }
  return d;
}

}  // namespace rp
