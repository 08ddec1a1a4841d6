// robustprior demo: the paper in one command. Trains a standard and an L2-robust ResNet (or
// takes two checkpoints), measures both under attack, runs the four representation
// experiments for both, and writes the figures and an index.html into --out.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <sstream>

#include "engine/adv/robust_eval.h"
#include "engine/core/error.h"
#include "engine/core/files.h"
#include "engine/core/rng_streams.h"
#include "engine/data/loader.h"
#include "engine/experiments/html_index.h"
#include "engine/figures/figure_files.h"
#include "engine/figures/run_plots.h"
#include "engine/train/progress.h"
#include "tools/robustprior/commands.h"
#include "tools/robustprior/demo_plan.h"
#include "tools/robustprior/experiment_session.h"
#include "tools/robustprior/study_output.h"
#include "tools/robustprior/training_run.h"

namespace rp::cli {
namespace {

struct DemoOptions {
  std::string out = "out/demo", data = "synthetic", checkpoints, size = "auto", device = "cpu";
  std::int64_t threads = 0, scale = 3;
  double dpi = kDefaultDpi;
  std::int64_t max_iterations = 0;  // 0: the size's own counts
  std::uint64_t seed = 0;
  bool quiet = false, tf32 = false;
};

// "robust.safetensors,standard.safetensors"
std::pair<std::string, std::string> parse_checkpoints(const std::string& text) {
  const std::size_t comma = text.find(',');
  RP_CHECK(
      comma != std::string::npos && comma > 0 && comma + 1 < text.size() &&
          text.find(',', comma + 1) == std::string::npos,
      "demo",
      "--checkpoints: expected ROBUST.safetensors,STANDARD.safetensors, found '" << text << "'");
  std::pair<std::string, std::string> p{text.substr(0, comma), text.substr(comma + 1)};
  for (const std::string& path : {p.first, p.second}) {
    RP_CHECK(std::filesystem::is_regular_file(path), "demo",
             "--checkpoints: no checkpoint file at '" << path << "'");
  }
  return p;
}

std::string percent(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", 100 * v);
  return buf;
}

void stage(bool quiet, int n, int total, const std::string& what) {
  if (!quiet) std::fprintf(stderr, "[%d/%d] %s\n", n, total, what.c_str());
}

void run_demo(const DemoOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  const DemoData data = parse_demo_data(o.data);
  const Device device = Device::parse(o.device);
  const std::string size = o.size != "auto" ? o.size : device.is_cuda() ? "gpu" : "cpu";
  RP_CHECK(o.threads >= 0, "demo", "--threads must be >= 0, found " << o.threads);
  RP_CHECK(o.scale >= 1 && o.scale <= 16, "demo", "--scale must be in [1, 16], found " << o.scale);
  RP_CHECK(o.dpi >= kMinDpi && o.dpi <= kMaxDpi, "demo",
           "--dpi must be in [" << kMinDpi << ", " << kMaxDpi << "], found " << o.dpi);
  DemoPlan plan = demo_plan(size, data, o.out, o.seed, o.device, o.threads);
  if (o.max_iterations != 0) cap_iterations(plan, o.max_iterations);
  plan.standard.tf32 = plan.robust.tf32 = o.tf32;
  std::optional<std::pair<std::string, std::string>> given;
  if (!o.checkpoints.empty()) given = parse_checkpoints(o.checkpoints);
  if (data.kind != "synthetic") {
    RP_CHECK(std::filesystem::is_directory(data.dir), "demo",
             "--data: no directory at '" << data.dir << "'");
  }
  validate(plan.standard);
  validate(plan.robust);
  if (data.kind == "synthetic" && size != "tiny" && !given && !o.quiet) {
    std::fprintf(stderr,
                 "note: on the synthetic data the robust model's inversions come only 5-10%% "
                 "closer to their targets than the standard model's; on real images the "
                 "effect is plain (tools/fetch_cifar10.sh, then --data "
                 "cifar10:data/cifar-10-batches-bin)\n");
  }
  const int stages = (given ? 0 : 2) + 7;
  int at = 0;

  std::string robust_path, standard_path;
  if (given) {
    std::tie(robust_path, standard_path) = *given;
  } else {
    for (TrainConfig* cfg : {&plan.standard, &plan.robust}) {
      const bool robust = cfg == &plan.robust;
      stage(o.quiet, ++at, stages,
            robust ? "training the robust model (PGD-" + std::to_string(cfg->attack_steps) +
                         ", L2 eps " + cfg->eps.text + ") into " + cfg->out
                   : "training the standard model into " + cfg->out);
      // The demo's own earlier models there are replaced.
      const TrainingOutcome t = run_training(*cfg, std::nullopt, !o.quiet, true);
      (robust ? robust_path : standard_path) = t.latest;
    }
  }

  ExperimentOptions eo;
  eo.robust = robust_path;
  eo.standard = standard_path;
  if (given && !o.data.empty() && o.data != "synthetic") {
    eo.dataset = data.kind;
    eo.data = data.dir;
  }
  eo.device = o.device;
  eo.threads = o.threads;
  eo.tf32 = o.tf32;
  eo.out = o.out;
  eo.seed = o.seed;
  eo.scale = o.scale;
  eo.dpi = o.dpi;
  eo.quiet = o.quiet;
  const auto session = open_experiment(eo, "demo");
  const StudySetup& setup = session->setup;
  const Dataset& test = session->data;

  // How robust each model is: PGD-10 at every eps of the sweep, the robust model's training
  // radius among them (for the facts).
  const std::vector<double> sweep = {0.25, 0.5, 1.0};  // and eps 0: the clean accuracy
  stage(o.quiet, ++at, stages, "measuring robust accuracy against L2 eps (PGD-10)");
  nlohmann::json accuracy;
  std::vector<EpsCurve> curves;
  // The same images for every model and eps, on the device once; the tensors are shared.
  const DeviceDataset eval_images =
      to_device(take(test, plan.robust_eval_images), setup.ctx->device());
  const std::int64_t batch = 100;
  for (const ModelUnderStudy& m : setup.models) {
    m.net->prepare(*setup.ctx, batch);
    PgdAttack pgd(*m.net, setup.ctx->device(), batch);
    EpsCurve curve{m.role, {0.0}, {}};
    for (const double eps : sweep) {
      BatchLoader loader(eval_images, LoaderOptions{batch, false, false, 4, true}, o.seed);
      const AttackParams attack{ThreatModel::L2, eps, 2.5 * eps / 10, 10, false, 1, true};
      const RobustResult r =
          evaluate_robust(*setup.ctx, *m.net, pgd, loader, attack,
                          RngStream{o.seed, rng_stream(RngPurpose::RandomStart, 0), 0});
      if (curve.robust_accuracy.empty()) curve.robust_accuracy.push_back(r.clean_accuracy);
      curve.eps.push_back(eps);
      curve.robust_accuracy.push_back(r.robust_accuracy);
      if (eps == 0.5) {
        accuracy[m.role] = {
            {"clean", r.clean_accuracy}, {"robust", r.robust_accuracy}, {"images", r.examples}};
      }
    }
    if (!o.quiet) {
      std::fprintf(stderr, "  %-8s", m.role.c_str());
      for (std::size_t i = 0; i < curve.eps.size(); ++i) {
        std::fprintf(stderr, " eps %g: %s", curve.eps[i],
                     percent(curve.robust_accuracy[i]).c_str());
      }
      std::fprintf(stderr, " (%lld test images)\n",
                   static_cast<long long>(accuracy[m.role]["images"].get<std::int64_t>()));
    }
    curves.push_back(curve);
  }
  HtmlPage page;
  make_directories(o.out);
  {
    Plot p = eps_sweep_plot(curves, "L2, PGD-10");
    p.notes.push_back(std::to_string(plan.robust_eval_images) +
                      " test images; eps 0 is the clean "
                      "accuracy.");
    const FigureFiles f = write_figure_files(layout_plot(p), o.out + "/eps_sweep", o.dpi);
    std::ostringstream csv;
    csv << "model,eps,robust_accuracy\n";
    for (const EpsCurve& c : curves) {
      for (std::size_t i = 0; i < c.eps.size(); ++i)
        csv << c.name << "," << c.eps[i] << "," << c.robust_accuracy[i] << "\n";
    }
    write_file_atomic(o.out + "/eps_sweep.csv", csv.str());
    page.plots.push_back({"eps_sweep", "Robust accuracy against the attack's radius",
                          "Accuracy of both models on test images attacked by PGD-10 within an L2 "
                          "ball of radius eps (table: eps_sweep.csv). The robust model keeps its "
                          "accuracy under attacks that break the standard one.",
                          f.png, f.pdf, f.svg});
  }
  // The training curves of both models, when their runs' logs are at hand.
  {
    std::vector<RunMetrics> runs;
    for (const std::string& ck : {robust_path, standard_path}) {
      const std::string dir = std::filesystem::path(ck).parent_path().string();
      if (std::filesystem::exists(dir + "/metrics.jsonl")) runs.push_back(read_run_metrics(dir));
    }
    if (!runs.empty()) {
      const FigureFiles f =
          write_figure_files(layout_plot(training_curves(runs)), o.out + "/training_curves", o.dpi);
      page.plots.push_back({"training_curves", "Training curves",
                            "Loss, accuracy and learning rate per epoch of each model's training "
                            "run (from its metrics.jsonl).",
                            f.png, f.pdf, f.svg});
    }
  }

  std::vector<StudyReport> reports;
  stage(o.quiet, ++at, stages, "inversion");
  InversionStudy inversion{one_per_class(test, plan.inversion_targets), {}, plan.inversion};
  reports.push_back(run_inversion_study(setup, inversion));
  print_report(reports.back());

  stage(o.quiet, ++at, stages, "interpolation");
  InterpolationStudy interpolation;
  const std::vector<std::int64_t> ends = one_per_class(test, 2 * plan.interpolation_pairs, -1, 1);
  for (std::size_t i = 0; i + 1 < ends.size(); i += 2)
    interpolation.pairs.emplace_back(ends[i], ends[i + 1]);
  interpolation.params = plan.interpolation;
  reports.push_back(run_interpolation_study(setup, interpolation));
  print_report(reports.back());

  stage(o.quiet, ++at, stages, "direct visualization");
  VisualizationStudy visualization;
  visualization.seed_images = one_per_class(test, plan.visualization_images, -1, 2);
  visualization.noise_seeds = plan.visualization_noise;
  visualization.random_coordinates = plan.visualization_coordinates;
  visualization.params = plan.visualization;
  reports.push_back(run_visualization_study(setup, visualization));
  print_report(reports.back());

  stage(o.quiet, ++at, stages, "maximizing inputs");
  MaximizingInputsStudy maximizing;
  maximizing.random_coordinates = plan.maximizing_coordinates;
  maximizing.params = plan.maximizing;
  reports.push_back(run_maximizing_inputs_study(setup, maximizing));
  print_report(reports.back());

  stage(o.quiet, ++at, stages, "feature addition");
  // The feature of the first class, added to images of the others, as strongly as the class's
  // own images show it.
  ManipulationStudy manipulation;
  manipulation.feature_sources = images_of_class(test, 0, plan.feature_sources);
  manipulation.images = one_per_class(test, plan.manipulation_images, 0, 3);
  manipulation.params = plan.manipulation;
  manipulation.tau_from_sources = true;
  reports.push_back(run_manipulation_study(setup, manipulation));
  print_report(reports.back());

  stage(o.quiet, ++at, stages, "writing " + o.out + "/index.html");
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  page.title = "Adversarial robustness as a prior for learned representations";
  page.paragraphs = {
      "A robust model (adversarially trained" +
      (given ? std::string() : ", L2 eps " + plan.robust.eps.text) +
      ") and a standard model of the same "
      "architecture, side by side. Every image below was found by plain gradient descent in "
      "pixel space on a function of the model's representation R(x), the input of its final "
      "linear layer. The robust model's representation can be inverted, interpolated, "
      "visualized and manipulated into images a person recognizes; the standard model's "
      "cannot."};
  page.reproduce =
      "robustprior demo --size " + size + " --seed " + std::to_string(o.seed) + " --out " + o.out +
      (o.data != "synthetic" ? " --data " + o.data : "") +
      (given ? " --checkpoints " + o.checkpoints : "") +
      (o.max_iterations != 0 ? " --max-iterations " + std::to_string(o.max_iterations) : "") +
      (o.device != "cpu" ? " --device " + o.device : "") +
      "\n(the same seed, data and size give the same figures; every parameter is in "
      "the manifests and the models' config.json)";
  const nlohmann::json& inv = reports.front().summary;
  for (std::size_t i = 0; i < setup.models.size(); ++i) {
    const ModelUnderStudy& m = setup.models[i];
    const NetworkSpec& spec = session->checkpoints[i]->info().spec;
    const nlohmann::json& a = accuracy[m.role];
    std::ostringstream width;
    width << spec.width;
    page.facts.emplace_back(m.role + " model",
                            spec.arch + " width " + width.str() + ", " +
                                std::to_string(m.net->parameters().num_parameters()) +
                                " parameters, " + m.checkpoint + ": clean accuracy " +
                                percent(a["clean"].get<double>()) + ", robust accuracy " +
                                percent(a["robust"].get<double>()) + " (L2 eps 0.5, PGD-10, " +
                                std::to_string(a["images"].get<std::int64_t>()) + " test images)");
  }
  page.facts.emplace_back("data", test.name + " (" + test.source + "), " + setup.split + " split");
  page.facts.emplace_back("size", size);
  const double robust_px = inv["robust"]["pixel_distance"].get<double>();
  const double standard_px = inv["standard"]["pixel_distance"].get<double>();
  char ratio[160];
  std::snprintf(ratio, sizeof ratio,
                "robust %.2f, standard %.2f: ratio robust/standard %.3f (below 1: the robust "
                "model's inversions are closer)",
                robust_px, standard_px, robust_px / standard_px);
  page.facts.emplace_back("inversions, mean pixel L2 to their targets", ratio);
  page.facts.emplace_back("time", Progress::format_seconds(seconds));
  write_index_html(o.out, page, reports);

  std::printf("\ndemo done in %s: %s/index.html\n", Progress::format_seconds(seconds).c_str(),
              o.out.c_str());
  std::printf(
      "inversions, mean pixel L2 to their targets: robust %.2f, standard %.2f, ratio "
      "%.3f (%s)\n",
      robust_px, standard_px, robust_px / standard_px,
      robust_px < standard_px ? "the robust model's are closer, as in the paper"
                              : "the robust model's are NOT closer");
}

}  // namespace

void add_demo_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "demo",
      "Train a standard and a robust model, run the four representation experiments "
      "for both, write figures and index.html");
  auto o = std::make_shared<DemoOptions>();
  cmd->add_option("--out", o->out, "output directory")->capture_default_str();
  cmd->add_option("--data", o->data, "synthetic, cifar10:DIR or folder:DIR")->capture_default_str();
  cmd->add_option("--checkpoints", o->checkpoints,
                  "ROBUST.safetensors,STANDARD.safetensors: skip training");
  cmd->add_option("--size", o->size,
                  "auto (gpu on a CUDA device, else cpu), tiny (seconds), cpu (about 3 "
                  "minutes on two cores with CIFAR-10, 1.5 with the synthetic data) or gpu")
      ->check(CLI::IsMember({"auto", "tiny", "cpu", "gpu"}))
      ->capture_default_str();
  cmd->add_option("--device", o->device, "cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_option("--threads", o->threads, "CPU threads (0: all)")->capture_default_str();
  cmd->add_flag("--tf32", o->tf32, kTf32Help);
  cmd->add_option("--seed", o->seed, "seed of training and of the experiments")
      ->capture_default_str();
  cmd->add_option("--scale", o->scale, "figure points per image pixel")->capture_default_str();
  cmd->add_option("--dpi", o->dpi, "the figures' PNG resolution")->capture_default_str();
  cmd->add_option("--max-iterations", o->max_iterations,
                  "cap every experiment's iterations (a quick preview; 0: the size's own)")
      ->capture_default_str();
  cmd->add_flag("--quiet", o->quiet, "No progress lines");
  cmd->callback([o] { run_demo(*o); });
}

}  // namespace rp::cli
