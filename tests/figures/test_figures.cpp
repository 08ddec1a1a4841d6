// Figures drawn with cairo: every file decodes or parses at its stated size, text is real text,
// images keep their pixels, the same figure gives the same PNG and SVG bytes, and plots' axes
// cover their data.
#include <expat.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "engine/core/error.h"
#include "engine/data/image_io.h"
#include "engine/figures/figure_files.h"
#include "engine/figures/grid.h"
#include "engine/figures/plot.h"
#include "engine/figures/run_plots.h"
#include "engine/figures/typeface.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_support.h"

namespace rp {
namespace {

std::string bytes_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The SVG parsed with expat: well-formed XML, its root's size, and the text of every <text>.
struct SvgContents {
  bool well_formed = false;
  std::string root, width, height;
  std::vector<std::string> texts;
  std::vector<std::string> image_hrefs;
  int depth = 0;
  bool in_text = false;
};

SvgContents parse_svg(const std::string& svg) {
  SvgContents c;
  XML_Parser p = XML_ParserCreate("UTF-8");
  XML_SetUserData(p, &c);
  XML_SetElementHandler(
      p,
      [](void* data, const XML_Char* name, const XML_Char** attrs) {
        auto* out = static_cast<SvgContents*>(data);
        if (out->depth++ == 0) out->root = name;
        const std::string n = name;
        for (int i = 0; attrs[i] != nullptr; i += 2) {
          const std::string key = attrs[i];
          if (n == "svg" && key == "width") out->width = attrs[i + 1];
          if (n == "svg" && key == "height") out->height = attrs[i + 1];
          if (n == "image" && key == "xlink:href") out->image_hrefs.push_back(attrs[i + 1]);
        }
        if (n == "text") {
          out->texts.emplace_back();
          out->in_text = true;
        }
      },
      [](void* data, const XML_Char* name) {
        auto* out = static_cast<SvgContents*>(data);
        --out->depth;
        if (std::string(name) == "text") out->in_text = false;
      });
  XML_SetCharacterDataHandler(p, [](void* data, const XML_Char* s, int len) {
    auto* out = static_cast<SvgContents*>(data);
    if (out->in_text) out->texts.back().append(s, static_cast<std::size_t>(len));
  });
  c.well_formed = XML_Parse(p, svg.data(), static_cast<int>(svg.size()), 1) == XML_STATUS_OK;
  XML_ParserFree(p);
  return c;
}

bool has_text(const SvgContents& c, const std::string& s) {
  for (const std::string& t : c.texts) {
    if (t == s) return true;
  }
  return false;
}

std::string base64_decode(const std::string& in) {
  std::string out;
  int bits = 0;
  std::uint32_t acc = 0;
  for (const char ch : in) {
    int v = -1;
    if (ch >= 'A' && ch <= 'Z') v = ch - 'A';
    if (ch >= 'a' && ch <= 'z') v = ch - 'a' + 26;
    if (ch >= '0' && ch <= '9') v = ch - '0' + 52;
    if (ch == '+') v = 62;
    if (ch == '/') v = 63;
    if (v < 0) continue;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

int pdf_pages(const std::string& pdf) {
  int pages = 0;
  for (std::size_t at = pdf.find("/Type /Page"); at != std::string::npos;
       at = pdf.find("/Type /Page", at + 1)) {
    if (pdf.compare(at, 12, "/Type /Pages") != 0) ++pages;
  }
  return pages;
}

std::vector<float> random_image(std::int64_t c, std::int64_t h, std::int64_t w, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> u(0, 1);
  std::vector<float> v(static_cast<std::size_t>(c * h * w));
  for (float& x : v) x = u(gen);
  return v;
}

Figure sample_figure() {
  Figure f;
  f.title = "Inversion of the representation";
  f.channels = 3;
  f.height = f.width = 8;
  f.scale = 4;
  f.column_labels = {"Cat", "Dog", "Ship"};
  for (const char* label : {"Target", "Robust model", "Standard model"}) {
    FigureRow row{label, {}};
    for (unsigned c = 0; c < 3; ++c) {
      row.cells.push_back({random_image(3, 8, 8, c + 10 * static_cast<unsigned>(f.rows.size())),
                           "cat 0.91\nL2 3.2", c == 1 ? kRed : kGreen});
    }
    f.rows.push_back(row);
  }
  f.legend = {{kGreen, "correct"}, {kRed, "wrong"}};
  f.notes = {"Mean pixel distance: robust 2.1, standard 5.3 & more <here>"};
  return f;
}

TEST(Figures, TheTypefaceIsDejaVuSans) {
  EXPECT_NE(font_file(Weight::Regular).find("DejaVuSans"), std::string::npos);
  EXPECT_NE(font_file(Weight::Bold).find("DejaVuSans-Bold"), std::string::npos);
  // Proportional, scaled linearly, bold wider.
  EXPECT_GT(text_width("WWWW", 10), text_width("iiii", 10));
  EXPECT_NEAR(text_width("Robust", 20), 2 * text_width("Robust", 10), 1e-6);
  EXPECT_GT(text_width("Robust", 10, Weight::Bold), text_width("Robust", 10));
  EXPECT_GT(text_ascent(10), 5);
}

TEST(Figures, AGridIsWrittenAsPdfSvgAndPngAtItsStatedSize) {
  test::TempDir dir;
  const Figure fig = sample_figure();
  const Drawing d = layout_figure(fig);
  const FigureFiles f = write_figure_files(d, dir.file("grid"), 144);
  // PNG: twice the points at 144 dpi.
  const Image png = load_png(f.png, 3);
  EXPECT_EQ(png.width, f.png_width);
  EXPECT_EQ(png.height, f.png_height);
  EXPECT_EQ(png.width, static_cast<std::int64_t>(std::ceil(d.width * 2 - 1e-9)));
  EXPECT_EQ(png.height, static_cast<std::int64_t>(std::ceil(d.height * 2 - 1e-9)));
  // SVG: well-formed, the size in points, every label, caption line and note as real text.
  const SvgContents svg = parse_svg(bytes_of(f.svg));
  ASSERT_TRUE(svg.well_formed);
  EXPECT_EQ(svg.root, "svg");
  EXPECT_NEAR(std::stod(svg.width), d.width, 0.01);
  EXPECT_NEAR(std::stod(svg.height), d.height, 0.01);
  for (const char* s : {"Inversion of the representation", "Cat", "Ship", "Robust model",
                        "Standard model", "cat 0.91", "L2 3.2", "correct", "wrong",
                        "Mean pixel distance: robust 2.1, standard 5.3 & more <here>"}) {
    EXPECT_TRUE(has_text(svg, s)) << s;
  }
  // Every image embedded at its own resolution (8x8), its pixels as given.
  ASSERT_EQ(svg.image_hrefs.size(), 9u);
  const std::string prefix = "data:image/png;base64,";
  ASSERT_EQ(svg.image_hrefs[0].rfind(prefix, 0), 0u);
  const std::string embedded = base64_decode(svg.image_hrefs[0].substr(prefix.size()));
  const Image first = decode_image(reinterpret_cast<const std::uint8_t*>(embedded.data()),
                                   embedded.size(), "embedded");
  EXPECT_EQ(first.width, 8);
  EXPECT_EQ(first.height, 8);
  EXPECT_EQ(first.pixels, rgb_image(fig.rows[0].cells[0].image, 3, 8, 8).pixels);
  // PDF: a header, one page, images unsmoothed at their resolution, text as a font.
  const std::string pdf = bytes_of(f.pdf);
  EXPECT_EQ(pdf.rfind("%PDF-1.", 0), 0u);
  EXPECT_EQ(pdf_pages(pdf), 1);
  EXPECT_NE(pdf.find("/Width 8"), std::string::npos);
  EXPECT_NE(pdf.find("/Interpolate false"), std::string::npos);
  EXPECT_NE(pdf.find("DejaVuSans"), std::string::npos);
  EXPECT_EQ(pdf.find("/Interpolate true"), std::string::npos);
}

TEST(Figures, TheSameFigureGivesTheSameBytes) {
  test::TempDir dir;
  const Drawing d = layout_figure(sample_figure());
  const FigureFiles a = write_figure_files(d, dir.file("a"), 100);
  const FigureFiles b = write_figure_files(layout_figure(sample_figure()), dir.file("b"), 100);
  EXPECT_EQ(bytes_of(a.png), bytes_of(b.png));
  EXPECT_EQ(bytes_of(a.svg), bytes_of(b.svg));
  // Another resolution: another PNG size, the same vector files.
  const FigureFiles c = write_figure_files(d, dir.file("c"), 300);
  EXPECT_EQ(bytes_of(a.svg), bytes_of(c.svg));
  EXPECT_GT(c.png_width, a.png_width * 2);
}

TEST(Figures, ImagesArePixelatedNotSmoothed) {
  // A 2x2 checkerboard drawn into a 40x40-point cell: at 72 dpi, the PNG's pixels inside each
  // quarter are all one colour.
  Drawing d;
  d.width = d.height = 40;
  Image img;
  img.width = img.height = 2;
  img.channels = 3;
  img.pixels = {0, 0, 0, 255, 255, 255, 255, 255, 255, 0, 0, 0};
  d.ops.push_back(ImageOp{img, 0, 0, 40, 40});
  const Image png = render_png(d, 72);
  ASSERT_EQ(png.width, 40);
  for (std::int64_t y = 0; y < 40; ++y) {
    for (std::int64_t x = 0; x < 40; ++x) {
      const bool white = (x < 20) != (y < 20);
      ASSERT_EQ(png.pixels[static_cast<std::size_t>(3 * (y * 40 + x))], white ? 255 : 0)
          << x << "," << y;
    }
  }
}

TEST(Figures, RefusesFiguresTooLargeOrBadResolutions) {
  Drawing d;
  d.width = 100;
  d.height = 100;
  std::int64_t w = 0, h = 0;
  EXPECT_THROW(png_size(d, 10, &w, &h), Error);
  EXPECT_THROW(png_size(d, 5000, &w, &h), Error);
  d.width = 1e6;
  EXPECT_THROW(render_svg(d), Error);
  d.width = 14000;
  d.height = 14000;
  EXPECT_THROW(png_size(d, 1200, &w, &h), Error);  // 233,000 pixels a side
  Figure empty;
  EXPECT_THROW(layout_figure(empty), Error);
}

TEST(Plots, NiceAxesCoverTheirRange) {
  std::mt19937 gen(3);
  std::uniform_real_distribution<double> u(-1000, 1000);
  for (int i = 0; i < 500; ++i) {
    double lo = u(gen), hi = u(gen);
    if (lo > hi) std::swap(lo, hi);
    if (i % 3 == 0) hi = lo + std::fabs(u(gen)) * 1e-3;  // narrow ranges
    const Axis a = nice_axis(lo, hi);
    ASSERT_LE(a.lo, lo);
    ASSERT_GE(a.hi, hi);
    ASSERT_GE(a.ticks.size(), 2u);
    ASSERT_LE(a.ticks.size(), 12u);
    EXPECT_NEAR(a.ticks.front(), a.lo, 1e-9 * std::max(1.0, std::fabs(a.lo)));
    EXPECT_NEAR(a.ticks.back(), a.hi, 1e-6 * std::max(1.0, std::fabs(a.hi)));
  }
  const Axis flat = nice_axis(5, 5);
  EXPECT_LT(flat.lo, 5);
  EXPECT_GT(flat.hi, 5);
  EXPECT_EQ(tick_label(0.25, 0.05), "0.25");
  EXPECT_EQ(tick_label(20, 10), "20");
  EXPECT_EQ(tick_label(0.001, 0.0005), "0.0010");
}

TEST(Plots, SeriesPointsLieInsideTheirAxes) {
  Plot p;
  p.title = "Two panels";
  Panel a{"Loss", "epoch", "loss", {}, false};
  a.series.push_back({"train", {1, 2, 3, 4}, {2.3, 1.1, 0.7, 0.65}, series_color(0), Dash::Dashed});
  a.series.push_back({"test", {1, 2, 3, 4}, {2.1, 1.3, 0.9, 0.95}, series_color(0), Dash::Solid});
  Panel b{"Accuracy", "epoch", "accuracy (%)", {}, true};
  b.series.push_back({"test", {1, 2, 3, 4}, {31, 55, 72, 80}, series_color(0), Dash::Solid});
  p.panels = {a, b};
  const Drawing d = layout_plot(p);
  // The frames (unfilled rectangles) and the data (polylines of the series' colours).
  std::vector<RectOp> frames;
  std::vector<LineOp> data;
  for (const DrawOp& op : d.ops) {
    if (const auto* r = std::get_if<RectOp>(&op); r != nullptr && !r->filled) frames.push_back(*r);
    if (const auto* l = std::get_if<LineOp>(&op); l != nullptr && l->width > 1) data.push_back(*l);
  }
  ASSERT_EQ(frames.size(), 2u);
  ASSERT_GE(data.size(), 3u);
  int inside = 0;
  for (std::size_t k = 0; k < 3; ++k) {
    const RectOp& f = frames[k < 2 ? 0 : 1];
    for (const Point& q : data[k].points) {
      EXPECT_GE(q.x, f.x - 1e-9);
      EXPECT_LE(q.x, f.x + f.w + 1e-9);
      EXPECT_GE(q.y, f.y - 1e-9);
      EXPECT_LE(q.y, f.y + f.h + 1e-9);
      ++inside;
    }
  }
  EXPECT_EQ(inside, 12);
  const SvgContents svg = parse_svg(render_svg(d));
  ASSERT_TRUE(svg.well_formed);
  for (const char* s : {"Two panels", "Loss", "Accuracy", "epoch", "accuracy (%)", "train", "test"})
    EXPECT_TRUE(has_text(svg, s)) << s;
  // Accuracy from zero: a tick labelled 0.
  EXPECT_TRUE(has_text(svg, "0"));
  Plot bad = p;
  bad.panels[0].series[0].y.pop_back();
  EXPECT_THROW(layout_plot(bad), Error);
  bad = p;
  bad.panels[0].series[0].y[1] = std::nan("");
  EXPECT_THROW(layout_plot(bad), Error);
  EXPECT_THROW(layout_plot(Plot{}), Error);
}

TEST(Plots, TrainingCurvesFromRunFoldersAndTheirRefusals) {
  test::TempDir dir;
  const auto write = [&](const std::string& run, const std::string& text) {
    std::filesystem::create_directories(dir.file(run));
    std::ofstream(dir.file(run + "/metrics.jsonl")) << text;
    return dir.file(run);
  };
  std::string log;
  for (int e = 1; e <= 3; ++e) {
    const nlohmann::json j = {{"epoch", e},
                              {"lr", 0.1},
                              {"train_loss", 2.0 / e},
                              {"train_acc", 0.5},
                              {"test_loss", 1.0},
                              {"test_acc", 0.2 * e},
                              {"adv", "pgd"},
                              {"robust_test_acc", 0.3},
                              {"robust_test_loss", 1.5}};
    log += j.dump() + "\n";
  }
  const RunMetrics run = read_run_metrics(write("robust", log));
  EXPECT_EQ(run.name, "robust");
  ASSERT_EQ(run.epochs.size(), 3u);
  const Plot p = training_curves({run, run});
  ASSERT_EQ(p.panels.size(), 3u);
  // Accuracy: training, test and robust test for each of the two runs, in percent.
  ASSERT_EQ(p.panels[1].series.size(), 6u);
  EXPECT_NEAR(p.panels[1].series[1].y[2], 60, 1e-9);
  const SvgContents svg = parse_svg(render_svg(layout_plot(p)));
  EXPECT_TRUE(has_text(svg, "robust: test (adversarial)"));

  const auto error_of = [](const std::string& d) {
    try {
      read_run_metrics(d);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(error_of(dir.file("none")).find("is not a folder"), std::string::npos);
  std::filesystem::create_directories(dir.file("bare"));
  EXPECT_NE(error_of(dir.file("bare")).find("holds no metrics.jsonl"), std::string::npos);
  EXPECT_NE(error_of(write("empty", "")).find("is empty"), std::string::npos);
  EXPECT_NE(error_of(write("garbage", "{\"epoch\":1,\n")).find("line 1 is not a JSON object"),
            std::string::npos);
  EXPECT_NE(error_of(write("fields", "{\"epoch\":1}\n")).find("lacks the number 'train_loss'"),
            std::string::npos);
}

}  // namespace
}  // namespace rp
