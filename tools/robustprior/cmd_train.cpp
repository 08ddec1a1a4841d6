// robustprior train: trains a ResNet and writes, into --out, latest.safetensors (every epoch),
// best.safetensors (best test accuracy), metrics.jsonl (one line per epoch) and config.json
// (the effective settings). --resume continues the run in --out from latest.safetensors.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "engine/core/error.h"
#include "engine/core/files.h"
#include "engine/train/setup.h"
#include "tools/robustprior/commands.h"
#include "tools/robustprior/config_flags.h"
#include "tools/robustprior/training_run.h"
#include "weights/checkpoint.h"
#include "weights/torch_import.h"

namespace rp::cli {
namespace {

struct TrainOptions {
  TrainConfig flags;
  std::string config_file;
  bool resume = false;
  bool quiet = false;
  bool profile = false;
};

void run_train(const TrainOptions& o, const ConfigFlags& flags) {
  TrainConfig cfg = effective_config(TrainConfig{}, o.config_file, flags);
  std::optional<Checkpoint> resume;
  const std::string latest = cfg.out + "/latest.safetensors";
  if (o.resume) {
    RP_CHECK(std::filesystem::exists(latest), "train",
             "--resume: no checkpoint at " << latest << " (is --out the run's directory?)");
    // Resuming needs the run's optimizer state and settings: robustprior checkpoints only.
    RP_CHECK(!is_torch_file(latest), "train",
             "--resume: " << latest
                          << " is a PyTorch checkpoint; resume continues robustprior "
                             "runs only (convert it and train from scratch instead)");
    resume = Checkpoint::open(latest);
    // The run continues with its own settings; what is given now overrides them, and any
    // change means the result will differ from an uninterrupted run.
    const TrainConfig saved = apply_json(TrainConfig{}, resume->info().config, latest);
    cfg = effective_config(saved, o.config_file, flags);
    const nlohmann::json before = to_json(saved), after = to_json(cfg);
    for (const auto& item : after.items()) {
      if (item.key() != "out" && before.at(item.key()) != item.value()) {
        std::fprintf(stderr, "note: resuming with %s = %s (the run used %s)\n", item.key().c_str(),
                     item.value().dump().c_str(), before.at(item.key()).dump().c_str());
      }
    }
  } else {
    RP_CHECK(!std::filesystem::exists(latest), "train",
             cfg.out << " already holds a run (" << latest
                     << "); continue it with --resume or choose another --out");
  }
  validate(cfg);
  if (cfg.adv == "fgsm-rs" && flags.given().contains("attack-steps")) {
    std::fprintf(stderr, "note: fgsm-rs takes one step; --attack-steps is not used\n");
  }

  run_training(cfg, resume, !o.quiet, false, o.profile);
}

}  // namespace

void add_train_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "train", "Train a ResNet (defaults: the robustness library's CIFAR recipe)");
  auto o = std::make_shared<TrainOptions>();
  auto flags = std::make_shared<ConfigFlags>(cmd, o->flags);
  cmd->add_option("--config", o->config_file,
                  "JSON file of settings, keys as the flags (flags win)")
      ->check(CLI::ExistingFile);
  cmd->add_flag("--resume", o->resume, "Continue the run in --out from its latest checkpoint");
  cmd->add_flag("--quiet", o->quiet, "No progress lines");
  cmd->add_flag("--profile", o->profile,
                "Print the time per phase, layer and op at the end (CUDA events on a GPU)");
  cmd->callback([o, flags] { run_train(*o, *flags); });
}

}  // namespace rp::cli
