// Datasets by name, as the CLI and the experiments ask for them, and the input normalization
// that goes with each.
#pragma once

#include <cstdint>
#include <string>

#include "engine/data/dataset.h"

namespace rp {

struct DatasetRequest {
  std::string kind = "synthetic";  // cifar10, synthetic, folder
  std::string dir;                 // cifar10, folder
  std::int64_t synthetic_train = 5000, synthetic_test = 1000;
  std::uint64_t synthetic_seed = 0;
  std::int64_t train_subset = 0, test_subset = 0;  // 0: all
  bool train = true;  // false: load the test split only (its train split is left empty)
};

DatasetSplits load_dataset(const DatasetRequest& r);

// CIFAR-10: the robustness library's constants; other datasets: their training split's
// per-channel statistics.
ChannelStats normalization_for(const Dataset& train);

}  // namespace rp
