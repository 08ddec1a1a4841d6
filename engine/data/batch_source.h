// BatchSource: what the trainer draws an epoch's batches from. BatchLoader (loader.h) gathers
// them from a dataset held on the device; FileBatchLoader (file_loader.h) decodes and augments
// image files on the host. Either way batch b of epoch e is a pure function of (seed, e, b).
#pragma once

#include <cstdint>

#include "engine/core/context.h"
#include "engine/core/tensor.h"

namespace rp {

class BatchSource {
 public:
  virtual ~BatchSource() = default;

  virtual std::int64_t size() const = 0;  // examples per epoch
  virtual std::int64_t batches() const = 0;
  virtual std::int64_t batch_size() const = 0;

  virtual void start_epoch(std::int64_t epoch) = 0;
  // Batch b of the current epoch into the first rows of images (>= batch, C, H, W), floating in
  // [0, 1], and labels (>= batch) i32; returns the number of examples.
  virtual std::int64_t load(Context& ctx, std::int64_t b, const Tensor& images,
                            const Tensor& labels) = 0;
};

}  // namespace rp
