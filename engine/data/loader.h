// BatchLoader: an epoch's batches from a dataset held on the device.
//
// Each epoch's order is a Philox permutation (stream Shuffle/epoch) when shuffling, else the
// dataset order; augmentation draws from stream Augment/epoch at the example's position in the
// epoch. So batch b of epoch e is a pure function of (seed, e, b): a resumed run sees exactly
// the batches an uninterrupted one would. The last batch may be smaller (as PyTorch's
// DataLoader without drop_last).
#pragma once

#include <cstdint>
#include <vector>

#include "engine/core/context.h"
#include "engine/data/batch_source.h"
#include "engine/data/dataset.h"
#include "engine/ops/batch.h"

namespace rp {

struct LoaderOptions {
  std::int64_t batch_size = 128;
  bool shuffle = false;
  bool augment = false;  // random crop (pad 4) and horizontal flip
  std::int64_t pad = 4;
  bool flip = true;
};

class BatchLoader final : public BatchSource {
 public:
  BatchLoader(DeviceDataset data, LoaderOptions opt, std::uint64_t seed);

  std::int64_t size() const override { return data_.size(); }
  std::int64_t batches() const override;
  std::int64_t batch_size() const override { return opt_.batch_size; }

  void start_epoch(std::int64_t epoch) override;
  // Batch b of the current epoch into the first rows of images (>= batch, C, H, W) and labels;
  // returns the number of examples.
  std::int64_t load(Context& ctx, std::int64_t b, const Tensor& images,
                    const Tensor& labels) override;

 private:
  DeviceDataset data_;
  LoaderOptions opt_;
  std::uint64_t seed_;
  std::int64_t epoch_ = -1;
  Tensor order_;  // (size) i32 on the device: this epoch's order
};

// Fisher-Yates from Philox: the same permutation for the same stream on any machine.
std::vector<std::int32_t> random_permutation(std::int64_t n, RngStream rng);

}  // namespace rp
