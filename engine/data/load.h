// Datasets by name, as the CLI and the experiments ask for them, and the input normalization
// that goes with each.
#pragma once

#include <cstdint>
#include <string>

#include "engine/data/dataset.h"

namespace rp {

struct DatasetRequest {
  std::string kind = "synthetic";  // cifar10, synthetic, folder, imagenet, restricted_imagenet
  std::string dir;                 // all but synthetic
  std::int64_t synthetic_train = 5000, synthetic_test = 1000;
  std::uint64_t synthetic_seed = 0;
  std::string synthetic_kind = "objects";    // objects or scenes (synthetic.h)
  std::string synthetic_colours = "random";  // random or class (synthetic.h)
  // 0: all. cifar10, synthetic, folder: the first N; the ImageNet kinds: N class-balanced
  // (imagenet.h, balanced_subset).
  std::int64_t train_subset = 0, test_subset = 0;
  bool train = true;  // false: load the test split only (its train split is left empty)
  // The ImageNet kinds: decode the training split (Resize + CenterCrop, as the test split) into
  // `train` rather than list its files in `train_files` for per-batch augmentation.
  bool decode_train = false;
};

// The dataset kinds load_dataset() accepts, and whether a kind's training split comes as files.
inline constexpr const char* kDatasetKinds =
    "cifar10, synthetic, folder, imagenet or restricted_imagenet";
bool is_dataset_kind(const std::string& kind);
bool is_imagenet_kind(const std::string& kind);

DatasetSplits load_dataset(const DatasetRequest& r);

// CIFAR-10 and the ImageNet kinds: the robustness library's constants; other datasets: their
// training split's per-channel statistics.
ChannelStats normalization_for(const Dataset& train);

}  // namespace rp
