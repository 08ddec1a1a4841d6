#include "engine/figures/run_plots.h"

#include <cmath>
#include <filesystem>
#include <sstream>

#include "engine/core/error.h"
#include "engine/core/files.h"

namespace rp {
namespace {

constexpr std::uint64_t kMaxMetricsBytes = std::uint64_t{64} << 20;

// One metric of every epoch that has it.
Series metric(const RunMetrics& run, const std::string& key, double factor,
              const std::string& label, Rgb color, Dash dash) {
  Series s;
  s.label = label;
  s.color = color;
  s.dash = dash;
  for (const nlohmann::json& e : run.epochs) {
    if (!e.contains(key) || !e.at(key).is_number()) continue;
    const double v = e.at(key).get<double>();
    if (!std::isfinite(v)) continue;
    s.x.push_back(e.at("epoch").get<double>());
    s.y.push_back(factor * v);
  }
  return s;
}

}  // namespace

RunMetrics read_run_metrics(const std::string& run_dir) {
  const char* op = "plot";
  RP_CHECK(std::filesystem::is_directory(run_dir), op, run_dir << " is not a folder");
  const std::string path = (std::filesystem::path(run_dir) / "metrics.jsonl").string();
  RP_CHECK(std::filesystem::exists(path), op,
           run_dir << " holds no metrics.jsonl: not a training run's folder (train --out)");
  const std::uint64_t size = regular_file_size(path);
  RP_CHECK(size <= kMaxMetricsBytes, op,
           path << " is " << size << " bytes; a metrics log is at most " << kMaxMetricsBytes);
  RunMetrics run;
  run.name = std::filesystem::path(run_dir).lexically_normal().filename().string();
  if (run.name.empty() || run.name == ".") {
    run.name =
        std::filesystem::absolute(run_dir).lexically_normal().parent_path().filename().string();
  }
  std::istringstream in(read_file(path, kMaxMetricsBytes));
  std::int64_t number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    if (line.empty()) continue;
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    RP_CHECK(!j.is_discarded() && j.is_object(), op,
             path << " line " << number << " is not a JSON object");
    for (const char* key : {"epoch", "train_loss", "train_acc", "test_loss", "test_acc", "lr"}) {
      RP_CHECK(j.contains(key) && j.at(key).is_number(), op,
               path << " line " << number << " lacks the number '" << key << "'");
    }
    run.epochs.push_back(std::move(j));
  }
  RP_CHECK(!run.epochs.empty(), op, path << " is empty: the run has not finished an epoch yet");
  return run;
}

Plot training_curves(const std::vector<RunMetrics>& runs) {
  RP_CHECK(!runs.empty(), "plot", "no runs to plot");
  Plot p;
  p.title = runs.size() == 1 ? "Training of " + runs[0].name : "Training curves";
  Panel loss{"Loss", "epoch", "cross-entropy loss", {}, true, true};
  Panel acc{"Accuracy", "epoch", "accuracy (%)", {}, true, true};
  Panel lr{"Learning rate", "epoch", "learning rate", {}, true, true};
  for (std::size_t r = 0; r < runs.size(); ++r) {
    const RunMetrics& run = runs[r];
    const Rgb c = series_color(r);
    const bool adv = run.epochs.front().contains("adv");
    const std::string prefix = runs.size() == 1 ? "" : run.name + ": ";
    const std::string train = adv ? "training (adversarial)" : "training";
    loss.series.push_back(metric(run, "train_loss", 1, prefix + train, c, Dash::Dashed));
    loss.series.push_back(metric(run, "test_loss", 1, prefix + "test", c, Dash::Solid));
    acc.series.push_back(metric(run, "train_acc", 100, prefix + train, c, Dash::Dashed));
    acc.series.push_back(metric(run, "test_acc", 100, prefix + "test", c, Dash::Solid));
    Series robust_loss =
        metric(run, "robust_test_loss", 1, prefix + "test (adversarial)", c, Dash::Dotted);
    Series robust_acc =
        metric(run, "robust_test_acc", 100, prefix + "test (adversarial)", c, Dash::Dotted);
    if (!robust_loss.x.empty()) loss.series.push_back(robust_loss);
    if (!robust_acc.x.empty()) acc.series.push_back(robust_acc);
    lr.series.push_back(
        metric(run, "lr", 1, runs.size() == 1 ? "learning rate" : run.name, c, Dash::Solid));
  }
  p.panels = {loss, acc, lr};
  p.notes.push_back(
      "Dashed: on the training batches; solid: on the test set; dotted: on test "
      "images under the run's attack.");
  return p;
}

Plot eps_sweep_plot(const std::vector<EpsCurve>& curves, const std::string& threat) {
  RP_CHECK(!curves.empty(), "plot", "no eps sweep to plot");
  Plot p;
  p.title = "Robust accuracy against the attack's \u03b5 (" + threat + ")";
  Panel panel{"", "\u03b5", "robust accuracy (%)", {}, true};
  for (std::size_t i = 0; i < curves.size(); ++i) {
    const EpsCurve& c = curves[i];
    RP_CHECK(c.eps.size() == c.robust_accuracy.size() && !c.eps.empty(), "plot",
             "the eps sweep of '" << c.name << "' has " << c.eps.size() << " eps and "
                                  << c.robust_accuracy.size() << " accuracies");
    Series s{c.name, c.eps, {}, series_color(i), Dash::Solid};
    for (const double a : c.robust_accuracy) s.y.push_back(100 * a);
    panel.series.push_back(s);
  }
  p.panels = {panel};
  p.panel_width = 260;
  p.panel_height = 170;
  return p;
}

}  // namespace rp
