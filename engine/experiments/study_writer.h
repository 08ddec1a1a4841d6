// What every study shares when it reports: the output files (figure, raw images, manifest),
// the manifest's common parts, per-model progress lines and number formatting for captions.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/experiments/report.h"
#include "engine/figures/grid.h"
#include "engine/train/progress.h"

namespace rp {

nlohmann::json attack_json(const AttackParams& p);
nlohmann::json statistics_json(const std::vector<double>& v);  // mean, min, max, values
std::string fixed(double v, int digits);                       // "0.123"
// One model's optimization time: seconds, batch, iterations and iterations/s.
nlohmann::json timing_json(double seconds, const AttackParams& p, std::int64_t batch);
double seconds_since(std::chrono::steady_clock::time_point t);

// Seeds and coordinates drawn for a study come from these streams (RngPurpose::Experiment).
enum class StudyStream : std::uint64_t {
  InversionNoise = 0,
  VisualizationNoise = 1,
  Coordinates = 16,  // + model index
};
RngStream study_rng(const StudySetup& s, StudyStream which, std::uint64_t model = 0);

// `count` distinct coordinates of [0, size), drawn from the rng (all of them, in order, when
// count >= size).
std::vector<std::int32_t> draw_coordinates(std::int64_t count, std::int64_t size, RngStream rng);

class StudyWriter {
 public:
  // Creates out_dir and out_dir/<name>/.
  StudyWriter(const StudySetup& s, std::string name);

  // A figure whose geometry fits the data (channels, size, scale).
  Figure figure(const std::string& title) const;
  // Raw images: <name>/<prefix>_<i>.png for each image of the batch; returns the paths
  // relative to out_dir.
  std::vector<std::string> save_images(const HostImages& images, const std::string& prefix);
  // The figure, then the manifest (the common fields added); returns the report.
  StudyReport finish(const Figure& fig, nlohmann::json manifest, nlohmann::json summary,
                     std::string title, std::string caption);

  // Progress of one model's optimization, when enabled.
  std::unique_ptr<Progress> progress(const ModelUnderStudy& m, const AttackParams& p,
                                     std::int64_t batch) const;

 private:
  const StudySetup& s_;
  std::string name_;
  std::vector<std::string> files_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace rp
