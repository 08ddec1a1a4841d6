// index.html for a directory of study reports: each figure with its title, caption and a
// table of the mean metrics per model, and links to the manifests. Self-contained (no scripts,
// no external files), written atomically.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "engine/experiments/report.h"

namespace rp {

struct HtmlPage {
  std::string title;
  std::vector<std::string> paragraphs;  // before the figures (plain text, escaped)
  std::vector<std::pair<std::string, std::string>> facts;  // a key/value table
};

void write_index_html(const std::string& out_dir, const HtmlPage& page,
                      const std::vector<StudyReport>& reports);
std::string html_escape(const std::string& s);

}  // namespace rp
