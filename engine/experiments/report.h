// The four experiments as studies of one or more models side by side (the paper compares a
// robust and a standard model): each study runs its experiment for every model on the same
// images and writes, into one output directory,
//   <name>.pdf    a labelled figure laid out like the paper's (rows: sources, targets, each
//   <name>.svg    model's results; columns: examples), metrics in the captions: PDF and SVG
//   <name>.png    with vector text, PNG at StudySetup::dpi
//   <name>/       the raw images, one PNG per image at the data's resolution
//   <name>.json   the manifest: every parameter, the data and images used, the checkpoints,
//                 per-image and mean metrics for each model, timings, the files written
// Arguments are checked for every model before any work starts.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "engine/experiments/experiments.h"

namespace rp {

struct ModelUnderStudy {
  std::string role;        // the row label: "robust", "standard" ...
  std::string checkpoint;  // where it came from (the manifest records it)
  Network* net = nullptr;
  nlohmann::json info = nlohmann::json::object();  // the checkpoint's summary, for the manifest
};

struct StudySetup {
  Context* ctx = nullptr;
  std::vector<ModelUnderStudy> models;
  const Dataset* data = nullptr;  // the split the images come from
  std::string split = "test";
  std::vector<std::string> class_names;
  std::string out_dir;
  std::uint64_t seed = 0;  // noise seeds and random coordinates
  std::int64_t scale = 3;  // figure points per image pixel
  double dpi = 144;        // the figure PNG's resolution
  bool progress = true;    // progress lines on stderr
};

struct StudyReport {
  std::string name;     // invert, interpolate, visualize, maximizing, manipulate
  std::string title;    // one line
  std::string caption;  // what the figure shows and how to read it (index.html)
  std::string figure;   // path of the PNG
  std::string figure_pdf, figure_svg;
  std::string manifest;    // path of the JSON
  nlohmann::json summary;  // per model: the mean metrics
  double seconds = 0;
};

struct InversionStudy {
  std::vector<std::int64_t> targets;  // dataset indices
  std::vector<std::int64_t> sources;  // empty: noise seeds; else one source image per target
  InversionParams params;
};
StudyReport run_inversion_study(const StudySetup& s, const InversionStudy& study);

struct InterpolationStudy {
  std::vector<std::pair<std::int64_t, std::int64_t>> pairs;  // dataset indices (left, right)
  InterpolationParams params;
};
StudyReport run_interpolation_study(const StudySetup& s, const InterpolationStudy& study);

struct VisualizationStudy {
  std::vector<std::int64_t> seed_images;  // dataset indices
  std::int64_t noise_seeds = 2;           // N(0.5, 0.05^2) seeds besides the images
  std::vector<std::int32_t> coordinates;  // empty: `random_coordinates` drawn per model
  std::int64_t random_coordinates = 5;
  double noise_mean = 0.5, noise_std = 0.05;
  VisualizationParams params;
};
// Every seed for every coordinate, as one batch per model.
StudyReport run_visualization_study(const StudySetup& s, const VisualizationStudy& study);

struct MaximizingInputsStudy {
  std::vector<std::int32_t> coordinates;  // empty: `random_coordinates` drawn per model
  std::int64_t random_coordinates = 1;
  MaximizingInputsParams params;
};
StudyReport run_maximizing_inputs_study(const StudySetup& s, const MaximizingInputsStudy& study);

struct ManipulationStudy {
  std::vector<std::int64_t> images;  // dataset indices
  std::int32_t coordinate = -1;      // -1: per model, the one the feature sources activate most
  std::vector<std::int64_t> feature_sources;  // dataset indices (with coordinate -1)
  std::int64_t reference_images = 1000;       // the data the sources are compared with
  // Push k up to the mean value the feature sources give it (per model) rather than to
  // params.tau: the authors' tau = 1 suits their ResNet-50's scale, not every model's.
  bool tau_from_sources = false;
  ManipulationParams params;
};
StudyReport run_manipulation_study(const StudySetup& s, const ManipulationStudy& study);

// Checks shared by the studies and the CLI (throw rp::Error naming `what`).
void check_study_setup(const StudySetup& s, const std::string& what);
// Every study solves its images as one batch: at most this many.
constexpr std::int64_t kMaxStudyBatch = 4096;
void check_batch(std::int64_t n, const std::string& what);
// The attack's parameters (validate) and at least one iteration.
void check_optimization(const AttackParams& p, const std::string& what);
void check_indices(const StudySetup& s, const std::vector<std::int64_t>& idx,
                   const std::string& what, const std::string& flag);
void check_coordinates_fit(const StudySetup& s, const std::vector<std::int32_t>& k,
                           const std::string& what);

}  // namespace rp
