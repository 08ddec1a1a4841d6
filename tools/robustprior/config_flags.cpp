#include "tools/robustprior/config_flags.h"

#include <string>
#include <type_traits>

namespace rp::cli {

ConfigFlags::ConfigFlags(CLI::App* cmd, TrainConfig& bound) : bound_(bound) {
  for_each_field(bound_, [&](const char* key, auto& v, const char* help) {
    using T = std::decay_t<decltype(v)>;
    const std::string name = std::string("--") + key;
    if constexpr (std::is_same_v<T, bool>) {
      const std::string text = std::string(help) + " (default: " + (v ? "on" : "off") + ")";
      options_[key] = cmd->add_flag(name + ",!--no-" + key, v, text);
    } else if constexpr (std::is_same_v<T, Amount>) {
      options_[key] = cmd->add_option(name, v.text, help)->capture_default_str();
    } else if constexpr (std::is_unsigned_v<T>) {
      // CLI11 would wrap -1 around to 2^64 - 1.
      options_[key] =
          cmd->add_option(name, v, help)->capture_default_str()->check(CLI::NonNegativeNumber);
    } else {
      options_[key] = cmd->add_option(name, v, help)->capture_default_str();
    }
  });
}

nlohmann::json ConfigFlags::given() const {
  const nlohmann::json all = to_json(bound_);
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [key, opt] : options_) {
    if (opt->count() > 0) out[key] = all.at(key);
  }
  return out;
}

TrainConfig effective_config(TrainConfig base, const std::string& config_file,
                             const ConfigFlags& flags) {
  if (!config_file.empty()) base = load_config_file(config_file, base);
  return apply_json(base, flags.given(), "command line");
}

}  // namespace rp::cli
