#include "engine/data/file_loader.h"

#include <exception>
#include <numeric>
#include <utility>

#include "engine/core/error.h"
#include "engine/core/rng_streams.h"
#include "engine/data/image_io.h"
#include "engine/data/loader.h"
#include "engine/ops/batch.h"

namespace rp {

FileBatchLoader::FileBatchLoader(ImageFileList files, FileLoaderOptions opt, std::uint64_t seed)
    : files_(std::move(files)), opt_(opt), seed_(seed) {
  const char* op = "FileBatchLoader";
  RP_CHECK(files_.size() >= 1, op, "no image files (" << files_.source << ")");
  RP_CHECK(files_.labels.size() == files_.paths.size(), op,
           files_.paths.size() << " files but " << files_.labels.size() << " labels");
  RP_CHECK(files_.size() <= 2147483647, op, "more examples than int32 indices");
  RP_CHECK(opt_.batch_size >= 1, op, "batch size must be >= 1, found " << opt_.batch_size);
  RP_CHECK(opt_.size >= 1 && opt_.size <= 4096, op,
           "image size must be in [1, 4096], found " << opt_.size);
  RP_CHECK(opt_.augment || opt_.resize >= opt_.size, op,
           "Resize(" << opt_.resize << ") cannot be followed by CenterCrop(" << opt_.size << ")");
  const auto k = static_cast<std::int32_t>(files_.classes.size());
  for (std::size_t i = 0; i < files_.labels.size(); ++i) {
    RP_CHECK(
        files_.labels[i] >= 0 && files_.labels[i] < k, op,
        files_.paths[i] << " has label " << files_.labels[i] << " outside its " << k << " classes");
  }
  const std::int64_t image = 3 * opt_.size * opt_.size;
  for (Staged& s : staged_) {
    s.images.resize(static_cast<std::size_t>(opt_.batch_size * image));
    s.labels.resize(static_cast<std::size_t>(opt_.batch_size));
  }
}

FileBatchLoader::~FileBatchLoader() {
  try {
    wait_prefetch();
  } catch (...) {
    // a prefetched batch nobody asked for: its error does not matter
  }
}

std::int64_t FileBatchLoader::batches() const {
  return (files_.size() + opt_.batch_size - 1) / opt_.batch_size;
}

void FileBatchLoader::wait_prefetch() {
  if (pending_.valid()) {
    pending_batch_ = -1;
    pending_.get();
  }
}

void FileBatchLoader::start_epoch(std::int64_t epoch) {
  RP_CHECK(epoch >= 0, "FileBatchLoader", "epoch " << epoch);
  try {
    wait_prefetch();
  } catch (...) {
    // the batch of another epoch
  }
  if (opt_.shuffle) {
    order_ = random_permutation(
        files_.size(),
        RngStream{seed_, rng_stream(RngPurpose::Shuffle, static_cast<std::uint64_t>(epoch))});
  } else {
    order_.resize(static_cast<std::size_t>(files_.size()));
    std::iota(order_.begin(), order_.end(), 0);
  }
  epoch_ = epoch;
}

std::int32_t FileBatchLoader::index_at(std::int64_t position) const {
  RP_CHECK(epoch_ >= 0, "FileBatchLoader", "start_epoch() first");
  RP_CHECK(position >= 0 && position < size(), "FileBatchLoader",
           "position " << position << " of an epoch of " << size());
  return order_[static_cast<std::size_t>(position)];
}

RngStream FileBatchLoader::crop_stream(std::int64_t epoch, std::int64_t position) const {
  return RngStream{seed_, rng_stream(RngPurpose::ResizedCrop, static_cast<std::uint64_t>(epoch)),
                   static_cast<std::uint64_t>(position) * kResizedCropDraws};
}

std::int64_t FileBatchLoader::decode(std::int64_t b, std::uint8_t* images,
                                     std::int32_t* labels) const {
  RP_CHECK(epoch_ >= 0, "FileBatchLoader", "start_epoch() before decode()");
  RP_CHECK(b >= 0 && b < batches(), "FileBatchLoader",
           "batch " << b << " of an epoch of " << batches() << " batches");
  const std::int64_t begin = b * opt_.batch_size;
  const std::int64_t n = std::min(opt_.batch_size, size() - begin);
  const std::int64_t image = 3 * opt_.size * opt_.size;
  std::vector<std::exception_ptr> errors(static_cast<std::size_t>(n));
#pragma omp parallel for schedule(dynamic, 1)
  for (std::int64_t j = 0; j < n; ++j) {
    try {
      const auto idx = static_cast<std::size_t>(order_[static_cast<std::size_t>(begin + j)]);
      const Image raw = load_image(files_.paths[idx]);
      const Image out =
          opt_.augment ? train_transform(raw, opt_.size, crop_stream(epoch_, begin + j), opt_.crop)
                       : eval_transform(raw, opt_.resize, opt_.size);
      to_planar(out, images + j * image);
      labels[j] = files_.labels[idx];
    } catch (...) {
      errors[static_cast<std::size_t>(j)] = std::current_exception();
    }
  }
  for (const std::exception_ptr& e : errors) {
    if (e) std::rethrow_exception(e);
  }
  return n;
}

std::int64_t FileBatchLoader::load(Context& ctx, std::int64_t b, const Tensor& images,
                                   const Tensor& labels) {
  RP_CHECK(epoch_ >= 0, "FileBatchLoader", "start_epoch() before load()");
  const std::int64_t s = opt_.size;
  RP_CHECK(images.defined() && images.rank() == 4 && images.size(1) == 3 && images.size(2) == s &&
               images.size(3) == s && labels.defined() && labels.rank() == 1 &&
               images.size(0) >= std::min(opt_.batch_size, size()) &&
               labels.size(0) >= std::min(opt_.batch_size, size()),
           "FileBatchLoader",
           "buffers " << images.str() << " and " << labels.str() << " cannot hold batches of "
                      << opt_.batch_size << " images of 3x" << s << "x" << s);
  std::int64_t n = 0;
  if (pending_batch_ == b && pending_.valid()) {
    pending_batch_ = -1;
    n = pending_.get();
    std::swap(staged_[0], staged_[1]);
  } else {
    wait_prefetch();
    n = decode(b, staged_[0].images.data(), staged_[0].labels.data());
  }
  if (opt_.prefetch && b + 1 < batches()) {
    pending_batch_ = b + 1;
    pending_ = std::async(std::launch::async, [this, next = b + 1] {
      return decode(next, staged_[1].images.data(), staged_[1].labels.data());
    });
  }
  const Device dev = ctx.device();
  if (!device_images_.defined() || device_images_.device() != dev) {
    const std::int64_t cap = std::min(opt_.batch_size, size());
    device_images_ = Tensor::empty(Shape{cap, 3, s, s}, DType::U8, dev);
    device_labels_ = Tensor::empty(Shape{cap}, DType::I32, dev);
    std::vector<std::int32_t> iota(static_cast<std::size_t>(cap));
    std::iota(iota.begin(), iota.end(), 0);
    identity_ = Tensor::from_vector(iota, Shape{cap}, dev);
  }
  const Tensor staged_images =
      Tensor::wrap(staged_[0].images.data(), Shape{n, 3, s, s}, DType::U8, Device::cpu());
  const Tensor staged_labels =
      Tensor::wrap(staged_[0].labels.data(), Shape{n}, DType::I32, Device::cpu());
  // copy() from the host returns once the bytes are staged: staged_[0] may be reused at once.
  ctx.copy(device_images_.slice(0, n), staged_images);
  ctx.copy(device_labels_.slice(0, n), staged_labels);
  Augmentation none;
  none.enabled = false;
  gather_batch(ctx, device_images_.slice(0, n), device_labels_.slice(0, n), identity_.slice(0, n),
               none, images.slice(0, n), labels.slice(0, n));
  return n;
}

}  // namespace rp
