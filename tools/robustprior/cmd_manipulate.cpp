// robustprior manipulate: add a feature (a representation coordinate) to images.
#include <CLI/CLI.hpp>
#include <memory>

#include "engine/core/amount.h"
#include "engine/core/error.h"
#include "tools/robustprior/commands.h"
#include "tools/robustprior/experiment_session.h"
#include "tools/robustprior/study_output.h"

namespace rp::cli {
namespace {

struct ManipulateOptions {
  ExperimentOptions session;
  OptimizationFlags optimization;
  std::string images, feature_class, feature_sources;
  std::int64_t count = 10, feature_count = 20, reference_images = 1000;
  std::int64_t coordinate = -1;
  std::string tau = "1";
};

void run_manipulate(const ManipulateOptions& o) {
  ManipulationStudy study;
  study.params.attack = o.optimization.params("manipulate");
  study.tau_from_sources = o.tau == "sources";
  if (!study.tau_from_sources) study.params.tau = parse_amount(o.tau, "manipulate: --tau");
  study.reference_images = o.reference_images;
  RP_CHECK(o.count >= 1, "manipulate", "--count must be >= 1, found " << o.count);
  RP_CHECK(o.feature_count >= 1, "manipulate",
           "--feature-count must be >= 1, found " << o.feature_count);
  RP_CHECK(o.reference_images >= 2, "manipulate",
           "--reference-images must be >= 2, found " << o.reference_images);

  const int ways = (o.coordinate >= 0) + !o.feature_class.empty() + !o.feature_sources.empty();
  RP_CHECK(ways <= 1, "manipulate",
           "choose the feature one way: --coordinate, --feature-class or --feature-sources");
  RP_CHECK(!study.tau_from_sources || o.coordinate < 0, "manipulate",
           "--tau sources needs feature sources, not --coordinate");
  RP_CHECK(o.coordinate >= -1 && o.coordinate < (1ll << 31), "manipulate",
           "--coordinate must be >= 0, found " << o.coordinate);
  const auto session = open_experiment(o.session, "manipulate");
  const Dataset& data = session->data;
  std::int32_t source_class = -1;
  if (o.coordinate >= 0) {
    study.coordinate = static_cast<std::int32_t>(o.coordinate);
    check_coordinates_fit(session->setup, {study.coordinate}, "manipulate");
  } else if (!o.feature_sources.empty()) {
    study.feature_sources = parse_indices(o.feature_sources, "manipulate", "--feature-sources");
  } else {
    // By default the feature of the first class, added to images of the others.
    source_class = o.feature_class.empty() ? 0
                                           : class_index(o.feature_class, data.classes,
                                                         "manipulate", "--feature-class");
    study.feature_sources = images_of_class(data, source_class, o.feature_count);
    RP_CHECK(!study.feature_sources.empty(), "manipulate",
             "the " << session->setup.split << " split holds no image of class '"
                    << data.classes[static_cast<std::size_t>(source_class)] << "'");
  }
  study.images = o.images.empty() ? one_per_class(data, o.count, source_class)
                                  : parse_indices(o.images, "manipulate", "--images");
  print_report(run_manipulation_study(session->setup, study));
}

}  // namespace

void add_manipulate_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "manipulate", "Add a feature to images: push one coordinate of R(x) up to tau");
  auto o = std::make_shared<ManipulateOptions>();
  o->session.add_to(cmd, "out/manipulate");
  o->optimization.add_to(cmd, ManipulationParams{}.attack);
  cmd->add_option("--images", o->images,
                  "image indices (default: one per class, not the feature's class)");
  cmd->add_option("--count", o->count, "without --images: this many images")->capture_default_str();
  cmd->add_option("--coordinate", o->coordinate, "the coordinate k of R(x) to add");
  cmd->add_option("--feature-class", o->feature_class,
                  "k: the coordinate this class's images activate most (default: the first "
                  "class)");
  cmd->add_option("--feature-sources", o->feature_sources,
                  "k: the coordinate these images activate most");
  cmd->add_option("--feature-count", o->feature_count, "--feature-class: how many of its images")
      ->capture_default_str();
  cmd->add_option("--reference-images", o->reference_images,
                  "images the feature sources are compared with")
      ->capture_default_str();
  cmd->add_option("--tau", o->tau,
                  "the value k is pushed up to, or 'sources': the feature sources' mean value of k")
      ->capture_default_str();
  cmd->callback([o] { run_manipulate(*o); });
}

}  // namespace rp::cli
