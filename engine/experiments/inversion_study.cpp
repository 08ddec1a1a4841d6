// Inversion, laid out as the paper's figure: targets, seeds, then each model's inversion.
#include <chrono>

#include "engine/core/error.h"
#include "engine/experiments/report.h"
#include "engine/experiments/study_writer.h"

namespace rp {

StudyReport run_inversion_study(const StudySetup& s, const InversionStudy& study) {
  const std::string what = "invert";
  check_study_setup(s, what);
  check_indices(s, study.targets, what, "--images");
  check_batch(static_cast<std::int64_t>(study.targets.size()), what);
  check_optimization(study.params.attack, what);
  const bool from_sources = !study.sources.empty();
  if (from_sources) {
    check_indices(s, study.sources, what, "--sources");
    RP_CHECK(study.sources.size() == study.targets.size(), what,
             study.sources.size() << " source images for " << study.targets.size() << " targets");
  }

  StudyWriter out(s, "invert");
  const HostImages targets = HostImages::from_dataset(*s.data, study.targets);
  std::vector<std::int32_t> labels;
  for (std::int64_t i : study.targets)
    labels.push_back(s.data->labels[static_cast<std::size_t>(i)]);
  const HostImages seeds =
      from_sources ? HostImages::from_dataset(*s.data, study.sources)
                   : noise_seeds(targets.n, s.models[0].net->spec(), study.params.noise_mean,
                                 study.params.noise_std, study_rng(s, StudyStream::InversionNoise));
  const AttackParams& p = study.params.attack;
  Figure fig =
      out.figure("Representation inversion: minimize ||R(x) - R(target)|| / ||R(target)||");
  FigureRow target_row{"target", {}}, seed_row{from_sources ? "source" : "seed", {}};
  for (std::int64_t i = 0; i < targets.n; ++i) {
    target_row.cells.push_back(
        {targets.image(i),
         s.class_names[static_cast<std::size_t>(labels[static_cast<std::size_t>(i)])], kBlack});
    seed_row.cells.push_back({seeds.image(i), from_sources ? "source" : "noise", kBlack});
  }
  fig.rows = {target_row, seed_row};
  nlohmann::json manifest, summary, per_model;
  manifest["images"] = {{"targets", study.targets},
                        {"target_files", out.save_images(targets, "target")},
                        {"seed", from_sources ? "source images" : "noise"},
                        {"sources", study.sources},
                        {"seed_files", out.save_images(seeds, "seed")}};
  std::vector<std::string> notes;
  for (std::size_t m = 0; m < s.models.size(); ++m) {
    const ModelUnderStudy& model = s.models[m];
    const auto start = std::chrono::steady_clock::now();
    auto progress = out.progress(model, p, targets.n);
    const InversionResult r = invert(*s.ctx, *model.net, targets, labels, seeds, study.params,
                                     study_rng(s, StudyStream::InversionNoise), progress.get());
    const double seconds = seconds_since(start);
    if (progress) progress->finish("");
    FigureRow row{model.role, {}};
    int hits = 0;
    for (std::int64_t i = 0; i < targets.n; ++i) {
      const auto at = static_cast<std::size_t>(i);
      hits += r.classified_as_target[at];
      row.cells.push_back({r.results.image(i),
                           "rep " + fixed(r.representation_distance[at], 3) + "\nL2 " +
                               fixed(r.pixel_distance[at], 2) + "\n" +
                               s.class_names[static_cast<std::size_t>(r.predicted[at])],
                           r.classified_as_target[at] ? kGreen : kRed});
    }
    fig.rows.push_back(row);
    std::vector<std::string> predicted;
    for (std::int32_t c : r.predicted)
      predicted.push_back(s.class_names[static_cast<std::size_t>(c)]);
    const double hit_rate = static_cast<double>(hits) / static_cast<double>(targets.n);
    summary[model.role] = {{"representation_distance", mean(r.representation_distance)},
                           {"start_representation_distance", mean(r.start_distance)},
                           {"pixel_distance", mean(r.pixel_distance)},
                           {"classified_as_target", hit_rate}};
    per_model[model.role] = {
        {"representation_distance", statistics_json(r.representation_distance)},
        {"start_representation_distance", statistics_json(r.start_distance)},
        {"pixel_distance", statistics_json(r.pixel_distance)},
        {"predicted", predicted},
        {"classified_as_target", r.classified_as_target},
        {"files", out.save_images(r.results, model.role)},
        {"timing", timing_json(seconds, p, targets.n)}};
    notes.push_back(model.role + ": representation distance " + fixed(mean(r.start_distance), 3) +
                    " \u2192 " + fixed(mean(r.representation_distance), 3) +
                    ", pixel L2 to target " + fixed(mean(r.pixel_distance), 2) + ", " +
                    std::to_string(hits) + "/" + std::to_string(targets.n) +
                    " classified as the target's class");
  }
  notes.push_back("L2 eps " + fixed(p.eps, 0) + ", step " + fixed(p.step, 2) + ", " +
                  std::to_string(p.steps) + " iterations. Captions: representation distance, " +
                  "pixel L2 to target, predicted class (green: the target's).");
  fig.notes = notes;
  manifest["parameters"] = {{"attack", attack_json(p)},
                            {"noise_mean", study.params.noise_mean},
                            {"noise_std", study.params.noise_std}};
  manifest["metrics"] = per_model;
  return out.finish(fig, manifest, summary, "Inversion of the representation",
                    std::string("Each column: a target image, the seed the optimization starts "
                                "from (") +
                        (from_sources ? "another image" : "noise") +
                        "), and the image each model's gradient descent finds whose "
                        "representation matches the target's. A robust model's inversions look "
                        "like their targets; a standard model's do not, though both match the "
                        "representation.");
}

}  // namespace rp
