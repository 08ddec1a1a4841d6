// Batches from the device dataset: the gather op against a direct crop-then-flip, permutations,
// per-epoch reshuffling, reproducibility, and partial last batches.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <set>
#include <vector>

#include "engine/core/error.h"
#include "engine/core/rng_streams.h"
#include "engine/data/loader.h"
#include "engine/data/synthetic.h"
#include "tests/support/test_support.h"

namespace rp {
namespace {

Dataset small_dataset(std::int64_t n) {
  Dataset d;
  d.name = "test";
  d.classes = {"a", "b", "c"};
  d.channels = 2;
  d.height = 5;
  d.width = 6;
  for (std::int64_t i = 0; i < n * d.image_elements(); ++i) {
    d.images.push_back(static_cast<std::uint8_t>((i * 37 + 11) % 256));
  }
  for (std::int64_t i = 0; i < n; ++i) d.labels.push_back(static_cast<std::int32_t>(i % 3));
  return d;
}

TEST(GatherBatch, CropsThenFlipsLikeTorchvision) {
  Context& ctx = test::cpu_context();
  const Dataset d = small_dataset(4);
  const DeviceDataset dev = to_device(d, Device::cpu());
  const Tensor order = Tensor::from_vector(std::vector<std::int32_t>{2, 0, 3, 3, 1}, Shape{5});
  Augmentation aug;
  aug.enabled = true;
  aug.pad = 2;
  aug.rng = RngStream{5, 6, 100};
  Tensor out = test::poisoned(Shape{5, 2, 5, 6}, DType::F32);
  Tensor labels = Tensor::empty(Shape{5}, DType::I32);
  gather_batch(ctx, dev.images, dev.labels, order, aug, out, labels);
  std::set<std::int64_t> offsets;
  int flips = 0;
  for (std::int64_t j = 0; j < 5; ++j) {
    const cpu::AugmentDraw draw = cpu::augment_draw(aug, j);
    ASSERT_TRUE(draw.oy >= 0 && draw.oy <= 4 && draw.ox >= 0 && draw.ox <= 4);
    offsets.insert(draw.oy * 5 + draw.ox);
    flips += draw.flip;
    const std::int32_t src = order.data<std::int32_t>()[j];
    EXPECT_EQ(labels.data<std::int32_t>()[j], d.labels[static_cast<std::size_t>(src)]);
    // Pad by 2 with zeros, crop at (oy, ox), then mirror the crop.
    for (std::int64_t c = 0; c < 2; ++c)
      for (std::int64_t y = 0; y < 5; ++y)
        for (std::int64_t x = 0; x < 6; ++x) {
          const std::int64_t cx = draw.flip ? 5 - x : x;  // column of the crop
          const std::int64_t sy = y + draw.oy - 2, sx = cx + draw.ox - 2;
          const double expected =
              (sy < 0 || sy >= 5 || sx < 0 || sx >= 6)
                  ? 0.0
                  : static_cast<double>(
                        static_cast<float>(
                            d.images[static_cast<std::size_t>(((src * 2 + c) * 5 + sy) * 6 + sx)]) /
                        255.0f);
          EXPECT_EQ(test::value_at(out, ((j * 2 + c) * 5 + y) * 6 + x), expected);
        }
  }
  EXPECT_GT(offsets.size(), 1u);
}

TEST(GatherBatch, WithoutAugmentationScalesOnly) {
  Context& ctx = test::cpu_context();
  const Dataset d = small_dataset(3);
  const DeviceDataset dev = to_device(d, Device::cpu());
  const Tensor order = Tensor::from_vector(std::vector<std::int32_t>{1}, Shape{1});
  Tensor out = test::poisoned(Shape{1, 2, 5, 6}, DType::F64);
  Tensor labels = Tensor::empty(Shape{1}, DType::I32);
  gather_batch(ctx, dev.images, dev.labels, order, Augmentation{}, out, labels);
  for (std::int64_t k = 0; k < 60; ++k) {
    EXPECT_EQ(test::value_at(out, k),
              static_cast<double>(d.images[static_cast<std::size_t>(60 + k)]) / 255.0);
  }
  const Tensor bad = Tensor::from_vector(std::vector<std::int32_t>{3}, Shape{1});
  EXPECT_THROW(gather_batch(ctx, dev.images, dev.labels, bad, Augmentation{}, out, labels), Error);
}

TEST(GatherBatch, FlipsHalfTheTimeAndUsesEveryOffset) {
  Augmentation aug;
  aug.enabled = true;
  aug.rng = RngStream{1, rng_stream(RngPurpose::Augment, 0), 0};
  int flips = 0;
  std::vector<int> oy(9, 0), ox(9, 0);
  const int n = 20000;
  for (int j = 0; j < n; ++j) {
    const cpu::AugmentDraw d = cpu::augment_draw(aug, j);
    flips += d.flip;
    ++oy[static_cast<std::size_t>(d.oy)];
    ++ox[static_cast<std::size_t>(d.ox)];
  }
  EXPECT_NEAR(flips / static_cast<double>(n), 0.5, 0.02);
  for (int k = 0; k < 9; ++k) {
    EXPECT_NEAR(oy[static_cast<std::size_t>(k)] / static_cast<double>(n), 1.0 / 9, 0.01);
    EXPECT_NEAR(ox[static_cast<std::size_t>(k)] / static_cast<double>(n), 1.0 / 9, 0.01);
  }
}

TEST(Permutation, IsAPermutationAndReproducible) {
  const auto a = random_permutation(1000, RngStream{1, 2, 0});
  const auto b = random_permutation(1000, RngStream{1, 2, 0});
  const auto c = random_permutation(1000, RngStream{1, 3, 0});
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  std::vector<std::int32_t> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::int32_t> iota(1000);
  std::iota(iota.begin(), iota.end(), 0);
  EXPECT_EQ(sorted, iota);
  int fixed = 0;
  for (int i = 0; i < 1000; ++i) fixed += a[static_cast<std::size_t>(i)] == i;
  EXPECT_LT(fixed, 10);  // about one fixed point expected
}

TEST(BatchLoader, EpochsReshuffleAndRepeatForTheSameSeed) {
  Context& ctx = test::cpu_context();
  const Dataset d = small_dataset(23);
  BatchLoader a(to_device(d, Device::cpu()), LoaderOptions{5, true, true, 2, true}, 9);
  BatchLoader b(to_device(d, Device::cpu()), LoaderOptions{5, true, true, 2, true}, 9);
  EXPECT_EQ(a.batches(), 5);
  Tensor xa = test::poisoned(Shape{5, 2, 5, 6}, DType::F32),
         xb = test::poisoned(Shape{5, 2, 5, 6}, DType::F32);
  Tensor ya = Tensor::empty(Shape{5}, DType::I32), yb = Tensor::empty(Shape{5}, DType::I32);
  std::vector<std::vector<std::int32_t>> epoch_labels;
  for (std::int64_t epoch : {0, 1}) {
    a.start_epoch(epoch);
    b.start_epoch(epoch);
    std::vector<std::int32_t> labels;
    std::int64_t total = 0;
    for (std::int64_t i = 0; i < a.batches(); ++i) {
      const std::int64_t n = a.load(ctx, i, xa, ya);
      EXPECT_EQ(b.load(ctx, i, xb, yb), n);
      EXPECT_EQ(n, i < 4 ? 5 : 3);  // the last batch is partial
      test::expect_equal_exact(xa.slice(0, n), xb.slice(0, n), "same seed, same batch");
      for (std::int64_t k = 0; k < n; ++k) labels.push_back(ya.data<std::int32_t>()[k]);
      total += n;
    }
    EXPECT_EQ(total, 23);
    epoch_labels.push_back(labels);
  }
  EXPECT_NE(epoch_labels[0], epoch_labels[1]) << "epochs should be ordered differently";
  EXPECT_THROW(a.load(ctx, 5, xa, ya), Error);
}

}  // namespace
}  // namespace rp
