#include "tools/robustprior/checkpoint_session.h"

#include <nlohmann/json.hpp>

#include "engine/core/amount.h"
#include "engine/core/context.h"
#include "engine/core/error.h"
#include "engine/data/load.h"
#include "engine/train/setup.h"

namespace rp::cli {

void SessionOptions::add_to(CLI::App* cmd) {
  cmd->add_option("--checkpoint", checkpoint,
                  "checkpoint (.safetensors, or a PyTorch .pt imported as `convert` would)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--dataset", dataset,
                  std::string(kDatasetKinds) + " (default: the checkpoint's)");
  cmd->add_option("--data", data, "dataset directory (default: the checkpoint's)");
  cmd->add_option("--split", split, "test or train")
      ->check(CLI::IsMember({"test", "train"}))
      ->capture_default_str();
  cmd->add_option("--subset", subset,
                  "only N images (0: all; the first N, class-balanced for the imagenet kinds)")
      ->capture_default_str();
  cmd->add_option("--device", device, "cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_option("--threads", threads, "CPU threads (0: all)")->capture_default_str();
  cmd->add_flag("--tf32", tf32, kTf32Help);
  cmd->add_flag("--profile", profile,
                "Print the time per phase, layer and op at the end (CUDA events on a GPU)");
}

CheckpointSession open_session(const SessionOptions& o, const std::string& command) {
  RP_CHECK(o.subset >= 0, command, "--subset must be >= 0 (0: all), found " << o.subset);
  RP_CHECK(o.threads >= 0 && o.threads <= Context::kMaxThreads, command,
           "--threads must be in [0, " << Context::kMaxThreads << "] (0: all cores), found "
                                       << o.threads);
  CheckpointSession s;
  s.checkpoint = std::make_unique<Checkpoint>(Checkpoint::open(o.checkpoint));
  const CheckpointInfo& info = s.checkpoint->info();
  TrainConfig cfg = apply_json(TrainConfig{}, info.config, o.checkpoint);
  if (!o.dataset.empty()) cfg.dataset = o.dataset;
  if (!o.data.empty()) cfg.data = o.data;
  cfg.device = o.device;
  cfg.threads = o.threads;
  cfg.tf32 = o.tf32;  // this command's choice, not the training run's
  cfg.train_subset = cfg.test_subset = o.subset;
  s.seed = cfg.seed;
  s.ctx = make_context(cfg);
  DatasetRequest request = dataset_request(cfg);
  request.train = o.split == "train";
  request.decode_train = request.train;  // the ImageNet kinds: evaluated as the test split
  DatasetSplits data = load_dataset(request);
  s.split = o.split == "train" ? std::move(data.train) : std::move(data.test);
  check_dataset_fits(info.spec, s.split, command);
  RP_CHECK(s.split.classes == info.class_names, command,
           "the checkpoint's classes (" << nlohmann::json(info.class_names).dump()
                                        << ") are not the dataset's ("
                                        << nlohmann::json(s.split.classes).dump() << ")");
  s.net = s.checkpoint->load_network(s.ctx->device());
  s.profile = profile_if(o.profile, *s.ctx);
  return s;
}

void AttackFlags::add_to(CLI::App* cmd) {
  cmd->add_option("--constraint", constraint, "threat model: 2 or inf")->capture_default_str();
  cmd->add_option("--eps", eps, "radius, e.g. 0.5 or 8/255")->capture_default_str();
  cmd->add_option("--attack-steps", attack_steps, "PGD steps")->capture_default_str();
  cmd->add_option("--attack-lr", attack_lr, "step size (default: 2.5 eps / steps)");
  cmd->add_option("--restarts", restarts, "attacks per image from random starts; the worst counts")
      ->capture_default_str();
  cmd->add_flag("--random-start", random_start, "Start from a random point (always with restarts)");
  cmd->add_flag("--last-iterate", last_iterate, "Keep the last iterate, not each image's best");
}

AttackParams AttackFlags::params(const std::string& command) const {
  AttackParams p;
  p.norm = parse_threat_model(constraint);
  p.eps = parse_amount(eps, command + ": --eps");
  RP_CHECK(p.eps >= 0, command, "--eps must be >= 0, found " << eps);
  p.steps = attack_steps;
  RP_CHECK(p.steps >= 1, command, "--attack-steps must be >= 1, found " << p.steps);
  p.step = attack_lr.empty() ? default_step(p.eps, p.steps)
                             : parse_amount(attack_lr, command + ": --attack-lr");
  RP_CHECK(p.step >= 0, command, "--attack-lr must be >= 0, found " << attack_lr);
  RP_CHECK(restarts >= 1, command, "--restarts must be >= 1, found " << restarts);
  p.restarts = restarts;
  p.random_start = random_start || restarts > 1;
  p.use_best = !last_iterate;
  validate(p);
  return p;
}

}  // namespace rp::cli
