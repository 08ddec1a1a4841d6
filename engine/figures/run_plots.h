// The plots of runs: training curves from each run's metrics.jsonl (several runs overlaid) and
// robust accuracy against the attack's eps.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/figures/plot.h"

namespace rp {

struct RunMetrics {
  std::string name;                    // in the legend: the run folder's name
  std::vector<nlohmann::json> epochs;  // metrics.jsonl's records, in order
};

// RUN_DIR/metrics.jsonl. Refused, with what was expected: a folder that is not a run's (no
// metrics.jsonl), an empty log (no epoch finished yet), a line that is not a JSON object with
// the epoch's fields, a file over 64 MiB.
RunMetrics read_run_metrics(const std::string& run_dir);

// Panels: loss, accuracy (training, test, robust test) and the learning rate, per epoch; a
// colour per run, a dash per metric.
Plot training_curves(const std::vector<RunMetrics>& runs);

struct EpsCurve {
  std::string name;                          // the model
  std::vector<double> eps, robust_accuracy;  // accuracy in [0, 1]
};
// Robust accuracy (%) against eps, a line per model.
Plot eps_sweep_plot(const std::vector<EpsCurve>& curves, const std::string& threat);

}  // namespace rp
