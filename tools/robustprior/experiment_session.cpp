#include "tools/robustprior/experiment_session.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/core/amount.h"
#include "engine/core/error.h"
#include "engine/data/load.h"
#include "engine/train/setup.h"

namespace rp::cli {
namespace {

nlohmann::json checkpoint_summary(const Checkpoint& c) {
  const CheckpointInfo& i = c.info();
  return {{"arch", i.spec.arch},
          {"width", i.spec.width},
          {"dataset", i.dataset},
          {"classes", i.class_names},
          {"epoch", i.epoch},
          {"best_test_accuracy", i.best_test_accuracy},
          {"adv", i.config.value("adv", "none")},
          {"constraint", i.config.value("constraint", "")},
          {"eps", i.config.value("eps", "")}};
}

}  // namespace

void ExperimentOptions::add_to(CLI::App* cmd, const std::string& default_out) {
  out = default_out;
  cmd->add_option("--robust", robust, "the robust model's checkpoint (.safetensors or PyTorch .pt)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--standard", standard,
                  "the standard model's checkpoint (.safetensors or PyTorch .pt)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--dataset", dataset,
                  std::string(kDatasetKinds) + " (default: the checkpoints')");
  cmd->add_option("--data", data, "dataset directory (default: the checkpoints')");
  cmd->add_option("--split", split, "the images come from: test or train")
      ->check(CLI::IsMember({"test", "train"}))
      ->capture_default_str();
  cmd->add_option("--subset", subset,
                  "read only N images of the split (0: all; the first N, class-balanced for the "
                  "imagenet kinds, whose 50,000 validation images take 7.5 GB decoded)")
      ->capture_default_str();
  cmd->add_option("--device", device, "cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_option("--threads", threads, "CPU threads (0: all)")->capture_default_str();
  cmd->add_flag("--tf32", tf32, kTf32Help);
  cmd->add_flag("--profile", profile,
                "Print the time per phase, layer and op at the end (CUDA events on a GPU)");
  cmd->add_option("--out", out, "output directory: the figure, the raw images, the manifest")
      ->capture_default_str();
  cmd->add_option("--seed", seed, "seed of noise seeds and random coordinates")
      ->capture_default_str();
  cmd->add_option("--scale", scale, "figure points per image pixel")->capture_default_str();
  cmd->add_option("--dpi", dpi, "the figure PNG's resolution (the PDF and SVG are vector)")
      ->capture_default_str();
  cmd->add_flag("--quiet", quiet, "No progress lines");
}

std::unique_ptr<ExperimentSession> open_experiment(const ExperimentOptions& o,
                                                   const std::string& command) {
  RP_CHECK(!o.robust.empty() || !o.standard.empty(), command,
           "give a model: --robust CHECKPOINT and/or --standard CHECKPOINT");
  RP_CHECK(o.threads >= 0, command, "--threads must be >= 0, found " << o.threads);
  RP_CHECK(o.subset >= 0, command, "--subset must be >= 0 (0: all), found " << o.subset);
  auto s = std::make_unique<ExperimentSession>();
  std::vector<std::pair<std::string, std::string>> roles;
  if (!o.robust.empty()) roles.emplace_back("robust", o.robust);
  if (!o.standard.empty()) roles.emplace_back("standard", o.standard);
  for (const auto& [role, path] : roles) {
    s->checkpoints.push_back(std::make_unique<Checkpoint>(Checkpoint::open(path)));
  }
  // The data: the first checkpoint's run, unless given.
  const CheckpointInfo& first = s->checkpoints.front()->info();
  TrainConfig cfg = apply_json(TrainConfig{}, first.config, roles.front().second);
  if (!o.dataset.empty()) cfg.dataset = o.dataset;
  if (!o.data.empty()) cfg.data = o.data;
  cfg.device = o.device;
  cfg.threads = o.threads;
  cfg.tf32 = o.tf32;  // this command's choice, not the training run's
  cfg.train_subset = cfg.test_subset = o.subset;
  s->ctx = make_context(cfg);
  DatasetRequest request = dataset_request(cfg);
  request.train = o.split == "train";
  request.decode_train = request.train;  // the ImageNet kinds: evaluated as the test split
  DatasetSplits splits = load_dataset(request);
  s->data = o.split == "train" ? std::move(splits.train) : std::move(splits.test);
  for (std::size_t m = 0; m < roles.size(); ++m) {
    const CheckpointInfo& info = s->checkpoints[m]->info();
    const std::string& path = roles[m].second;
    RP_CHECK(info.class_names == s->data.classes, command,
             "the " << roles[m].first << " checkpoint " << path << " has "
                    << info.class_names.size() << " classes "
                    << nlohmann::json(info.class_names).dump() << " but the data has "
                    << s->data.classes.size() << " " << nlohmann::json(s->data.classes).dump());
    RP_CHECK(info.dataset == s->data.name, command,
             "the " << roles[m].first << " checkpoint " << path << " was trained on '"
                    << info.dataset << "' but the data is '" << s->data.name << "'");
    check_dataset_fits(info.spec, s->data, command);
  }
  for (std::size_t m = 0; m < roles.size(); ++m) {
    s->nets.push_back(s->checkpoints[m]->load_network(s->ctx->device()));
    nlohmann::json info = checkpoint_summary(*s->checkpoints[m]);
    info["representation_size"] = s->nets.back()->representation_size();
    s->setup.models.push_back({roles[m].first, roles[m].second, s->nets.back().get(), info});
  }
  s->setup.ctx = s->ctx.get();
  s->setup.data = &s->data;
  s->setup.split = o.split;
  s->setup.class_names = s->data.classes;
  s->setup.out_dir = o.out;
  s->setup.seed = o.seed;
  s->setup.scale = o.scale;
  s->setup.dpi = o.dpi;
  s->setup.progress = !o.quiet;
  check_study_setup(s->setup, command);
  s->profile = profile_if(o.profile, *s->ctx);
  return s;
}

void OptimizationFlags::add_to(CLI::App* cmd, const AttackParams& experiment_defaults,
                               const std::string& prefix) {
  defaults = experiment_defaults;
  // As text, so the flags take amounts such as 8/255 and show "1000", not "1000.000000".
  const auto text = [](double v) {
    std::ostringstream os;
    os << v;
    return os.str();
  };
  eps = text(defaults.eps);
  step = text(defaults.step);
  iterations = defaults.steps;
  cmd->add_option("--" + prefix + "eps", eps, "L2 radius around the seed")->capture_default_str();
  cmd->add_option("--" + prefix + "step", step, "step size")->capture_default_str();
  cmd->add_option("--" + prefix + "iterations", iterations, "gradient steps")
      ->capture_default_str();
  if (defaults.use_best) {
    cmd->add_flag("--" + prefix + "last-iterate", flip_use_best,
                  "Keep the last iterate, not each image's best");
  } else {
    cmd->add_flag("--" + prefix + "use-best", flip_use_best,
                  "Keep each image's best iterate, not the last");
  }
}

AttackParams OptimizationFlags::params(const std::string& command,
                                       const std::string& prefix) const {
  AttackParams p = defaults;
  p.eps = parse_amount(eps, command + ": --" + prefix + "eps");
  RP_CHECK(p.eps >= 0, command, "--" << prefix << "eps must be >= 0, found " << eps);
  p.step = parse_amount(step, command + ": --" + prefix + "step");
  RP_CHECK(p.step > 0, command, "--" << prefix << "step must be > 0, found " << step);
  RP_CHECK(iterations >= 1, command,
           "--" << prefix << "iterations must be >= 1, found " << iterations);
  p.steps = iterations;
  p.use_best = flip_use_best ? !defaults.use_best : defaults.use_best;
  validate(p);
  return p;
}

std::vector<std::int64_t> one_per_class(const Dataset& d, std::int64_t count,
                                        std::int32_t skip_class, std::int64_t round) {
  const auto k = static_cast<std::int32_t>(d.classes.size());
  std::vector<std::vector<std::int64_t>> by_class(static_cast<std::size_t>(k));
  for (std::int64_t i = 0; i < d.size(); ++i)
    by_class[static_cast<std::size_t>(d.labels[static_cast<std::size_t>(i)])].push_back(i);
  std::vector<std::int64_t> out;
  for (std::int64_t r = round; static_cast<std::int64_t>(out.size()) < count; ++r) {
    bool any = false;
    for (std::int32_t c = 0; c < k && static_cast<std::int64_t>(out.size()) < count; ++c) {
      const auto& list = by_class[static_cast<std::size_t>(c)];
      if (c == skip_class || r >= static_cast<std::int64_t>(list.size())) continue;
      out.push_back(list[static_cast<std::size_t>(r)]);
      any = true;
    }
    if (!any) break;
  }
  return out;
}

std::vector<std::int64_t> images_of_class(const Dataset& d, std::int32_t cls, std::int64_t count) {
  std::vector<std::int64_t> out;
  for (std::int64_t i = 0; i < d.size() && static_cast<std::int64_t>(out.size()) < count; ++i) {
    if (d.labels[static_cast<std::size_t>(i)] == cls) out.push_back(i);
  }
  return out;
}

}  // namespace rp::cli
