// Dataset readers on data the tests write themselves: CIFAR-10's binary layout, PNG folders,
// and the synthetic generator; with the errors for missing, truncated and inconsistent data.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "engine/core/error.h"
#include "engine/data/cifar10.h"
#include "engine/data/image_folder.h"
#include "engine/data/image_io.h"
#include "engine/data/load.h"
#include "engine/data/synthetic.h"
#include "tests/support/temp_dir.h"

namespace rp {
namespace {

const std::vector<std::string> kCifarClasses = {"airplane", "automobile", "bird",  "cat",  "deer",
                                                "dog",      "frog",       "horse", "ship", "truck"};

// Record r of a file: label (r % 10), then pixel byte k = (r * 7 + k) % 251.
void write_cifar_batch(const std::string& path, int records, int label_offset = 0) {
  std::ofstream out(path, std::ios::binary);
  for (int r = 0; r < records; ++r) {
    out.put(static_cast<char>((r + label_offset) % 10));
    for (int k = 0; k < 3072; ++k) out.put(static_cast<char>((r * 7 + k) % 251));
  }
}

void write_cifar_dir(const std::string& dir, int records = 4) {
  for (int b = 1; b <= 5; ++b) {
    write_cifar_batch(dir + "/data_batch_" + std::to_string(b) + ".bin", records, b);
  }
  write_cifar_batch(dir + "/test_batch.bin", records);
  std::ofstream meta(dir + "/batches.meta.txt");
  for (const std::string& c : kCifarClasses) meta << c << "\n";
  meta << "\n";  // a trailing blank line, as the official file has
}

// The test files hold 4 records each instead of CIFAR-10's 10,000.
const Cifar10Options kFourRecords{4, true};

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(Cifar10, ReadsTheBinaryLayout) {
  test::TempDir dir;
  write_cifar_dir(dir.path());
  const DatasetSplits s = load_cifar10(dir.path(), kFourRecords);
  EXPECT_EQ(s.train.size(), 20);
  EXPECT_EQ(s.test.size(), 4);
  EXPECT_EQ(s.train.classes, kCifarClasses);
  EXPECT_EQ(s.train.channels, 3);
  EXPECT_EQ(s.train.height, 32);
  // Training record 5 is record 1 of data_batch_2: label (1 + 2) % 10, planes as stored.
  EXPECT_EQ(s.train.labels[5], 3);
  EXPECT_EQ(s.train.images[5 * 3072 + 0], (1 * 7 + 0) % 251);
  EXPECT_EQ(s.train.images[5 * 3072 + 1024 + 33], (1 * 7 + 1024 + 33) % 251);  // green, (1, 1)
  EXPECT_EQ(s.test.labels[3], 3);
}

// A subset cut evenly from every file (as tools/gpu_check.sh carries to a GPU node) loads with
// the count taken from the files.
TEST(Cifar10, ReadsAnEvenlyCutSubset) {
  test::TempDir dir;
  write_cifar_dir(dir.path(), 3);
  const DatasetSplits s = load_cifar10(dir.path(), Cifar10Options{0, true});
  EXPECT_EQ(s.train.size(), 15);
  EXPECT_EQ(s.test.size(), 3);
  EXPECT_THROW(load_cifar10(dir.path(), Cifar10Options{-1, true}), Error);
}

TEST(Cifar10, RefusesMissingTruncatedAndInconsistentFiles) {
  {
    test::TempDir dir;
    write_cifar_dir(dir.path());
    std::filesystem::remove(dir.file("data_batch_3.bin"));
    EXPECT_NE(error_of([&] { load_cifar10(dir.path(), kFourRecords); }).find("data_batch_3.bin"),
              std::string::npos);
  }
  {
    test::TempDir dir;
    write_cifar_dir(dir.path());
    std::filesystem::resize_file(dir.file("test_batch.bin"), 3073 * 4 - 100);
    const std::string e = error_of([&] { load_cifar10(dir.path(), kFourRecords); });
    EXPECT_NE(e.find("test_batch.bin is truncated"), std::string::npos) << e;
    // Cut at a record boundary, too.
    std::filesystem::resize_file(dir.file("test_batch.bin"), 3073 * 3);
    const std::string e2 = error_of([&] { load_cifar10(dir.path(), kFourRecords); });
    EXPECT_NE(e2.find("holds 3 records, expected 4"), std::string::npos) << e2;
    // With the count taken from the files, the odd one out is still found.
    const std::string e3 = error_of([&] { load_cifar10(dir.path(), Cifar10Options{0, true}); });
    EXPECT_NE(e3.find("test_batch.bin holds 3 records, expected 4"), std::string::npos) << e3;
  }
  {
    test::TempDir dir;
    write_cifar_dir(dir.path());
    std::fstream f(dir.file("data_batch_1.bin"), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(3073 * 2);
    f.put(static_cast<char>(12));  // record 2's label
    f.close();
    const std::string e = error_of([&] { load_cifar10(dir.path(), kFourRecords); });
    EXPECT_NE(e.find("label 12 in record 2"), std::string::npos) << e;
  }
  {
    test::TempDir dir;
    write_cifar_dir(dir.path());
    std::ofstream meta(dir.file("batches.meta.txt"));
    for (int i = 0; i < 9; ++i) meta << kCifarClasses[static_cast<std::size_t>(i)] << "\n";
    meta.close();
    const std::string e = error_of([&] { load_cifar10(dir.path(), kFourRecords); });
    EXPECT_NE(e.find("lists 9 classes; CIFAR-10 has 10"), std::string::npos) << e;
  }
  EXPECT_NE(error_of([] {
              load_cifar10("/no/such/dir", kFourRecords);
            }).find("/no/such/dir/batches.meta.txt"),
            std::string::npos);
}

void write_png(const std::string& path, int w, int h, std::uint8_t base) {
  Image img;
  img.width = w;
  img.height = h;
  img.channels = 3;
  for (int i = 0; i < w * h * 3; ++i) img.pixels.push_back(static_cast<std::uint8_t>(base + i));
  save_png(path, img);
}

TEST(ImageFolder, ReadsSortedClassesAsPlanarImages) {
  test::TempDir dir;
  for (const char* split : {"train", "test"}) {
    for (const char* cls : {"zebra", "apple", "mango"}) {
      std::filesystem::create_directories(dir.file(std::string(split) + "/" + cls));
      for (int i = 0; i < 2; ++i) {
        write_png(dir.file(std::string(split) + "/" + cls + "/" + std::to_string(i) + ".png"), 5, 4,
                  static_cast<std::uint8_t>(10 * i));
      }
    }
  }
  std::ofstream(dir.file("train/apple/notes.txt")) << "not an image";  // ignored
  const DatasetSplits s = load_image_folder_splits(dir.path());
  EXPECT_EQ(s.train.classes, (std::vector<std::string>{"apple", "mango", "zebra"}));
  EXPECT_EQ(s.train.size(), 6);
  EXPECT_EQ(s.train.width, 5);
  EXPECT_EQ(s.train.height, 4);
  EXPECT_EQ(s.train.labels, (std::vector<std::int32_t>{0, 0, 1, 1, 2, 2}));
  // Pixel (x=1, y=0) of image 1 (base 10): interleaved byte (0*5+1)*3 + c -> planar c*20 + 1.
  for (int c = 0; c < 3; ++c) {
    EXPECT_EQ(s.train.images[static_cast<std::size_t>(60 + c * 20 + 1)], 10 + 3 + c);
  }
}

TEST(ImageFolder, RefusesMixedSizesEmptyClassesAndMismatchedSplits) {
  {
    test::TempDir dir;
    std::filesystem::create_directories(dir.file("a"));
    write_png(dir.file("a/1.png"), 8, 8, 0);
    write_png(dir.file("a/2.png"), 8, 6, 0);
    const std::string e = error_of([&] { load_image_folder(dir.path()); });
    EXPECT_NE(e.find("2.png is 8x6"), std::string::npos) << e;
    EXPECT_NE(e.find("all images must be one size"), std::string::npos) << e;
  }
  {
    test::TempDir dir;
    std::filesystem::create_directories(dir.file("a"));
    std::filesystem::create_directories(dir.file("b"));
    write_png(dir.file("a/1.png"), 8, 8, 0);
    EXPECT_NE(error_of([&] { load_image_folder(dir.path()); }).find("holds no .png images"),
              std::string::npos);
  }
  {
    test::TempDir dir;
    std::filesystem::create_directories(dir.file("train/a"));
    write_png(dir.file("train/a/1.png"), 8, 8, 0);
    EXPECT_NE(
        error_of([&] { load_image_folder_splits(dir.path()); }).find("needs train/ and test/"),
        std::string::npos);
    std::filesystem::create_directories(dir.file("test/b"));
    write_png(dir.file("test/b/1.png"), 8, 8, 0);
    const std::string e = error_of([&] { load_image_folder_splits(dir.path()); });
    EXPECT_NE(e.find("only in train: a; only in test: b"), std::string::npos) << e;
  }
  {
    test::TempDir dir;
    const std::string latin1 = dir.file("caf\xe9");  // not UTF-8
    std::filesystem::create_directories(latin1);
    write_png(latin1 + "/1.png", 8, 8, 0);
    EXPECT_NE(error_of([&] { load_image_folder(dir.path()); }).find("is not UTF-8"),
              std::string::npos);
  }
  {
    test::TempDir dir;
    std::filesystem::create_directories(dir.file("a"));
    std::ofstream(dir.file("a/broken.png")) << "not a png";
    EXPECT_NE(error_of([&] { load_image_folder(dir.path()); }).find("broken.png is not a PNG"),
              std::string::npos);
  }
}

TEST(Synthetic, ReproducibleBalancedAndIndependentOfTheSplitSize) {
  const DatasetSplits a = make_synthetic(SyntheticOptions{200, 50, 32, 3});
  const DatasetSplits b = make_synthetic(SyntheticOptions{200, 50, 32, 3});
  const DatasetSplits c = make_synthetic(SyntheticOptions{200, 50, 32, 4});
  const DatasetSplits small = make_synthetic(SyntheticOptions{20, 5, 32, 3});
  EXPECT_EQ(a.train.images, b.train.images);
  EXPECT_NE(a.train.images, c.train.images);
  EXPECT_NE(a.train.images, std::vector<std::uint8_t>(a.train.images.size(), a.train.images[0]));
  EXPECT_TRUE(
      std::equal(small.train.images.begin(), small.train.images.end(), a.train.images.begin()));
  EXPECT_NE(a.test.images,
            std::vector<std::uint8_t>(a.train.images.begin(), a.train.images.begin() + 50 * 3072));
  std::vector<int> counts(10, 0);
  for (std::int32_t l : a.train.labels) ++counts[static_cast<std::size_t>(l)];
  for (int n : counts) EXPECT_EQ(n, 20);
  EXPECT_EQ(a.train.classes.size(), 10u);
  a.train.validate();
}

// The stripe classes are what they say: horizontal stripes vary down the columns, vertical
// stripes along the rows (measured without the faint class pattern, which varies both ways).
TEST(Synthetic, StripesHaveTheirOrientation) {
  SyntheticOptions opt{100, 10, 32, 0};
  opt.pattern_amplitude = 0;
  const DatasetSplits s = make_synthetic(opt);
  auto variation = [&](std::int64_t i, bool along_rows) {
    double v = 0;
    for (int c = 0; c < 3; ++c) {  // all channels: a random colour pair may differ in one only
      const std::uint8_t* p = s.train.images.data() + i * 3072 + c * 1024;
      for (int y = 0; y < 31; ++y) {
        for (int x = 0; x < 31; ++x) {
          const int a = p[y * 32 + x], b = along_rows ? p[y * 32 + x + 1] : p[(y + 1) * 32 + x];
          v += std::abs(a - b);
        }
      }
    }
    return v;
  };
  for (std::int64_t i = 5; i < 100; i += 10) {  // hstripes
    EXPECT_GT(variation(i, false), 2 * variation(i, true)) << "example " << i;
  }
  for (std::int64_t i = 6; i < 100; i += 10) {  // vstripes
    EXPECT_GT(variation(i, true), 2 * variation(i, false)) << "example " << i;
  }
}

// The faint class pattern: +-amplitude per pixel, the same signs throughout a class.
TEST(Synthetic, ClassPatternIsFaintAndSharedByTheClass) {
  SyntheticOptions with{40, 10, 32, 5}, without = with;
  without.pattern_amplitude = 0;
  const DatasetSplits a = make_synthetic(with), b = make_synthetic(without);
  auto diff = [&](std::int64_t i, std::int64_t k) {
    const std::size_t at = static_cast<std::size_t>(i * 3072 + k);
    return static_cast<int>(a.train.images[at]) - static_cast<int>(b.train.images[at]);
  };
  int agree = 0, total = 0;
  for (std::int64_t k = 0; k < 3072; ++k) {
    for (std::int64_t i = 0; i < 40; ++i) ASSERT_LE(std::abs(diff(i, k)), 4) << "at most 4/255";
    // Examples 3 and 13 share a class: where neither is clipped, their shifts agree in sign.
    if (std::abs(diff(3, k)) >= 3 && std::abs(diff(13, k)) >= 3) {
      agree += (diff(3, k) > 0) == (diff(13, k) > 0);
      ++total;
    }
  }
  ASSERT_GT(total, 1000);
  EXPECT_EQ(agree, total);
}

// Mean colour of each image, and how much of its spread across a split lies within classes
// rather than between them.
double within_class_share_of_colour_variance(const Dataset& d) {
  const std::int64_t n = d.size(), plane = d.height * d.width;
  std::vector<std::array<double, 3>> mean(static_cast<std::size_t>(n));
  std::array<std::array<double, 3>, 10> class_mean{};
  std::array<double, 3> all{};
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t c = 0; c < 3; ++c) {
      const std::uint8_t* p = d.images.data() + i * d.image_elements() + c * plane;
      double s = 0;
      for (std::int64_t k = 0; k < plane; ++k) s += p[k];
      const double m = s / static_cast<double>(plane) / 255;
      const auto ci = static_cast<std::size_t>(c);
      mean[static_cast<std::size_t>(i)][ci] = m;
      class_mean[static_cast<std::size_t>(d.labels[static_cast<std::size_t>(i)])][ci] +=
          m / static_cast<double>(n / 10);
      all[ci] += m / static_cast<double>(n);
    }
  }
  double within = 0, total = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::size_t c = 0; c < 3; ++c) {
      const double m = mean[static_cast<std::size_t>(i)][c];
      const double cm =
          class_mean[static_cast<std::size_t>(d.labels[static_cast<std::size_t>(i)])][c];
      within += (m - cm) * (m - cm);
      total += (m - all[c]) * (m - all[c]);
    }
  }
  return within / total;
}

