// robustprior invert: representation inversion for a robust and/or a standard model.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>

#include "tools/robustprior/commands.h"
#include "tools/robustprior/experiment_session.h"
#include "tools/robustprior/study_output.h"

namespace rp::cli {
namespace {

struct InvertOptions {
  ExperimentOptions session;
  OptimizationFlags optimization;
  std::string images, sources;
  std::int64_t count = 10;
  double noise_mean = 0.5, noise_std = 0.05;
};

void run_invert(const InvertOptions& o) {
  InversionStudy study;
  study.params.attack = o.optimization.params("invert");
  study.params.noise_mean = o.noise_mean;
  study.params.noise_std = o.noise_std;
  RP_CHECK(o.noise_std >= 0 && o.noise_mean >= 0 && o.noise_mean <= 1, "invert",
           "--noise-mean must be in [0, 1] and --noise-std >= 0");
  RP_CHECK(o.count >= 1, "invert", "--count must be >= 1, found " << o.count);
  const auto session = open_experiment(o.session, "invert");
  study.targets = o.images.empty() ? one_per_class(session->data, o.count)
                                   : parse_indices(o.images, "invert", "--images");
  if (!o.sources.empty()) study.sources = parse_indices(o.sources, "invert", "--sources");
  print_report(run_inversion_study(session->setup, study));
}

}  // namespace

void add_invert_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "invert", "Invert representations: find x with R(x) = R(target) from noise or a source");
  auto o = std::make_shared<InvertOptions>();
  o->session.add_to(cmd, "out/invert");
  o->optimization.add_to(cmd, InversionParams{}.attack);
  cmd->add_option("--images", o->images, "target image indices (default: one per class)");
  cmd->add_option("--count", o->count, "without --images: this many targets")
      ->capture_default_str();
  cmd->add_option("--sources", o->sources,
                  "start from these images (one per target) instead of noise");
  cmd->add_option("--noise-mean", o->noise_mean, "noise seeds: mean")->capture_default_str();
  cmd->add_option("--noise-std", o->noise_std, "noise seeds: standard deviation")
      ->capture_default_str();
  cmd->callback([o] { run_invert(*o); });
}

}  // namespace rp::cli
