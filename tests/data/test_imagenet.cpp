// ImageNet and RestrictedImageNet folders the tests write themselves (JPEGs and PNGs of mixed
// sizes, a fake 1000-class tree with a few classes filled), and the training batches decoded
// and augmented from files: reproducible per (seed, epoch, batch), crops inside the images.
#include <gtest/gtest.h>
#include <png.h>

#include <cstdio>
#include <filesystem>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "engine/core/error.h"
#include "engine/data/file_loader.h"
#include "engine/data/image_io.h"
#include "engine/data/image_transforms.h"
#include "engine/data/imagenet.h"
#include "engine/data/load.h"
#include "tests/data/image_files.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_support.h"

namespace rp {
namespace {

namespace fs = std::filesystem;

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

std::string wnid(int i) {
  char name[16];
  std::snprintf(name, sizeof name, "n%08d", i);
  return name;
}

// Image k of a folder: JPEG or PNG by k's parity, a size that changes with k.
void write_image(const std::string& path, int k) {
  const int w = 40 + 13 * (k % 5), h = 30 + 17 * (k % 3);
  const auto pixels = test::pattern_pixels(w, h, 3, static_cast<std::uint64_t>(k));
  if (k % 2 == 0) {
    test::write_jpeg(path + ".JPEG", w, h, 3, pixels, 95);
  } else {
    test::write_png_file(path + ".png", w, h, PNG_COLOR_TYPE_RGB, 8, pixels);
  }
}

// split/<wnid(c)>/ for each class c with counts[c] images.
void write_split(const std::string& dir, const std::vector<int>& counts, int first_k = 0) {
  int k = first_k;
  for (std::size_t c = 0; c < counts.size(); ++c) {
    const std::string cls = dir + "/" + wnid(static_cast<int>(c));
    fs::create_directories(cls);
    for (int i = 0; i < counts[c]; ++i) write_image(cls + "/img" + std::to_string(i), k++);
  }
}

DatasetRequest imagenet_request(const std::string& dir, const std::string& kind = "imagenet") {
  DatasetRequest r;
  r.kind = kind;
  r.dir = dir;
  return r;
}

TEST(Imagenet, DecodesMixedSizesTo224AndListsTheTrainingFiles) {
  test::TempDir dir;
  write_split(dir.file("train"), {3, 2, 4});
  write_split(dir.file("val"), {2, 2, 1}, 100);
  const DatasetSplits s = load_dataset(imagenet_request(dir.path()));
  EXPECT_EQ(s.test.name, "imagenet");
  EXPECT_EQ(s.test.classes, (std::vector<std::string>{wnid(0), wnid(1), wnid(2)}));
  EXPECT_EQ(s.test.size(), 5);
  EXPECT_EQ(s.test.channels, 3);
  EXPECT_EQ(s.test.height, 224);
  EXPECT_EQ(s.test.width, 224);
  EXPECT_EQ(s.test.labels, (std::vector<std::int32_t>{0, 0, 1, 1, 2}));
  // Each test image is Resize(256) + CenterCrop(224) of its file, planar.
  const ImageFileList val = list_image_files(dir.file("val"), "imagenet");
  ASSERT_EQ(val.size(), 5);
  for (std::int64_t i = 0; i < 5; ++i) {
    std::vector<std::uint8_t> want(3 * 224 * 224);
    to_planar(eval_transform(load_image(val.paths[static_cast<std::size_t>(i)])), want.data());
    ASSERT_TRUE(std::equal(want.begin(), want.end(), s.test.images.begin() + i * 3 * 224 * 224))
        << val.paths[static_cast<std::size_t>(i)];
  }
  // The training split stays files; its Dataset carries the classes and the image shape.
  EXPECT_EQ(s.train_files.size(), 9);
  EXPECT_EQ(s.train_files.labels, (std::vector<std::int32_t>{0, 0, 0, 1, 1, 2, 2, 2, 2}));
  EXPECT_EQ(s.train.size(), 0);
  EXPECT_EQ(s.train.classes, s.test.classes);
  EXPECT_EQ(s.train.height, 224);
  EXPECT_EQ(s.train.name, "imagenet");
  const ChannelStats norm = normalization_for(s.train);
  EXPECT_EQ(norm.mean, (std::vector<double>{0.485, 0.456, 0.406}));
  EXPECT_EQ(norm.std, (std::vector<double>{0.229, 0.224, 0.225}));
  // Decoded instead (evaluation on the training split).
  DatasetRequest r = imagenet_request(dir.path());
  r.decode_train = true;
  const DatasetSplits d = load_dataset(r);
  EXPECT_EQ(d.train.size(), 9);
  EXPECT_EQ(d.train.height, 224);
  EXPECT_EQ(d.train_files.size(), 0);
}

TEST(Imagenet, SubsetsAreClassBalanced) {
  test::TempDir dir;
  write_split(dir.file("val"), {4, 2, 3});
  DatasetRequest r = imagenet_request(dir.path());
  r.train = false;  // val/ alone is enough to evaluate
  r.test_subset = 4;
  const DatasetSplits s = load_dataset(r);
  // Round 1 takes one of each class, round 2 the next of class 0.
  EXPECT_EQ(s.test.labels, (std::vector<std::int32_t>{0, 0, 1, 2}));
  EXPECT_EQ(s.train.classes, s.test.classes);
  r.test_subset = 8;
  EXPECT_EQ(load_dataset(r).test.labels, (std::vector<std::int32_t>{0, 0, 0, 1, 1, 2, 2, 2}));
  const ImageFileList all = list_image_files(dir.file("val"), "imagenet");
  const ImageFileList sub = balanced_subset(all, 5);
  EXPECT_EQ(sub.paths[0], all.paths[0]);
  EXPECT_EQ(sub.paths[1], all.paths[1]);
  EXPECT_EQ(sub.paths[2], all.paths[4]);  // class 1's first
}

TEST(Imagenet, RefusesBadFolders) {
  test::TempDir dir;
  std::string e = error_of([&] { load_dataset(imagenet_request(dir.path())); });
  EXPECT_NE(e.find("needs val/ and train/"), std::string::npos) << e;
  write_split(dir.file("val"), {1, 1});
  write_split(dir.file("train"), {1, 1, 1});
  e = error_of([&] { load_dataset(imagenet_request(dir.path())); });
  EXPECT_NE(e.find("only in train: " + wnid(2) + "; only in val: -"), std::string::npos) << e;
  fs::remove_all(dir.file("train/" + wnid(2)));
  // A file that is not an image, named as one.
  test::write_bytes(dir.file("val/" + wnid(1) + "/bad.JPEG"), "GIF89a......");
  e = error_of([&] { load_dataset(imagenet_request(dir.path())); });
  EXPECT_NE(e.find("bad.JPEG is neither a PNG nor a JPEG"), std::string::npos) << e;
  DatasetRequest r = imagenet_request("");
  EXPECT_NE(error_of([&] { load_dataset(r); }).find("imagenet needs --data DIR"),
            std::string::npos);
}

TEST(RestrictedImagenet, MapsTheRobustnessLibrarysRangesToNineLabels) {
  // The ranges as constants.RESTRICTED_IMAGNET_RANGES lists them.
  EXPECT_EQ(restricted_imagenet_label(150), -1);
  EXPECT_EQ(restricted_imagenet_label(151), 0);
  EXPECT_EQ(restricted_imagenet_label(268), 0);
  EXPECT_EQ(restricted_imagenet_label(269), -1);
  EXPECT_EQ(restricted_imagenet_label(281), 1);
  EXPECT_EQ(restricted_imagenet_label(285), 1);
  EXPECT_EQ(restricted_imagenet_label(30), 2);
  EXPECT_EQ(restricted_imagenet_label(32), 2);
  EXPECT_EQ(restricted_imagenet_label(33), 3);
  EXPECT_EQ(restricted_imagenet_label(37), 3);
  EXPECT_EQ(restricted_imagenet_label(80), 4);
  EXPECT_EQ(restricted_imagenet_label(100), 4);
  EXPECT_EQ(restricted_imagenet_label(365), 5);
  EXPECT_EQ(restricted_imagenet_label(382), 5);
  EXPECT_EQ(restricted_imagenet_label(389), 6);
  EXPECT_EQ(restricted_imagenet_label(397), 6);
  EXPECT_EQ(restricted_imagenet_label(118), 7);
  EXPECT_EQ(restricted_imagenet_label(121), 7);
  EXPECT_EQ(restricted_imagenet_label(300), 8);
  EXPECT_EQ(restricted_imagenet_label(319), 8);
  EXPECT_EQ(restricted_imagenet_label(320), -1);
  EXPECT_EQ(restricted_imagenet_label(0), -1);
  EXPECT_EQ(restricted_imagenet_label(999), -1);
  int kept = 0;
  for (int i = 0; i < 1000; ++i) kept += restricted_imagenet_label(i) >= 0 ? 1 : 0;
  EXPECT_EQ(kept, 118 + 5 + 3 + 5 + 21 + 18 + 9 + 4 + 20);
}

TEST(RestrictedImagenet, ReadsAFake1000ClassFolder) {
  test::TempDir dir;
  // 1000 class folders, empty but for a few.
  for (const char* split : {"train", "val"}) {
    for (int c = 0; c < 1000; ++c)
      fs::create_directories(dir.file(std::string(split) + "/" + wnid(c)));
  }
  const std::vector<std::pair<int, int>> filled = {{0, 1},   {30, 2},  {151, 1}, {268, 2},
                                                   {269, 1}, {319, 1}, {999, 1}};
  int k = 0;
  for (const auto& [cls, n] : filled) {
    for (int i = 0; i < n; ++i) {
      write_image(dir.file("val/" + wnid(cls) + "/v" + std::to_string(i)), k++);
      write_image(dir.file("train/" + wnid(cls) + "/t" + std::to_string(i)), k++);
    }
  }
  const DatasetSplits s = load_dataset(imagenet_request(dir.path(), "restricted_imagenet"));
  EXPECT_EQ(s.test.name, "restricted_imagenet");
  EXPECT_EQ(s.test.classes, (std::vector<std::string>{"dog", "cat", "frog", "turtle", "bird",
                                                      "primate", "fish", "crab", "insect"}));
  // Classes 30 (frog), 151 and 268 (dog), 319 (insect), in wnid order; 0, 269, 999 left out.
  EXPECT_EQ(s.test.labels, (std::vector<std::int32_t>{2, 2, 0, 0, 0, 8}));
  EXPECT_EQ(s.test.height, 224);
  EXPECT_EQ(s.train_files.labels, (std::vector<std::int32_t>{2, 2, 0, 0, 0, 8}));
  EXPECT_NE(s.train_files.paths[2].find(wnid(151)), std::string::npos);
  EXPECT_EQ(normalization_for(s.train).mean, (std::vector<double>{0.485, 0.456, 0.406}));
  // 999 classes: refused with the count.
  fs::remove_all(dir.file("val/" + wnid(999)));
  fs::remove_all(dir.file("train/" + wnid(999)));
  const std::string e =
      error_of([&] { load_dataset(imagenet_request(dir.path(), "restricted_imagenet")); });
  EXPECT_NE(e.find("has 999 class folders"), std::string::npos) << e;
  EXPECT_NE(e.find("all 1000 are needed"), std::string::npos) << e;
}

ImageFileList small_training_files(const test::TempDir& dir) {
  write_split(dir.file("train"), {4, 3, 4});
  return list_image_files(dir.file("train"), "imagenet");
}

TEST(FileBatchLoader, BatchesAreAPureFunctionOfSeedEpochAndBatch) {
  test::TempDir dir;
  const ImageFileList files = small_training_files(dir);
  FileLoaderOptions opt;
  opt.batch_size = 4;
  opt.size = 32;
  FileBatchLoader a(files, opt, 7), b(files, opt, 7), other_seed(files, opt, 8);
  EXPECT_EQ(a.batches(), 3);
  const std::size_t image = 3 * 32 * 32;
  auto decode = [&](FileBatchLoader& l, std::int64_t epoch, std::int64_t batch) {
    l.start_epoch(epoch);
    std::vector<std::uint8_t> px(4 * image, 0xEE);
    std::vector<std::int32_t> labels(4, -5);
    const std::int64_t n = l.decode(batch, px.data(), labels.data());
    px.resize(static_cast<std::size_t>(n) * image);
    labels.resize(static_cast<std::size_t>(n));
    return std::make_pair(px, labels);
  };
  const auto first = decode(a, 2, 1);
  EXPECT_EQ(first.first.size(), 4 * image);
  EXPECT_EQ(decode(b, 2, 1), first);              // another loader, same (seed, epoch, batch)
  EXPECT_EQ(decode(a, 2, 1), first);              // again
  EXPECT_NE(decode(a, 3, 1).first, first.first);  // another epoch
  EXPECT_NE(decode(other_seed, 2, 1).first, first.first);
  EXPECT_EQ(decode(a, 2, 2).first.size(), 3 * image);  // the last batch is short
  // Each example is its file through RandomResizedCrop + flip from its own stream, with its
  // label; every crop lies inside its image.
  a.start_epoch(5);
  std::vector<std::uint8_t> px(4 * image);
  std::vector<std::int32_t> labels(4);
  std::set<std::int32_t> seen;
  for (std::int64_t batch = 0; batch < a.batches(); ++batch) {
    const std::int64_t n = a.decode(batch, px.data(), labels.data());
    for (std::int64_t j = 0; j < n; ++j) {
      const std::int64_t position = batch * 4 + j;
      const std::int32_t idx = a.index_at(position);
      seen.insert(idx);
      EXPECT_EQ(labels[static_cast<std::size_t>(j)], files.labels[static_cast<std::size_t>(idx)]);
      const Image raw = load_image(files.paths[static_cast<std::size_t>(idx)]);
      const RngStream rng = a.crop_stream(5, position);
      const CropBox box = random_resized_crop_box(raw.width, raw.height, rng);
      EXPECT_GE(box.top, 0);
      EXPECT_GE(box.left, 0);
      EXPECT_LE(box.top + box.height, raw.height);
      EXPECT_LE(box.left + box.width, raw.width);
      std::vector<std::uint8_t> want(image);
      to_planar(train_transform(raw, 32, rng), want.data());
      EXPECT_TRUE(
          std::equal(want.begin(), want.end(), px.begin() + j * static_cast<std::int64_t>(image)))
          << "position " << position;
    }
  }
  EXPECT_EQ(seen.size(), 11u);  // a permutation of the files
}

TEST(FileBatchLoader, LoadScalesToTheUnitIntervalWithOrWithoutPrefetch) {
  test::TempDir dir;
  const ImageFileList files = small_training_files(dir);
  Context& ctx = test::cpu_context();
  FileLoaderOptions opt;
  opt.batch_size = 4;
  opt.size = 24;
  FileLoaderOptions no_prefetch = opt;
  no_prefetch.prefetch = false;
  FileBatchLoader with(files, opt, 3), without(files, no_prefetch, 3), host(files, opt, 3);
  Tensor y1 = Tensor::empty(Shape{4}, DType::I32), y2 = Tensor::empty(Shape{4}, DType::I32);
  for (std::int64_t epoch = 0; epoch < 2; ++epoch) {
    with.start_epoch(epoch);
    without.start_epoch(epoch);
    host.start_epoch(epoch);
    for (std::int64_t batch = 0; batch < with.batches(); ++batch) {
      const Tensor x1 = test::poisoned(Shape{4, 3, 24, 24}, DType::F32);
      const Tensor x2 = test::poisoned(Shape{4, 3, 24, 24}, DType::F32);
      const std::int64_t n = with.load(ctx, batch, x1, y1);
      ASSERT_EQ(without.load(ctx, batch, x2, y2), n);
      std::vector<std::uint8_t> px(static_cast<std::size_t>(n) * 3 * 24 * 24);
      std::vector<std::int32_t> labels(static_cast<std::size_t>(n));
      host.decode(batch, px.data(), labels.data());
      const std::vector<float> a = x1.slice(0, n).to_vector<float>();
      const std::vector<float> b = x2.slice(0, n).to_vector<float>();
      ASSERT_EQ(a, b);
      for (std::size_t i = 0; i < a.size(); ++i) ASSERT_EQ(a[i], float(px[i]) / 255.0f) << i;
      EXPECT_EQ(y1.slice(0, n).to_vector<std::int32_t>(), labels);
      EXPECT_EQ(y2.slice(0, n).to_vector<std::int32_t>(), labels);
    }
  }
  // A buffer of the wrong image size.
  Tensor small = Tensor::empty(Shape{4, 3, 16, 16});
  with.start_epoch(0);
  EXPECT_THROW(with.load(ctx, 0, small, y1), Error);
}

// On a GPU context the host-decoded batch is copied and scaled on the device: the same values.
TEST(FileBatchLoader, GpuBatchesEqualTheCpuOnes) {
  RP_SKIP_WITHOUT_GPU();
  test::TempDir dir;
  const ImageFileList files = small_training_files(dir);
  FileLoaderOptions opt;
  opt.batch_size = 4;
  opt.size = 24;
  FileBatchLoader cpu(files, opt, 9), gpu(files, opt, 9);
  Context& gctx = test::gpu_context();
  const Tensor gx = Tensor::empty(Shape{4, 3, 24, 24}, DType::F32, gctx.device());
  const Tensor gy = Tensor::empty(Shape{4}, DType::I32, gctx.device());
  const Tensor x = test::poisoned(Shape{4, 3, 24, 24}, DType::F32);
  const Tensor y = Tensor::empty(Shape{4}, DType::I32);
  cpu.start_epoch(1);
  gpu.start_epoch(1);
  for (std::int64_t b = 0; b < cpu.batches(); ++b) {
    const std::int64_t n = cpu.load(test::cpu_context(), b, x, y);
    ASSERT_EQ(gpu.load(gctx, b, gx, gy), n);
    gctx.synchronize();
    EXPECT_EQ(gx.slice(0, n).to_vector<float>(), x.slice(0, n).to_vector<float>());
    EXPECT_EQ(gy.slice(0, n).to_vector<std::int32_t>(), y.slice(0, n).to_vector<std::int32_t>());
  }
}

TEST(FileBatchLoader, WithoutAugmentationIsTheEvaluationTransform) {
  test::TempDir dir;
  const ImageFileList files = small_training_files(dir);
  FileLoaderOptions opt;
  opt.batch_size = 5;
  opt.size = 28;
  opt.resize = 32;
  opt.augment = false;
  opt.shuffle = false;
  FileBatchLoader l(files, opt, 0);
  l.start_epoch(0);
  std::vector<std::uint8_t> px(5 * 3 * 28 * 28);
  std::vector<std::int32_t> labels(5);
  ASSERT_EQ(l.decode(0, px.data(), labels.data()), 5);
  std::vector<std::uint8_t> want(3 * 28 * 28);
  to_planar(eval_transform(load_image(files.paths[3]), 32, 28), want.data());
  EXPECT_TRUE(std::equal(want.begin(), want.end(), px.begin() + 3 * 3 * 28 * 28));
  EXPECT_EQ(labels, (std::vector<std::int32_t>{0, 0, 0, 0, 1}));
}

}  // namespace
}  // namespace rp
