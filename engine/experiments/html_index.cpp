#include "engine/experiments/html_index.h"

#include <cstdio>
#include <filesystem>
#include <set>
#include <sstream>

#include "engine/core/files.h"
#include "engine/core/markup_text.h"

namespace rp {
namespace {

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

std::string value_text(const nlohmann::json& v) {
  if (v.is_number()) return number(v.get<double>());
  if (v.is_array()) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ", ") + value_text(x);
    return s;
  }
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

// The metrics as rows, the models as columns.
void metrics_table(std::ostringstream& os, const nlohmann::json& summary) {
  if (!summary.is_object() || summary.empty()) return;
  std::vector<std::string> keys;
  std::set<std::string> seen;
  for (const auto& [role, metrics] : summary.items()) {
    for (const auto& [key, value] : metrics.items()) {
      if (seen.insert(key).second) keys.push_back(key);
    }
  }
  os << "<table><tr><th>metric</th>";
  for (const auto& [role, metrics] : summary.items())
    os << "<th>" << markup_escape(role) << "</th>";
  os << "</tr>\n";
  for (const std::string& key : keys) {
    os << "<tr><td>" << markup_escape(key) << "</td>";
    for (const auto& [role, metrics] : summary.items()) {
      os << "<td>" << (metrics.contains(key) ? markup_escape(value_text(metrics.at(key))) : "")
         << "</td>";
    }
    os << "</tr>\n";
  }
  os << "</table>\n";
}

std::string relative(const std::string& path, const std::string& dir) {
  return std::filesystem::path(path).lexically_relative(dir).generic_string();
}

// The PNG shown, its PDF and SVG linked.
void figure_files(std::ostringstream& os, const std::string& out_dir, const std::string& title,
                  const std::string& png, const std::string& pdf, const std::string& svg) {
  const std::string p = markup_escape(relative(png, out_dir));
  os << "<a href=\"" << p << "\"><img src=\"" << p << "\" alt=\"" << markup_escape(title)
     << "\"></a>\n<p class=\"files\">";
  if (!pdf.empty()) os << "<a href=\"" << markup_escape(relative(pdf, out_dir)) << "\">PDF</a> ";
  if (!svg.empty()) os << "<a href=\"" << markup_escape(relative(svg, out_dir)) << "\">SVG</a> ";
  os << "<a href=\"" << p << "\">PNG</a></p>\n";
}

}  // namespace

void write_index_html(const std::string& out_dir, const HtmlPage& page,
                      const std::vector<StudyReport>& reports) {
  std::ostringstream os;
  os << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>"
     << markup_escape(page.title) << "</title>\n<style>\n"
     << "body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;"
        "color:#222}\n"
     << "img{image-rendering:pixelated;max-width:100%;border:1px solid #ccc}\n"
     << ".files{font-size:90%;margin:.2em 0}pre{background:#f4f4f4;padding:.6em;"
        "overflow-x:auto}\n"
     << "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;"
        "padding:2px 8px;text-align:left}\n"
     << "figure{margin:2em 0}figcaption{margin:.5em 0}\n</style></head><body>\n"
     << "<h1>" << markup_escape(page.title) << "</h1>\n";
  for (const std::string& p : page.paragraphs) os << "<p>" << markup_escape(p) << "</p>\n";
  if (!page.facts.empty()) {
    os << "<table>\n";
    for (const auto& [k, v] : page.facts)
      os << "<tr><th>" << markup_escape(k) << "</th><td>" << markup_escape(v) << "</td></tr>\n";
    os << "</table>\n";
  }
  if (!page.reproduce.empty()) {
    os << "<h2>How to reproduce</h2>\n<pre>" << markup_escape(page.reproduce) << "</pre>\n";
  }
  for (const HtmlFigure& f : page.plots) {
    os << "<figure id=\"" << markup_escape(f.id) << "\">\n<h2>" << markup_escape(f.title)
       << "</h2>\n";
    figure_files(os, out_dir, f.title, f.png, f.pdf, f.svg);
    os << "<figcaption>" << markup_escape(f.caption) << "</figcaption>\n</figure>\n";
  }
  for (const StudyReport& r : reports) {
    os << "<figure id=\"" << markup_escape(r.name) << "\">\n<h2>" << markup_escape(r.title)
       << "</h2>\n";
    figure_files(os, out_dir, r.title, r.figure, r.figure_pdf, r.figure_svg);
    os << "<figcaption>" << markup_escape(r.caption) << " (" << number(r.seconds)
       << " s; every parameter and per-image number in <a href=\""
       << markup_escape(relative(r.manifest, out_dir)) << "\">"
       << markup_escape(relative(r.manifest, out_dir)) << "</a>)</figcaption>\n";
    metrics_table(os, r.summary);
    os << "</figure>\n";
  }
  os << "</body></html>\n";
  write_file_atomic(out_dir + "/index.html", os.str());
}

}  // namespace rp
