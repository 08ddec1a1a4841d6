// Direct feature visualization (every seed pushed up each chosen coordinate) and the
// maximizing inputs (from gray, beside the test images that activate the coordinate most and
// least), each model in its own rows: models do not share coordinates.
#include <chrono>

#include "engine/core/error.h"
#include "engine/experiments/report.h"
#include "engine/experiments/study_writer.h"

namespace rp {
namespace {

// The coordinates each model is studied at: the given ones, or drawn for it.
std::vector<std::vector<std::int32_t>> model_coordinates(const StudySetup& s,
                                                         const std::vector<std::int32_t>& given,
                                                         std::int64_t random) {
  std::vector<std::vector<std::int32_t>> out;
  for (std::size_t m = 0; m < s.models.size(); ++m) {
    out.push_back(given.empty() ? draw_coordinates(random, s.models[m].net->representation_size(),
                                                   study_rng(s, StudyStream::Coordinates, m))
                                : given);
  }
  return out;
}

}  // namespace

StudyReport run_visualization_study(const StudySetup& s, const VisualizationStudy& study) {
  const std::string what = "visualize";
  check_study_setup(s, what);
  if (!study.seed_images.empty()) check_indices(s, study.seed_images, what, "--images");
  RP_CHECK(study.noise_seeds >= 0 &&
               study.noise_seeds + static_cast<std::int64_t>(study.seed_images.size()) >= 1,
           what, "needs at least one seed: images or --noise-seeds >= 1");
  RP_CHECK(!study.coordinates.empty() || study.random_coordinates >= 1, what,
           "choose coordinates or a number of random ones >= 1");
  check_coordinates_fit(s, study.coordinates, what);
  check_optimization(study.params.attack, what);
  for (const ModelUnderStudy& m : s.models) {
    const std::int64_t k = study.coordinates.empty()
                               ? std::min(study.random_coordinates, m.net->representation_size())
                               : static_cast<std::int64_t>(study.coordinates.size());
    check_batch((study.noise_seeds + static_cast<std::int64_t>(study.seed_images.size())) * k,
                what);
  }

  StudyWriter out(s, "visualize");
  const NetworkSpec& spec = s.models[0].net->spec();
  HostImages seeds = HostImages::from_dataset(*s.data, study.seed_images);
  seeds.channels = spec.channels;
  seeds.height = spec.image_h;
  seeds.width = spec.image_w;
  const HostImages noise = noise_seeds(study.noise_seeds, spec, study.noise_mean, study.noise_std,
                                       study_rng(s, StudyStream::VisualizationNoise));
  seeds.pixels.insert(seeds.pixels.end(), noise.pixels.begin(), noise.pixels.end());
  seeds.n += noise.n;
  const std::vector<std::vector<std::int32_t>> coords =
      model_coordinates(s, study.coordinates, study.random_coordinates);
  const AttackParams& p = study.params.attack;
  Figure fig = out.figure("Direct feature visualization: maximize R(x)_k from each seed");
  nlohmann::json summary, per_model;
  std::vector<std::string> notes;
  for (std::size_t m = 0; m < s.models.size(); ++m) {
    const ModelUnderStudy& model = s.models[m];
    const auto k_count = static_cast<std::int64_t>(coords[m].size());
    // One batch: seed-major, every coordinate of each seed.
    HostImages batch = seeds;
    batch.n = seeds.n * k_count;
    batch.pixels.clear();
    std::vector<std::int32_t> k;
    for (std::int64_t i = 0; i < seeds.n; ++i) {
      for (std::int32_t c : coords[m]) {
        const std::vector<float> img = seeds.image(i);
        batch.pixels.insert(batch.pixels.end(), img.begin(), img.end());
        k.push_back(c);
      }
    }
    const auto start = std::chrono::steady_clock::now();
    auto progress = out.progress(model, p, batch.n);
    const FeatureResult r =
        visualize(*s.ctx, *model.net, batch, k, study.params,
                  study_rng(s, StudyStream::VisualizationNoise), progress.get());
    const double seconds = seconds_since(start);
    if (progress) progress->finish("");
    for (std::int64_t i = 0; i < seeds.n; ++i) {
      const bool is_image = i < static_cast<std::int64_t>(study.seed_images.size());
      FigureRow row{model.role + "\n" + (is_image ? "image " : "noise ") + std::to_string(i + 1),
                    {}};
      row.cells.push_back({seeds.image(i), "seed", kBlack});
      for (std::int64_t j = 0; j < k_count; ++j) {
        const auto at = static_cast<std::size_t>(i * k_count + j);
        row.cells.push_back({r.results.image(static_cast<std::int64_t>(at)),
                             "k=" + std::to_string(k[at]) + "\n" + fixed(r.value_before[at], 2) +
                                 "\u2192" + fixed(r.value_after[at], 1),
                             kBlack});
      }
      fig.rows.push_back(row);
    }
    summary[model.role] = {{"coordinates", coords[m]},
                           {"value_before", mean(r.value_before)},
                           {"value_after", mean(r.value_after)},
                           {"pixel_moved", mean(r.pixel_moved)}};
    per_model[model.role] = {{"coordinates", k},
                             {"value_before", statistics_json(r.value_before)},
                             {"value_after", statistics_json(r.value_after)},
                             {"pixel_moved", statistics_json(r.pixel_moved)},
                             {"files", out.save_images(r.results, model.role)},
                             {"timing", timing_json(seconds, p, batch.n)}};
    notes.push_back(model.role + ": R(x)_k " + fixed(mean(r.value_before), 2) + " \u2192 " +
                    fixed(mean(r.value_after), 2) + ", pixels moved (L2) " +
                    fixed(mean(r.pixel_moved), 2));
  }
  notes.push_back("Captions: coordinate k, its value at the seed > at the result. L2 eps " +
                  fixed(p.eps, 0) + ", step " + fixed(p.step, 2) + ", " + std::to_string(p.steps) +
                  " iterations, fake-ReLU on the last layer.");
  fig.notes = notes;
  nlohmann::json manifest;
  manifest["images"] = {{"seed_images", study.seed_images},
                        {"noise_seeds", study.noise_seeds},
                        {"seed_files", out.save_images(seeds, "seed")}};
  manifest["parameters"] = {{"attack", attack_json(p)},
                            {"coordinates", study.coordinates},
                            {"random_coordinates", study.random_coordinates},
                            {"noise_mean", study.noise_mean},
                            {"noise_std", study.noise_std}};
  manifest["metrics"] = per_model;
  return out.finish(fig, manifest, summary, "Direct visualization of representation coordinates",
                    "Each row starts from a seed (a test image or noise) and each column pushes "
                    "one coordinate k of the representation up by gradient ascent on the pixels. "
                    "For a robust model the coordinates grow visible, consistent patterns; for a "
                    "standard model they change the pixels in ways a person cannot see as a "
                    "feature.");
}

StudyReport run_maximizing_inputs_study(const StudySetup& s, const MaximizingInputsStudy& study) {
  const std::string what = "maximizing inputs";
  check_study_setup(s, what);
  RP_CHECK(!study.coordinates.empty() || study.random_coordinates >= 1, what,
           "choose coordinates or a number of random ones >= 1");
  check_coordinates_fit(s, study.coordinates, what);
  check_optimization(study.params.attack, what);
  RP_CHECK(study.params.top >= 1 && study.params.top <= s.data->size(), what,
           "--top must be in [1, " << s.data->size() << "], found " << study.params.top);
  check_batch(study.coordinates.empty() ? study.random_coordinates
                                        : static_cast<std::int64_t>(study.coordinates.size()),
              what);

  StudyWriter out(s, "maximizing");
  const std::vector<std::vector<std::int32_t>> coords =
      model_coordinates(s, study.coordinates, study.random_coordinates);
  const AttackParams& p = study.params.attack;
  Figure fig = out.figure(
      "Maximizing inputs: R(x)_k maximized from gray, and the test images "
      "ranked by R(x)_k");
  nlohmann::json summary, per_model;
  std::vector<std::string> notes;
  for (std::size_t m = 0; m < s.models.size(); ++m) {
    const ModelUnderStudy& model = s.models[m];
    const auto start = std::chrono::steady_clock::now();
    auto progress = out.progress(model, p, static_cast<std::int64_t>(coords[m].size()));
    const MaximizingInputsResult r =
        maximizing_inputs(*s.ctx, *model.net, *s.data, coords[m], study.params,
                          study_rng(s, StudyStream::VisualizationNoise), progress.get());
    const double seconds = seconds_since(start);
    if (progress) progress->finish("");
    nlohmann::json ranked = nlohmann::json::array();
    for (std::size_t j = 0; j < coords[m].size(); ++j) {
      FigureRow row{model.role + "\nk=" + std::to_string(coords[m][j]), {}};
      row.cells.push_back({r.optimized.results.image(static_cast<std::int64_t>(j)),
                           "from gray\n" + fixed(r.optimized.value_after[j], 2), kBlack});
      const auto add = [&](const std::vector<std::int64_t>& idx, const std::vector<double>& v,
                           const std::string& tag) {
        for (std::size_t t = 0; t < idx.size(); ++t) {
          const HostImages img = HostImages::from_dataset(*s.data, {idx[t]});
          row.cells.push_back({img.pixels,
                               tag + std::to_string(t + 1) + " " +
                                   s.class_names[static_cast<std::size_t>(
                                       s.data->labels[static_cast<std::size_t>(idx[t])])] +
                                   "\n" + fixed(v[t], 2),
                               kBlack});
        }
      };
      add(r.top[j], r.top_values[j], "top");
      add(r.bottom[j], r.bottom_values[j], "low");
      fig.rows.push_back(row);
      ranked.push_back({{"coordinate", coords[m][j]},
                        {"top", r.top[j]},
                        {"top_values", r.top_values[j]},
                        {"bottom", r.bottom[j]},
                        {"bottom_values", r.bottom_values[j]}});
    }
    summary[model.role] = {{"coordinates", coords[m]},
                           {"value_before", mean(r.optimized.value_before)},
                           {"value_after", mean(r.optimized.value_after)},
                           {"pixel_moved", mean(r.optimized.pixel_moved)}};
    per_model[model.role] = {{"value_before", statistics_json(r.optimized.value_before)},
                             {"value_after", statistics_json(r.optimized.value_after)},
                             {"pixel_moved", statistics_json(r.optimized.pixel_moved)},
                             {"ranked_images", ranked},
                             {"files", out.save_images(r.optimized.results, model.role)},
                             {"timing", timing_json(seconds, p, r.optimized.results.n)}};
    notes.push_back(model.role + ": R(x)_k " + fixed(mean(r.optimized.value_before), 2) +
                    " at gray -> " + fixed(mean(r.optimized.value_after), 2) +
                    ", pixels moved (L2) " + fixed(mean(r.optimized.pixel_moved), 2));
  }
  notes.push_back("top: the " + s.split +
                  " images with the largest R(x)_k, low: the smallest. L2 eps " + fixed(p.eps, 0) +
                  ", step " + fixed(p.step, 2) + ", " + std::to_string(p.steps) + " iterations, " +
                  (p.use_best ? "best" : "last") + " iterate kept.");
  fig.notes = notes;
  nlohmann::json manifest;
  manifest["parameters"] = {{"attack", attack_json(p)},
                            {"gray", study.params.gray},
                            {"top", study.params.top},
                            {"coordinates", study.coordinates},
                            {"random_coordinates", study.random_coordinates}};
  manifest["metrics"] = per_model;
  return out.finish(fig, manifest, summary, "Maximizing inputs of representation coordinates",
                    "Each row: the image gradient ascent finds from plain gray for one "
                    "coordinate k, then the test images that activate k the most and the least. "
                    "For a robust model the synthesized image shows what the top images share.");
}

}  // namespace rp
