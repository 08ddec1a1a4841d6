#include "engine/train/config.h"

#include <cmath>
#include <fstream>
#include <set>
#include <sstream>
#include <type_traits>

#include "engine/core/context.h"
#include "engine/core/device.h"
#include "engine/core/error.h"
#include "engine/core/files.h"
#include "engine/core/json_text.h"
#include "engine/data/load.h"
#include "engine/data/synthetic.h"

namespace rp {
namespace {

template <typename T>
const char* type_name() {
  if constexpr (std::is_same_v<T, Amount>) return "a number or a fraction such as 8/255";
  if constexpr (std::is_same_v<T, bool>) return "true or false";
  if constexpr (std::is_same_v<T, std::string>) return "a string";
  if constexpr (std::is_floating_point_v<T>) return "a number";
  return "an integer";
}

template <typename T>
T read_value(const nlohmann::json& v, const std::string& key, const std::string& source) {
  if constexpr (std::is_same_v<T, Amount>) {
    RP_CHECK(v.is_string() || v.is_number(), source,
             "'" << key << "' must be " << type_name<T>() << ", found " << json_excerpt(v));
    return Amount{v.is_string() ? v.get<std::string>() : v.dump()};
  } else {
    const bool ok = [&] {
      if constexpr (std::is_same_v<T, bool>) return v.is_boolean();
      if constexpr (std::is_same_v<T, std::string>) return v.is_string();
      if constexpr (std::is_floating_point_v<T>) return v.is_number();
      if constexpr (std::is_unsigned_v<T>) return v.is_number_unsigned();
      return v.is_number_integer();
    }();
    RP_CHECK(ok, source,
             "'" << key << "' must be " << type_name<T>() << ", found " << json_excerpt(v));
    return v.get<T>();
  }
}

}  // namespace

nlohmann::json to_json(const TrainConfig& c) {
  nlohmann::json j = nlohmann::json::object();
  for_each_field(c, [&](const char* key, const auto& v, const char*) {
    if constexpr (std::is_same_v<std::decay_t<decltype(v)>, Amount>) {
      j[key] = v.text;
    } else {
      j[key] = v;
    }
  });
  return j;
}

TrainConfig apply_json(TrainConfig base, const nlohmann::json& j, const std::string& source) {
  RP_CHECK(j.is_object(), source, "expected a JSON object of settings, found " << j.type_name());
  std::set<std::string> known;
  for_each_field(base, [&](const char* key, auto&, const char*) { known.insert(key); });
  for (const auto& item : j.items()) {
    if (known.count(item.key()) == 0) {
      std::ostringstream list;
      for (const std::string& k : known) list << " " << k;
      RP_FAIL(source, "unknown key '" << item.key() << "'; known keys:" << list.str());
    }
  }
  for_each_field(base, [&](const char* key, auto& v, const char*) {
    using T = std::decay_t<decltype(v)>;
    if (j.contains(key)) v = read_value<T>(j.at(key), key, source);
  });
  return base;
}

TrainConfig load_config_file(const std::string& path, TrainConfig base) {
  // A config is a few hundred bytes; the bound keeps a wrong path (a dataset, a device) from
  // being read whole, and what is loaded from keeping the run's checkpoints from being written.
  constexpr std::uint64_t kMaxConfigBytes = 1 << 20;
  const nlohmann::json j = parse_json_bounded(read_file(path, kMaxConfigBytes), "config " + path);
  return apply_json(std::move(base), j, path);
}

void validate(const TrainConfig& c) {
  const char* op = "config";
  // Upper bounds far above any real run: a value past them is a typo, refused before work.
  constexpr std::int64_t kMaxEpochs = 100'000, kMaxBatch = 65'536, kMaxSteps = 100'000;
  constexpr std::int64_t kMaxCount = 100'000'000;
  RP_CHECK(c.width > 0 && c.width <= 64, op, "'width' must be in (0, 64], found " << c.width);
  RP_CHECK(is_dataset_kind(c.dataset), op,
           "'dataset' must be " << kDatasetKinds << ", found '" << c.dataset << "'");
  RP_CHECK(c.dataset == "synthetic" || !c.data.empty(), op,
           "'data' (the dataset directory) is required for dataset " << c.dataset);
  RP_CHECK(c.synthetic_train >= 1 && c.synthetic_test >= 1 && c.synthetic_train <= kMaxCount &&
               c.synthetic_test <= kMaxCount,
           op, "'synthetic-train' and 'synthetic-test' must be in [1, " << kMaxCount << "]");
  RP_CHECK(
      is_synthetic_kind(c.synthetic_kind), op,
      "'synthetic-kind' must be " << kSyntheticKinds << ", found '" << c.synthetic_kind << "'");
  RP_CHECK(is_synthetic_colours(c.synthetic_colours), op,
           "'synthetic-colours' must be " << kSyntheticColours << ", found '" << c.synthetic_colours
                                          << "'");
  RP_CHECK(c.train_subset >= 0 && c.test_subset >= 0, op, "subsets must be >= 0 (0: all)");
  RP_CHECK(c.epochs >= 1 && c.epochs <= kMaxEpochs, op,
           "'epochs' must be in [1, " << kMaxEpochs << "], found " << c.epochs);
  RP_CHECK(c.batch_size >= 1 && c.batch_size <= kMaxBatch, op,
           "'batch-size' must be in [1, " << kMaxBatch << "], found " << c.batch_size);
  RP_CHECK(c.eval_batch_size >= 0 && c.eval_batch_size <= kMaxBatch, op,
           "'eval-batch-size' must be in [0, " << kMaxBatch << "], found " << c.eval_batch_size);
  RP_CHECK(std::isfinite(c.lr) && c.lr >= 0, op, "'lr' must be >= 0, found " << c.lr);
  RP_CHECK(c.momentum >= 0 && c.momentum < 1, op,
           "'momentum' must be in [0, 1), found " << c.momentum);
  RP_CHECK(std::isfinite(c.weight_decay) && c.weight_decay >= 0, op,
           "'weight-decay' must be >= 0, found " << c.weight_decay);
  RP_CHECK(!c.nesterov || c.momentum > 0, op, "'nesterov' needs momentum > 0");
  RP_CHECK(c.schedule == "step" || c.schedule == "onecycle" || c.schedule == "cosine", op,
           "'schedule' must be step, onecycle or cosine, found '" << c.schedule << "'");
  RP_CHECK(c.lr_step >= 1, op, "'lr-step' must be >= 1, found " << c.lr_step);
  RP_CHECK(c.lr_gamma > 0 && c.lr_gamma <= 1, op,
           "'lr-gamma' must be in (0, 1], found " << c.lr_gamma);
  RP_CHECK(c.threads >= 0 && c.threads <= Context::kMaxThreads, op,
           "'threads' must be in [0, " << Context::kMaxThreads << "], found " << c.threads);
  RP_CHECK(!c.out.empty(), op, "'out' must name a directory");
  RP_CHECK(c.adv == "none" || c.adv == "pgd" || c.adv == "fgsm-rs", op,
           "'adv' must be none, pgd or fgsm-rs, found '" << c.adv << "'");
  RP_CHECK(c.constraint == "2" || c.constraint == "inf", op,
           "'constraint' must be 2 or inf, found '" << c.constraint << "'");
  const double eps = c.eps.value("config: 'eps'");
  RP_CHECK(eps >= 0, op, "'eps' must be >= 0, found " << c.eps.text);
  if (!c.attack_lr.empty()) {
    RP_CHECK(c.attack_lr.value("config: 'attack-lr'") >= 0, op,
             "'attack-lr' must be >= 0, found " << c.attack_lr.text);
  }
  RP_CHECK(c.attack_steps >= 1 && c.attack_steps <= kMaxSteps, op,
           "'attack-steps' must be in [1, " << kMaxSteps << "], found " << c.attack_steps);
  RP_CHECK(c.adv != "fgsm-rs" || c.constraint == "inf", op,
           "fgsm-rs is an Linf attack: use --constraint inf");

  RP_CHECK(c.robust_eval_subset >= 0, op, "'robust-eval-subset' must be >= 0");
  RP_CHECK(c.robust_eval_steps >= 1 && c.robust_eval_steps <= kMaxSteps, op,
           "'robust-eval-steps' must be in [1, " << kMaxSteps << "]");
  Device::parse(c.device);  // throws with the accepted forms
}

}  // namespace rp
