// Interpolation, laid out as the paper's figure: per pair, the pixel blend, then each model's
// path through representation space, frames left to right.
#include <chrono>

#include "engine/core/error.h"
#include "engine/experiments/report.h"
#include "engine/experiments/study_writer.h"

namespace rp {

StudyReport run_interpolation_study(const StudySetup& s, const InterpolationStudy& study) {
  const std::string what = "interpolate";
  check_study_setup(s, what);
  RP_CHECK(!study.pairs.empty(), what, "--pairs: no image pairs chosen");
  std::vector<std::int64_t> left_idx, right_idx;
  for (const auto& [l, r] : study.pairs) {
    left_idx.push_back(l);
    right_idx.push_back(r);
  }
  check_indices(s, left_idx, what, "--pairs");
  check_indices(s, right_idx, what, "--pairs");
  check_batch(static_cast<std::int64_t>(study.pairs.size()) *
                  std::max<std::int64_t>(study.params.frames, 1),
              what);
  check_optimization(study.params.attack, what);
  RP_CHECK(study.params.frames >= 2 && study.params.frames <= 64, what,
           "--frames must be in [2, 64], found " << study.params.frames);

  StudyWriter out(s, "interpolate");
  const HostImages left = HostImages::from_dataset(*s.data, left_idx);
  const HostImages right = HostImages::from_dataset(*s.data, right_idx);
  const AttackParams& p = study.params.attack;
  const std::int64_t frames = study.params.frames, pairs = left.n;
  Figure fig = out.figure("Interpolation: targets (1 - l) R(left) + l R(right), from pixel blends");
  std::vector<InterpolationResult> results;
  nlohmann::json summary, per_model;
  std::vector<std::string> notes;
  for (const ModelUnderStudy& model : s.models) {
    const auto start = std::chrono::steady_clock::now();
    auto progress = out.progress(model, p, pairs * frames);
    results.push_back(interpolate(*s.ctx, *model.net, left, right, study.params,
                                  study_rng(s, StudyStream::InversionNoise), progress.get()));
    const double seconds = seconds_since(start);
    if (progress) progress->finish("");
    const InterpolationResult& r = results.back();
    const double path = mean(r.path_step), blend = mean(r.blend_step);
    summary[model.role] = {{"path_step", path},
                           {"blend_step", blend},
                           {"path_to_blend", blend > 0 ? path / blend : 0.0},
                           {"representation_distance", mean(r.representation_distance)}};
    per_model[model.role] = {
        {"path_step", statistics_json(r.path_step)},
        {"blend_step", statistics_json(r.blend_step)},
        {"representation_distance", statistics_json(r.representation_distance)},
        {"files", out.save_images(r.results, model.role)},
        {"timing", timing_json(seconds, p, pairs * frames)}};
    notes.push_back(model.role + ": mean step between frames " + fixed(path, 2) +
                    " (the pixel blend's: " + fixed(blend, 2) + ", ratio " +
                    fixed(blend > 0 ? path / blend : 0.0, 2) + "), representation distance " +
                    fixed(mean(r.representation_distance), 3));
  }
  const HostImages& blends = results.front().blends;
  for (std::int64_t pair = 0; pair < pairs; ++pair) {
    FigureRow blend_row{"blend " + std::to_string(pair + 1), {}};
    for (std::int64_t j = 0; j < frames; ++j) {
      const double lambda = static_cast<double>(j) / static_cast<double>(frames - 1);
      blend_row.cells.push_back({blends.image(pair * frames + j), "l=" + fixed(lambda, 2), kBlack});
    }
    fig.rows.push_back(blend_row);
    for (std::size_t m = 0; m < s.models.size(); ++m) {
      FigureRow row{s.models[m].role, {}};
      for (std::int64_t j = 0; j < frames; ++j) {
        const std::int64_t at = pair * frames + j;
        row.cells.push_back(
            {results[m].results.image(at),
             "rep " + fixed(results[m].representation_distance[static_cast<std::size_t>(at)], 3),
             kBlack});
      }
      fig.rows.push_back(row);
    }
  }
  notes.push_back("Smoothness: mean pixel L2 between consecutive frames. L2 eps " +
                  fixed(p.eps, 0) + ", step " + fixed(p.step, 2) + ", " + std::to_string(p.steps) +
                  " iterations, " + (p.use_best ? "best" : "last") + " iterate kept.");
  fig.notes = notes;
  nlohmann::json pair_json = nlohmann::json::array();
  for (const auto& [l, r] : study.pairs) pair_json.push_back({l, r});
  nlohmann::json manifest;
  manifest["images"] = {
      {"pairs", pair_json}, {"frames", frames}, {"blend_files", out.save_images(blends, "blend")}};
  manifest["parameters"] = {{"attack", attack_json(p)}, {"frames", frames}};
  manifest["metrics"] = per_model;
  return out.finish(fig, manifest, summary, "Interpolation between images",
                    "For each pair, the top row blends the two images pixel by pixel; below it, "
                    "each model's frames match the linear interpolation of the two "
                    "representations, starting from those blends. A robust model's path moves "
                    "through images that look like intermediate objects; a standard model's "
                    "stays close to the blend.");
}

}  // namespace rp
