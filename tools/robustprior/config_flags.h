// TrainConfig as CLI flags: every field of the config table becomes --key with its help, so
// the flags, the JSON config and the checkpoint's copy share one list. Precedence: defaults,
// then the --config file, then the flags the user actually typed.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "engine/train/config.h"

namespace rp::cli {

class ConfigFlags {
 public:
  ConfigFlags(CLI::App* cmd, TrainConfig& bound);
  // The keys given on the command line, with their values.
  nlohmann::json given() const;

 private:
  TrainConfig& bound_;
  std::map<std::string, CLI::Option*> options_;
};

// defaults <- --config file (when given) <- flags typed.
TrainConfig effective_config(TrainConfig base, const std::string& config_file,
                             const ConfigFlags& flags);

}  // namespace rp::cli
