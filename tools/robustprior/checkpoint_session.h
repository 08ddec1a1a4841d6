// What several commands start from: a checkpoint, the dataset split to use it on - by default
// the one it was trained on - checked to fit it, a context and the network. And the attack
// flags `eval --adv` and `attack` share.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <memory>
#include <string>

#include "engine/adv/pgd.h"
#include "engine/core/context.h"
#include "engine/data/dataset.h"
#include "engine/nn/network.h"
#include "tools/robustprior/profile_report.h"
#include "weights/checkpoint.h"

namespace rp::cli {

struct SessionOptions {
  std::string checkpoint, dataset, data, split = "test", device = "cpu";
  std::int64_t subset = 0, threads = 0;
  bool tf32 = false, profile = false;

  // --checkpoint, --dataset, --data, --split, --subset, --device, --threads, --tf32, --profile
  void add_to(CLI::App* cmd);
};

struct CheckpointSession {
  std::unique_ptr<Checkpoint> checkpoint;
  std::unique_ptr<Context> ctx;
  Dataset split;  // the chosen split, checked against the checkpoint's classes and image shape
  std::unique_ptr<Network> net;
  std::uint64_t seed = 0;                  // the checkpoint's run seed
  std::unique_ptr<ProfileReport> profile;  // --profile; last: reports before ctx goes
};

CheckpointSession open_session(const SessionOptions& o, const std::string& command);

struct AttackFlags {
  std::string constraint = "inf", eps = "8/255", attack_lr;
  std::int64_t attack_steps = 20, restarts = 1;
  bool random_start = false, last_iterate = false;

  void add_to(CLI::App* cmd);
  // Every value checked; the default step is the robustness library's 2.5 eps / steps.
  AttackParams params(const std::string& command) const;
};

}  // namespace rp::cli
