// robustprior interpolate: paths between image pairs through representation space.
#include <CLI/CLI.hpp>
#include <memory>

#include "engine/core/error.h"
#include "tools/robustprior/commands.h"
#include "tools/robustprior/experiment_session.h"
#include "tools/robustprior/study_output.h"

namespace rp::cli {
namespace {

struct InterpolateOptions {
  ExperimentOptions session;
  OptimizationFlags optimization;
  std::string pairs;
  std::int64_t count = 3, frames = 10;
};

// Default pairs: images of different classes, (class 0, class 1), (class 2, class 3) ...
std::vector<std::pair<std::int64_t, std::int64_t>> default_pairs(const Dataset& d,
                                                                 std::int64_t count) {
  const std::vector<std::int64_t> idx = one_per_class(d, 2 * count);
  std::vector<std::pair<std::int64_t, std::int64_t>> out;
  for (std::size_t i = 0; i + 1 < idx.size(); i += 2) out.emplace_back(idx[i], idx[i + 1]);
  return out;
}

void run_interpolate(const InterpolateOptions& o) {
  InterpolationStudy study;
  study.params.attack = o.optimization.params("interpolate");
  study.params.frames = o.frames;
  RP_CHECK(o.count >= 1, "interpolate", "--count must be >= 1, found " << o.count);
  RP_CHECK(o.frames >= 2 && o.frames <= 64, "interpolate",
           "--frames must be in [2, 64], found " << o.frames);
  const auto session = open_experiment(o.session, "interpolate");
  study.pairs = o.pairs.empty() ? default_pairs(session->data, o.count)
                                : parse_pairs(o.pairs, "interpolate", "--pairs");
  print_report(run_interpolation_study(session->setup, study));
}

}  // namespace

void add_interpolate_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "interpolate", "Interpolate between images by interpolating their representations");
  auto o = std::make_shared<InterpolateOptions>();
  o->session.add_to(cmd, "out/interpolate");
  o->optimization.add_to(cmd, InterpolationParams{}.attack);
  cmd->add_option("--pairs", o->pairs, "image pairs LEFT:RIGHT,... (default: different classes)");
  cmd->add_option("--count", o->count, "without --pairs: this many pairs")->capture_default_str();
  cmd->add_option("--frames", o->frames, "frames per pair, lambda = j / (frames - 1)")
      ->capture_default_str();
  cmd->callback([o] { run_interpolate(*o); });
}

}  // namespace rp::cli