// The class colour scheme: an image's colours mostly tell its class; with random colours they
// tell nothing. Shapes, textures and the faint pattern are the same in both schemes.
TEST(Synthetic, ClassColoursAreSharedByTheClass) {
  SyntheticOptions random{200, 10, 32, 7}, by_class = random;
  by_class.colours = "class";
  const DatasetSplits r = make_synthetic(random), c = make_synthetic(by_class);
  const double r_within = within_class_share_of_colour_variance(r.train);
  const double c_within = within_class_share_of_colour_variance(c.train);
  EXPECT_GT(r_within, 0.7) << "random colours: the class explains little of an image's colour";
  EXPECT_LT(c_within, 0.15) << "class colours: the class explains most of it";
  EXPECT_NE(c.train.source.find("class colours"), std::string::npos) << c.train.source;
  // Reproducible, and a class keeps its colours whatever the split's size.
  by_class.train = 20;
  const DatasetSplits small = make_synthetic(by_class);
  EXPECT_TRUE(
      std::equal(small.train.images.begin(), small.train.images.end(), c.train.images.begin()));
  by_class.colours = "rainbow";
  const std::string e = error_of([&] { make_synthetic(by_class); });
  EXPECT_NE(e.find("'rainbow'"), std::string::npos) << e;
  EXPECT_NE(e.find("random or class"), std::string::npos) << e;
}

