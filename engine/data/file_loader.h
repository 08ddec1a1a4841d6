// FileBatchLoader: an epoch's batches decoded and augmented from image files on the host, for
// datasets too large to hold as one array (ImageNet's training split).
//
// Each epoch's order is a Philox permutation (stream Shuffle/epoch, as BatchLoader's) when
// shuffling, else the list order. The example at position p of epoch e is decoded (image_io.h)
// and transformed (image_transforms.h) with the numbers p * kResizedCropDraws .. of stream
// ResizedCrop/e: RandomResizedCrop(size) and a horizontal flip when augmenting, else
// Resize(resize) + CenterCrop(size). So batch b of epoch e is a pure function of (seed, e, b),
// whichever thread decodes it and whether or not it was prefetched.
//
// A batch is decoded on all OpenMP threads into a host buffer, copied to the context's device
// and scaled to [0, 1] there (gather_batch in its original order, no augmentation). With
// prefetch on, batch b + 1 is decoded on a helper thread while the caller computes on batch b.
#pragma once

#include <cstdint>
#include <future>
#include <vector>

#include "engine/core/context.h"
#include "engine/data/batch_source.h"
#include "engine/data/dataset.h"
#include "engine/data/image_transforms.h"

namespace rp {

struct FileLoaderOptions {
  std::int64_t batch_size = 256;
  bool shuffle = true;
  bool augment = true;  // RandomResizedCrop(size) + flip; else Resize(resize) + CenterCrop(size)
  std::int64_t size = 224;
  std::int64_t resize = 256;
  ResizedCropParams crop;
  bool prefetch = true;
};

class FileBatchLoader final : public BatchSource {
 public:
  FileBatchLoader(ImageFileList files, FileLoaderOptions opt, std::uint64_t seed);
  ~FileBatchLoader() override;
  FileBatchLoader(const FileBatchLoader&) = delete;
  FileBatchLoader& operator=(const FileBatchLoader&) = delete;

  std::int64_t size() const override { return files_.size(); }
  std::int64_t batches() const override;
  std::int64_t batch_size() const override { return opt_.batch_size; }

  void start_epoch(std::int64_t epoch) override;
  std::int64_t load(Context& ctx, std::int64_t b, const Tensor& images,
                    const Tensor& labels) override;

  // Batch b of the current epoch on the host: images (n, 3, size, size) u8 and labels (n)
  // into buffers of at least batch_size() examples; returns n. Reads only this object's
  // settings and the epoch's order: safe on any thread while no start_epoch() runs.
  std::int64_t decode(std::int64_t b, std::uint8_t* images, std::int32_t* labels) const;
  // The list index of the example at `position` of the current epoch.
  std::int32_t index_at(std::int64_t position) const;
  // The stream the example at `position` of `epoch` draws its crop and flip from.
  RngStream crop_stream(std::int64_t epoch, std::int64_t position) const;

 private:
  struct Staged {
    std::vector<std::uint8_t> images;
    std::vector<std::int32_t> labels;
  };
  void wait_prefetch();

  ImageFileList files_;
  FileLoaderOptions opt_;
  std::uint64_t seed_;
  std::int64_t epoch_ = -1;
  std::vector<std::int32_t> order_;  // this epoch's order
  Staged staged_[2];
  std::future<std::int64_t> pending_;  // decoding batch pending_batch_ into staged_[1]
  std::int64_t pending_batch_ = -1;
  Tensor device_images_, device_labels_, identity_;  // (batch, 3, size, size), (batch), (batch)
};

}  // namespace rp
