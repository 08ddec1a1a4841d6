// index.html for a directory of study reports: each figure (its PNG shown, its PDF and SVG
// linked) with its title, caption and a table of the mean metrics per model, links to the
// manifests, plots beside them, and how to reproduce it all. Fully offline (no scripts, no
// external fonts or files), written atomically.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "engine/experiments/report.h"

namespace rp {

// A figure of the page besides the studies' (training curves, an eps sweep): its files.
struct HtmlFigure {
  std::string id, title, caption;
  std::string png, pdf, svg;  // paths
};

struct HtmlPage {
  std::string title;
  std::vector<std::string> paragraphs;  // before the figures (plain text, escaped)
  std::vector<std::pair<std::string, std::string>> facts;  // a key/value table
  std::vector<HtmlFigure> plots;                           // after the facts, before the studies
  std::string reproduce;  // the exact command(s); empty: no such block
};

void write_index_html(const std::string& out_dir, const HtmlPage& page,
                      const std::vector<StudyReport>& reports);

}  // namespace rp