// The scenes kind: reproducible, balanced, the same image whatever the split's size, classes
// named by shape and sky; bad kinds and probabilities are refused by name.
TEST(SyntheticScenes, ReproducibleBalancedNamedAndChecked) {
  SyntheticOptions opt{200, 50, 32, 3};
  opt.kind = "scenes";
  const DatasetSplits a = make_synthetic(opt), b = make_synthetic(opt);
  SyntheticOptions small = opt, objects = opt;
  small.train = 20;
  objects.kind = "objects";
  EXPECT_EQ(a.train.images, b.train.images);
  EXPECT_NE(a.train.images, make_synthetic(objects).train.images);
  const DatasetSplits s = make_synthetic(small);
  EXPECT_TRUE(std::equal(s.train.images.begin(), s.train.images.end(), a.train.images.begin()));
  std::vector<int> counts(10, 0);
  for (std::int32_t l : a.train.labels) ++counts[static_cast<std::size_t>(l)];
  for (int n : counts) EXPECT_EQ(n, 20);
  ASSERT_EQ(a.train.classes.size(), 10u);
  EXPECT_EQ(a.train.classes[0], "disk, red sky");
  EXPECT_EQ(a.train.classes[3], "bar, rose sky");
  EXPECT_NE(a.train.source.find("scenes of weak cues (each kept with probability 0.7)"),
            std::string::npos)
      << a.train.source;
  a.train.validate();
  a.test.validate();

  SyntheticOptions bad = opt;
  bad.kind = "forest";
  std::string e = error_of([&] { make_synthetic(bad); });
  EXPECT_NE(e.find("'forest'"), std::string::npos) << e;
  EXPECT_NE(e.find("objects or scenes"), std::string::npos) << e;
  bad = opt;
  bad.cue_probability = 1.5;
  e = error_of([&] { make_synthetic(bad); });
  EXPECT_NE(e.find("cue probability must be in [0, 1], found 1.5"), std::string::npos) << e;
}

