#include "engine/data/loader.h"

#include <numeric>
#include <utility>

#include "engine/core/error.h"
#include "engine/core/rng_streams.h"

namespace rp {

std::vector<std::int32_t> random_permutation(std::int64_t n, RngStream rng) {
  std::vector<std::int32_t> p(static_cast<std::size_t>(n));
  std::iota(p.begin(), p.end(), 0);
  for (std::int64_t i = n - 1; i > 0; --i) {
    const std::uint64_t e = rng.offset + static_cast<std::uint64_t>(i);
    const std::uint32_t word = rng_block(rng, e / 4).w[e % 4];
    const auto j = static_cast<std::int64_t>(
        (static_cast<std::uint64_t>(word) * static_cast<std::uint64_t>(i + 1)) >> 32);
    std::swap(p[static_cast<std::size_t>(i)], p[static_cast<std::size_t>(j)]);
  }
  return p;
}

BatchLoader::BatchLoader(DeviceDataset data, LoaderOptions opt, std::uint64_t seed)
    : data_(std::move(data)), opt_(opt), seed_(seed) {
  RP_CHECK(data_.size() >= 1, "BatchLoader", "the dataset is empty");
  RP_CHECK(opt_.batch_size >= 1, "BatchLoader",
           "batch size must be >= 1, found " << opt_.batch_size);
  RP_CHECK(data_.size() <= 2147483647, "BatchLoader", "more examples than int32 indices");
}

std::int64_t BatchLoader::batches() const {
  return (data_.size() + opt_.batch_size - 1) / opt_.batch_size;
}

void BatchLoader::start_epoch(std::int64_t epoch) {
  std::vector<std::int32_t> order;
  if (opt_.shuffle) {
    order = random_permutation(
        data_.size(),
        RngStream{seed_, rng_stream(RngPurpose::Shuffle, static_cast<std::uint64_t>(epoch))});
  } else {
    order.resize(static_cast<std::size_t>(data_.size()));
    std::iota(order.begin(), order.end(), 0);
  }
  // One upload per epoch, at the epoch boundary.
  order_ = Tensor::from_vector(order, Shape{data_.size()}, data_.labels.device());
  epoch_ = epoch;
}

std::int64_t BatchLoader::load(Context& ctx, std::int64_t b, const Tensor& images,
                               const Tensor& labels) {
  RP_CHECK(epoch_ >= 0, "BatchLoader", "start_epoch() before load()");
  RP_CHECK(b >= 0 && b < batches(), "BatchLoader",
           "batch " << b << " of an epoch of " << batches() << " batches");
  const std::int64_t begin = b * opt_.batch_size;
  const std::int64_t n = std::min(opt_.batch_size, data_.size() - begin);
  RP_CHECK(
      images.defined() && images.rank() == 4 && images.size(0) >= n && labels.defined() &&
          labels.rank() == 1 && labels.size(0) >= n,
      "BatchLoader",
      "buffers " << images.str() << " and " << labels.str() << " cannot hold a batch of " << n);
  Augmentation aug;
  aug.enabled = opt_.augment;
  aug.pad = opt_.pad;
  aug.flip = opt_.flip;
  aug.rng = RngStream{seed_, rng_stream(RngPurpose::Augment, static_cast<std::uint64_t>(epoch_)),
                      static_cast<std::uint64_t>(begin)};
  gather_batch(ctx, data_.images, data_.labels, order_.slice(begin, begin + n), aug,
               images.slice(0, n), labels.slice(0, n));
  return n;
}

}  // namespace rp
