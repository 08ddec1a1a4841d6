// Feature addition, laid out as the paper's figure: the originals, then each model's result of
// pushing coordinate k up to tau; with the feature sources shown when they chose k.
#include <algorithm>
#include <chrono>
#include <numeric>

#include "engine/core/error.h"
#include "engine/experiments/report.h"
#include "engine/experiments/study_writer.h"

namespace rp {

StudyReport run_manipulation_study(const StudySetup& s, const ManipulationStudy& study) {
  const std::string what = "manipulate";
  check_study_setup(s, what);
  check_indices(s, study.images, what, "--images");
  check_batch(static_cast<std::int64_t>(study.images.size()), what);
  const bool chosen = study.coordinate < 0;
  RP_CHECK(!study.tau_from_sources || !study.feature_sources.empty(), what,
           "tau from the feature sources needs feature sources");
  if (chosen || !study.feature_sources.empty()) {
    check_indices(s, study.feature_sources, what, "--feature-sources");
  }
  if (chosen) {
    RP_CHECK(study.reference_images >= 2, what,
             "needs at least 2 reference images, found " << study.reference_images);
  } else {
    check_coordinates_fit(s, {study.coordinate}, what);
  }
  check_optimization(study.params.attack, what);
  RP_CHECK(std::isfinite(study.params.tau), what, "--tau must be finite");

  StudyWriter out(s, "manipulate");
  const HostImages images = HostImages::from_dataset(*s.data, study.images);
  const AttackParams& p = study.params.attack;
  Figure fig = out.figure("Feature addition: maximize min(R(x)_k - tau, 0) from each image, tau " +
                          (study.tau_from_sources ? std::string("the feature sources' mean R(x)_k")
                                                  : fixed(study.params.tau, 2)));
  nlohmann::json manifest, summary, per_model;
  std::vector<std::string> notes;
  if (chosen) {
    const HostImages sources = HostImages::from_dataset(*s.data, study.feature_sources);
    FigureRow row{"feature\nsources", {}};
    for (std::int64_t i = 0; i < std::min<std::int64_t>(sources.n, images.n); ++i) {
      row.cells.push_back(
          {sources.image(i),
           s.class_names[static_cast<std::size_t>(s.data->labels[static_cast<std::size_t>(
               study.feature_sources[static_cast<std::size_t>(i)])])],
           kBlack});
    }
    fig.rows.push_back(row);
    manifest["feature_sources"] = study.feature_sources;
  }
  FigureRow original{"original", {}};
  for (std::int64_t i = 0; i < images.n; ++i) {
    original.cells.push_back(
        {images.image(i),
         s.class_names[static_cast<std::size_t>(
             s.data->labels[static_cast<std::size_t>(study.images[static_cast<std::size_t>(i)])])],
         kBlack});
  }
  fig.rows.push_back(original);
  // The reference data feature sources are compared with: the first images of the split.
  const Dataset reference = chosen ? take(*s.data, study.reference_images) : Dataset{};
  for (std::size_t m = 0; m < s.models.size(); ++m) {
    const ModelUnderStudy& model = s.models[m];
    const std::int32_t k =
        chosen ? most_activated_coordinate(*s.ctx, *model.net,
                                           HostImages::from_dataset(*s.data, study.feature_sources),
                                           reference)
               : study.coordinate;
    ManipulationParams params = study.params;
    if (study.tau_from_sources) {
      const HostImages sources = HostImages::from_dataset(*s.data, study.feature_sources);
      const std::vector<double> reps = host_doubles(representations(
          *s.ctx, *model.net, sources.to_tensor(s.ctx->device(), model.net->spec().dtype)));
      double sum = 0;
      for (std::int64_t i = 0; i < sources.n; ++i)
        sum += reps[static_cast<std::size_t>(i * model.net->representation_size() + k)];
      params.tau = sum / static_cast<double>(sources.n);
    }
    const auto start = std::chrono::steady_clock::now();
    auto progress = out.progress(model, p, images.n);
    const FeatureResult r =
        add_feature(*s.ctx, *model.net, images, k, params,
                    study_rng(s, StudyStream::VisualizationNoise), progress.get());
    const double seconds = seconds_since(start);
    if (progress) progress->finish("");
    FigureRow row{model.role + "\nk=" + std::to_string(k), {}};
    int reached = 0;
    for (std::int64_t i = 0; i < images.n; ++i) {
      const auto at = static_cast<std::size_t>(i);
      reached += r.value_after[at] >= params.tau - 1e-6;
      row.cells.push_back({r.results.image(i),
                           fixed(r.value_before[at], 2) + "\u2192" + fixed(r.value_after[at], 2) +
                               "\nL2 " + fixed(r.pixel_moved[at], 2),
                           kBlack});
    }
    fig.rows.push_back(row);
    const double reached_rate = static_cast<double>(reached) / static_cast<double>(images.n);
    summary[model.role] = {{"coordinate", k},
                           {"tau", params.tau},
                           {"value_before", mean(r.value_before)},
                           {"value_after", mean(r.value_after)},
                           {"reached_tau", reached_rate},
                           {"pixel_moved", mean(r.pixel_moved)}};
    per_model[model.role] = {{"coordinate", k},
                             {"tau", params.tau},
                             {"value_before", statistics_json(r.value_before)},
                             {"value_after", statistics_json(r.value_after)},
                             {"pixel_moved", statistics_json(r.pixel_moved)},
                             {"files", out.save_images(r.results, model.role)},
                             {"timing", timing_json(seconds, p, images.n)}};
    notes.push_back(model.role + " (k=" + std::to_string(k) + ", tau " + fixed(params.tau, 2) +
                    "): R(x)_k " + fixed(mean(r.value_before), 2) + " \u2192 " +
                    fixed(mean(r.value_after), 2) + ", " + std::to_string(reached) + "/" +
                    std::to_string(images.n) + " reached tau, pixels moved (L2) " +
                    fixed(mean(r.pixel_moved), 2));
  }
  notes.push_back(std::string(chosen ? "k: the coordinate the feature sources activate most "
                                       "relative to the data. "
                                     : "") +
                  "Captions: R(x)_k before \u2192 after, pixel L2 moved. L2 eps " +
                  fixed(p.eps, 0) + ", step " + fixed(p.step, 2) + ", " + std::to_string(p.steps) +
                  " iterations, " + (p.use_best ? "best" : "last") + " iterate kept.");
  fig.notes = notes;
  manifest["images"] = {{"images", study.images},
                        {"original_files", out.save_images(images, "original")}};
  manifest["parameters"] = {{"attack", attack_json(p)},
                            {"tau", study.tau_from_sources ? nlohmann::json("feature sources' mean")
                                                           : nlohmann::json(study.params.tau)},
                            {"coordinate", study.coordinate},
                            {"reference_images", chosen ? reference.size() : 0}};
  manifest["metrics"] = per_model;
  return out.finish(fig, manifest, summary, "Adding a feature to images",
                    "Each column: an image, and each model's result of pushing one coordinate k "
                    "of its representation up to tau by gradient ascent on the pixels" +
                        std::string(chosen ? " (k: the coordinate most activated by the feature "
                                             "sources)"
                                           : "") +
                        ". A robust model adds the feature visibly; a standard model reaches "
                        "the same value with changes a person cannot see.");
}

}  // namespace rp