// Each cue follows its class with the stated probability: at 1 the class explains most of an
// image's colour, at 0 almost none of it.
TEST(SyntheticScenes, CuesFollowTheClassWithTheirProbability) {
  SyntheticOptions opt{300, 10, 32, 11};
  opt.kind = "scenes";
  opt.cue_probability = 1;
  const double always = within_class_share_of_colour_variance(make_synthetic(opt).train);
  opt.cue_probability = 0;
  const double never = within_class_share_of_colour_variance(make_synthetic(opt).train);
  // At 1 the colours' jitter (0.2 per channel) and the object's place and size leave ~0.53 of
  // the variance within the classes; at 0 it is ~0.95.
  EXPECT_LT(always, 0.65) << "every cue follows the class: the class explains much of the colour";
  EXPECT_GT(never, 0.85) << "no cue follows the class: it explains next to none";
}

// The horizon is a cue: a quarter of the way down for class 0, 70% of the way for class 9. Row
// 12 (37% down) is mostly ground in class 0's scenes (the horizon's noise and tilt, and the
// object, leave ~3 in 4) and sky in class 9's, told by which of the top and bottom rows its
// colour is nearer.
TEST(SyntheticScenes, HorizonHeightTellsTheClass) {
  SyntheticOptions opt{400, 10, 32, 2};
  opt.kind = "scenes";
  opt.cue_probability = 1;
  opt.pattern_amplitude = 0;
  const Dataset d = make_synthetic(opt).train;
  auto row_colour = [&](std::int64_t i, int y) {
    std::array<double, 3> m{};
    for (int c = 0; c < 3; ++c) {
      const std::uint8_t* p = d.images.data() + i * 3072 + c * 1024 + y * 32;
      for (int x = 0; x < 32; ++x) m[static_cast<std::size_t>(c)] += p[x] / 32.0;
    }
    return m;
  };
  auto distance = [](const std::array<double, 3>& a, const std::array<double, 3>& b) {
    return std::hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
  };
  auto share_like_ground = [&](int cls) {
    int ground = 0, n = 0;
    for (std::int64_t i = cls; i < d.size(); i += 10, ++n) {
      const auto row = row_colour(i, 12);
      ground += distance(row, row_colour(i, 31)) < distance(row, row_colour(i, 0));
    }
    return static_cast<double>(ground) / n;
  };
  EXPECT_GT(share_like_ground(0), 0.6);
  EXPECT_LT(share_like_ground(9), 0.15);
}

TEST(LoadDataset, SubsetsNormalizationAndErrors) {
  DatasetRequest r;
  r.synthetic_train = 100;
  r.synthetic_test = 30;
  r.train_subset = 40;
  const DatasetSplits s = load_dataset(r);
  EXPECT_EQ(s.train.size(), 40);
  EXPECT_EQ(s.test.size(), 30);
  const ChannelStats n = normalization_for(s.train);
  ASSERT_EQ(n.mean.size(), 3u);
  for (int c = 0; c < 3; ++c) {
    EXPECT_GT(n.mean[static_cast<std::size_t>(c)], 0.2);
    EXPECT_LT(n.mean[static_cast<std::size_t>(c)], 0.8);
    EXPECT_GT(n.std[static_cast<std::size_t>(c)], 0.1);
  }
  r.kind = "imagenet";
  EXPECT_THROW(load_dataset(r), Error);
  r.kind = "cifar10";
  EXPECT_NE(error_of([&] { load_dataset(r); }).find("needs --data"), std::string::npos);
}

}  // namespace
}  // namespace rp
