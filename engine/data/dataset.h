// Datasets: images as uint8 (N, C, H, W) with int32 labels and class names. Readers
// (cifar10.h, image_folder.h, synthetic.h) produce them in host memory; to_device() moves a
// whole split to the training device once, where batches are gathered from it (loader.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/core/device.h"
#include "engine/core/tensor.h"

namespace rp {

struct Dataset {
  std::string name;    // cifar10, synthetic, folder, imagenet, restricted_imagenet
  std::string source;  // where it came from: a directory, or the generator's seed
  std::vector<std::string> classes;
  std::int64_t channels = 3, height = 32, width = 32;
  std::vector<std::uint8_t> images;  // (size, channels, height, width)
  std::vector<std::int32_t> labels;  // (size), in [0, classes)

  std::int64_t size() const { return static_cast<std::int64_t>(labels.size()); }
  std::int64_t image_elements() const { return channels * height * width; }
  // Throws rp::Error naming the dataset when sizes disagree or a label is out of range.
  void validate() const;
};

// Image files with their labels: a split decoded on demand (ImageNet's training split, far too
// large for one array, is decoded and augmented batch by batch: file_loader.h).
struct ImageFileList {
  std::string name;    // imagenet, restricted_imagenet
  std::string source;  // the split's directory
  std::vector<std::string> classes;
  std::vector<std::string> paths;
  std::vector<std::int32_t> labels;  // (size), in [0, classes)

  std::int64_t size() const { return static_cast<std::int64_t>(paths.size()); }
};

struct DatasetSplits {
  Dataset train, test;
  // ImageNet kinds: the training split as files; `train` then holds its name, classes and
  // image shape, and no images.
  ImageFileList train_files = {};
};

// Per-channel mean and standard deviation of the images in [0, 1] (for input normalization).
struct ChannelStats {
  std::vector<double> mean, std;
};
ChannelStats channel_stats(const Dataset& d);

// The first n examples (all of them when n <= 0 or n >= size).
Dataset take(const Dataset& d, std::int64_t n);

// A split on the device: images u8 (N, C, H, W) and labels i32 (N).
struct DeviceDataset {
  Tensor images, labels;
  std::int64_t size() const { return labels.defined() ? labels.size(0) : 0; }
};
DeviceDataset to_device(const Dataset& d, Device device);

}  // namespace rp
