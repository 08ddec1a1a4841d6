// robustprior plot RUN_DIR...: training curves from each run's metrics.jsonl, several runs
// overlaid, as PDF, SVG and PNG.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "engine/core/error.h"
#include "engine/figures/figure_files.h"
#include "engine/figures/run_plots.h"
#include "tools/robustprior/commands.h"

namespace rp::cli {
namespace {

struct PlotOptions {
  std::vector<std::string> runs;
  std::string out;  // empty: <first run>/training_curves
  double dpi = kDefaultDpi;
};

void run_plot(const PlotOptions& o) {
  RP_CHECK(!o.runs.empty(), "plot", "give at least one run folder (train --out)");
  RP_CHECK(o.runs.size() <= 8, "plot", "at most 8 runs are told apart, found " << o.runs.size());
  RP_CHECK(o.dpi >= kMinDpi && o.dpi <= kMaxDpi, "plot",
           "--dpi must be in [" << kMinDpi << ", " << kMaxDpi << "], found " << o.dpi);
  std::vector<RunMetrics> runs;
  for (const std::string& dir : o.runs) runs.push_back(read_run_metrics(dir));
  const std::string stem = o.out.empty() ? o.runs.front() + "/training_curves" : figure_stem(o.out);
  const FigureFiles f = write_figure_files(layout_plot(training_curves(runs)), stem, o.dpi);
  std::printf("training curves of %zu run%s: %s, %s, %s (%lldx%lld)\n", runs.size(),
              runs.size() == 1 ? "" : "s", f.pdf.c_str(), f.svg.c_str(), f.png.c_str(),
              static_cast<long long>(f.png_width), static_cast<long long>(f.png_height));
}

}  // namespace

void add_plot_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "plot",
      "Training curves (loss, accuracy, robust accuracy, learning rate) of runs, as PDF, "
      "SVG and PNG");
  auto o = std::make_shared<PlotOptions>();
  cmd->add_option("runs", o->runs, "run folders (train --out), overlaid")->required();
  cmd->add_option("--out", o->out,
                  "the figure's path without extension (default: FIRST_RUN/training_curves)");
  cmd->add_option("--dpi", o->dpi, "the PNG's resolution")->capture_default_str();
  cmd->callback([o] { run_plot(*o); });
}

}  // namespace rp::cli
