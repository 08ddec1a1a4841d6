// robustprior visualize: direct visualization of representation coordinates, and their
// maximizing inputs.
#include <CLI/CLI.hpp>
#include <memory>

#include "engine/core/error.h"
#include "tools/robustprior/commands.h"
#include "tools/robustprior/experiment_session.h"
#include "tools/robustprior/study_output.h"

namespace rp::cli {
namespace {

struct VisualizeOptions {
  ExperimentOptions session;
  OptimizationFlags optimization, maximizing;
  std::string images, coordinates, max_coordinates;
  std::int64_t count = 2, noise_seeds = 2, random_coordinates = 5, top = 5;
  bool no_maximizing = false;
};

void run_visualize(const VisualizeOptions& o) {
  VisualizationStudy study;
  study.params.attack = o.optimization.params("visualize");
  study.noise_seeds = o.noise_seeds;
  study.random_coordinates = o.random_coordinates;
  MaximizingInputsStudy max_study;
  max_study.params.attack = o.maximizing.params("visualize", "max-");
  max_study.params.top = o.top;
  const std::int64_t images = o.images.empty() ? o.count : 1;  // --images holds at least one
  RP_CHECK(o.count >= 0 && o.noise_seeds >= 0 && images + o.noise_seeds >= 1, "visualize",
           "needs a seed: --images or --count images, and --noise-seeds noise seeds; at least "
           "one in all");
  RP_CHECK(o.random_coordinates >= 1, "visualize",
           "--random-coordinates must be >= 1, found " << o.random_coordinates);
  if (!o.coordinates.empty())
    study.coordinates = parse_coordinates(o.coordinates, "visualize", "--coordinates");
  if (!o.max_coordinates.empty())
    max_study.coordinates = parse_coordinates(o.max_coordinates, "visualize", "--max-coordinates");
  const auto session = open_experiment(o.session, "visualize");
  study.seed_images = o.images.empty() ? one_per_class(session->data, o.count)
                                       : parse_indices(o.images, "visualize", "--images");
  // Everything checked before the first study starts.
  check_coordinates_fit(session->setup, study.coordinates, "visualize");
  check_coordinates_fit(session->setup, max_study.coordinates, "visualize");
  RP_CHECK(o.top >= 1 && o.top <= session->data.size(), "visualize",
           "--top must be in [1, " << session->data.size() << "], found " << o.top);
  print_report(run_visualization_study(session->setup, study));
  if (!o.no_maximizing) print_report(run_maximizing_inputs_study(session->setup, max_study));
}

}  // namespace

void add_visualize_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "visualize",
      "Visualize representation coordinates: maximize R(x)_k from seeds, and the "
      "maximizing inputs");
  auto o = std::make_shared<VisualizeOptions>();
  o->session.add_to(cmd, "out/visualize");
  o->optimization.add_to(cmd, VisualizationParams{}.attack);
  cmd->add_option("--images", o->images, "seed image indices (default: one per class)");
  cmd->add_option("--count", o->count, "without --images: this many seed images")
      ->capture_default_str();
  cmd->add_option("--noise-seeds", o->noise_seeds, "N(0.5, 0.05^2) noise seeds besides")
      ->capture_default_str();
  cmd->add_option("--coordinates", o->coordinates, "coordinates k of R(x) (default: random)");
  cmd->add_option("--random-coordinates", o->random_coordinates,
                  "without --coordinates: this many, drawn per model")
      ->capture_default_str();
  cmd->add_flag("--no-maximizing", o->no_maximizing, "Skip the maximizing inputs");
  cmd->add_option("--max-coordinates", o->max_coordinates,
                  "maximizing inputs: coordinates (default: one drawn per model)");
  cmd->add_option("--top", o->top, "maximizing inputs: test images shown at each end")
      ->capture_default_str();
  o->maximizing.add_to(cmd, MaximizingInputsParams{}.attack, "max-");
  cmd->callback([o] { run_visualize(*o); });
}

}  // namespace rp::cli
