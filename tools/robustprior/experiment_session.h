// What the experiment commands (invert, interpolate, visualize, manipulate) and the demo start
// from: a robust and/or a standard checkpoint, the data they were trained on (or one given,
// which must match them), a context, the networks, and the StudySetup tying them together.
// Also the optimization flags and the default image choices those commands share.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/core/context.h"
#include "engine/data/dataset.h"
#include "engine/experiments/report.h"
#include "tools/robustprior/list_flags.h"
#include "tools/robustprior/profile_report.h"
#include "weights/checkpoint.h"

namespace rp::cli {

struct ExperimentOptions {
  std::string robust, standard;  // checkpoints; at least one
  std::string dataset, data, split = "test", device = "cpu", out;
  std::int64_t threads = 0, scale = 3;
  double dpi = 144;         // the figure PNG's
  std::int64_t subset = 0;  // images of the split read (0: all)
  std::uint64_t seed = 0;
  bool quiet = false, tf32 = false, profile = false;

  // --robust, --standard, --dataset, --data, --split, --subset, --device, --threads, --tf32,
  // --out, --seed, --scale, --dpi, --quiet
  void add_to(CLI::App* cmd, const std::string& default_out);
};

struct ExperimentSession {
  std::unique_ptr<Context> ctx;
  std::vector<std::unique_ptr<Checkpoint>> checkpoints;
  std::vector<std::unique_ptr<Network>> nets;
  Dataset data;
  StudySetup setup;  // points into the members above: the session must not move once opened
  std::unique_ptr<ProfileReport> profile;  // --profile; last: reports before ctx goes
};

// Opens the checkpoints, loads the split and checks that every checkpoint was trained on that
// dataset with the same classes and image shape; throws rp::Error before anything is written.
std::unique_ptr<ExperimentSession> open_experiment(const ExperimentOptions& o,
                                                   const std::string& command);

// The optimization flags every experiment takes, with that experiment's defaults:
// --eps, --step, --iterations and --last-iterate or --use-best (whichever is not the default).
struct OptimizationFlags {
  std::string eps, step;
  std::int64_t iterations = 0;
  bool flip_use_best = false;
  AttackParams defaults;

  void add_to(CLI::App* cmd, const AttackParams& experiment_defaults,
              const std::string& prefix = "");
  AttackParams params(const std::string& command, const std::string& prefix = "") const;
};

// `count` images cycling through the classes (the first image of class 0, of class 1 ...,
// then the second of each), skipping `skip_class` (-1: none); the figures then show variety.
std::vector<std::int64_t> one_per_class(const Dataset& d, std::int64_t count,
                                        std::int32_t skip_class = -1, std::int64_t round = 0);
// The first `count` images of one class.
std::vector<std::int64_t> images_of_class(const Dataset& d, std::int32_t cls, std::int64_t count);

}  // namespace rp::cli
