// One training run into a directory, as `robustprior train` and `robustprior demo` make it:
// latest.safetensors (every epoch), best.safetensors (best test accuracy), metrics.jsonl and
// config.json. Everything that can fail on bad input is checked before anything is written.
#pragma once

#include <optional>
#include <string>

#include "engine/train/config.h"
#include "weights/checkpoint.h"

namespace rp::cli {

struct TrainingOutcome {
  std::string latest, best;  // checkpoint paths
  double best_test_accuracy = 0;
};

// Trains cfg (validated by the caller) into cfg.out; with `resume`, continues from it. With
// `replace`, an earlier run's checkpoints there are removed - once everything is checked.
// With `profile`, prints the time per phase, layer and op at the end.
TrainingOutcome run_training(const TrainConfig& cfg, const std::optional<Checkpoint>& resume,
                             bool progress, bool replace = false, bool profile = false);

}  // namespace rp::cli
