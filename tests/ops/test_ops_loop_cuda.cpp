// The CUDA twins of the ops that attack, training and experiment loops run per iteration -
// objectives, keep_better, the correct-prediction metrics and the batch gather - against the
// CPU reference on fresh random inputs, outputs poisoned with NaN first. Tolerances: bit for
// bit (a NaN matching any NaN) for everything that is one expression per element - the
// coordinate ops, keep_better, the metrics, the gathered images and labels; 1e-6 relative
// (1e-7 absolute, for accumulated gradients that cancel) for the representation distance and
// its gradient, whose per-example norms are double sums in another order. Sizes: batch 1, odd
// feature counts, below, at and above the vector width, large. Both dtypes, both GradModes,
// maximize and minimize with NaN values and ties, augmentation off and on with an epoch's
// stream and offset, out-of-range indices. The GPU tests skip, with the reason, where no GPU
// is present; the reference tests pin the CPU semantics (NaN, ties, bad indices) the GPU
// kernels are written to and run everywhere.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "engine/core/error.h"
#include "engine/core/rng_streams.h"
#include "engine/data/loader.h"
#include "engine/ops/batch.h"
#include "engine/ops/metrics.h"
#include "engine/ops/objectives.h"
#include "tests/support/test_support.h"

namespace rp {
namespace {

using Size = std::pair<std::int64_t, std::int64_t>;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// (examples, features): batch 1, odd, below/at/above the vector width (4 floats, 2 doubles),
// more rows than a block's warps, a representation's width, large.
const Size kSizes[] = {{1, 1},  {1, 3},    {2, 4},   {3, 5},    {2, 8},
                       {5, 13}, {129, 10}, {4, 512}, {3, 2048}, {2, 70001}};

Context& gpu() {
  return test::gpu_context();
}
Tensor on_gpu(const Tensor& t) {
  return t.to(Device::cuda(0));
}
Tensor poisoned_gpu(const Shape& s, DType dt) {
  return on_gpu(test::poisoned(s, dt));
}

std::string where(const char* op, const Shape& s, DType dt) {
  std::ostringstream os;
  os << op << " " << s << (dt == DType::F64 ? " f64" : " f32");
  return os.str();
}

// Bit for bit, except that any NaN matches any NaN (payloads differ between the CPU's and the
// GPU's arithmetic; no op here promises a payload).
template <typename T>
void expect_bits_typed(const Tensor& actual, const Tensor& expected, const std::string& what) {
  const std::vector<T> a = actual.to(Device::cpu()).to_vector<T>();
  const std::vector<T> e = expected.to(Device::cpu()).to_vector<T>();
  ASSERT_EQ(a.size(), e.size()) << what;
  int reported = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const bool same =
        std::memcmp(&a[i], &e[i], sizeof(T)) == 0 ||
        (std::isnan(static_cast<double>(a[i])) && std::isnan(static_cast<double>(e[i])));
    if (!same && reported++ < 5) {
      ADD_FAILURE() << what << ": element " << i << " is " << a[i] << ", expected bit for bit "
                    << e[i];
    }
  }
}
void expect_bits(const Tensor& actual, const Tensor& expected, const std::string& what) {
  ASSERT_EQ(actual.shape(), expected.shape()) << what;
  ASSERT_EQ(actual.dtype(), expected.dtype()) << what;
  if (actual.dtype() == DType::F64) {
    expect_bits_typed<double>(actual, expected, what);
  } else if (actual.dtype() == DType::F32) {
    expect_bits_typed<float>(actual, expected, what);
  } else {
    ASSERT_EQ(actual.dtype(), DType::I32) << what;
    EXPECT_EQ(actual.to(Device::cpu()).to_vector<std::int32_t>(),
              expected.to(Device::cpu()).to_vector<std::int32_t>())
        << what;
  }
}

Tensor int_tensor(const std::vector<std::int32_t>& v) {
  return Tensor::from_vector(v, Shape{static_cast<std::int64_t>(v.size())});
}

// ---- representation distance ---------------------------------------------------------------

TEST(RepresentationDistanceCuda, ForwardAndBackwardInBothModes) {
  RP_SKIP_WITHOUT_GPU();
  std::uint64_t seed = 1000;
  for (DType dt : {DType::F32, DType::F64}) {
    for (const auto& [n, f] : kSizes) {
      const Shape s{n, f};
      const Tensor r = test::random_tensor(s, dt, ++seed), t = test::random_tensor(s, dt, ++seed);
      // The last example sits on its target: distance 0 and the zero subgradient.
      if (n > 1) {
        for (std::int64_t j = 0; j < f; ++j)
          test::set_value(r, (n - 1) * f + j, test::value_at(t, (n - 1) * f + j));
      }
      const Tensor v = test::poisoned(Shape{n}, dt), gv = poisoned_gpu(Shape{n}, dt);
      representation_distance_forward(test::cpu_context(), r, t, v);
      representation_distance_forward(gpu(), on_gpu(r), on_gpu(t), gv);
      const Tensor back = gv.to(Device::cpu());
      test::expect_all_finite(back, where("representation_distance_forward", s, dt) + " written");
      test::expect_close(back, v, 1e-6, 0, where("representation_distance_forward", s, dt));
      const Tensor up = test::random_tensor(Shape{n}, dt, ++seed);
      for (GradMode mode : {GradMode::Assign, GradMode::Accumulate}) {
        const Tensor dr0 =
            mode == GradMode::Assign ? test::poisoned(s, dt) : test::random_tensor(s, dt, ++seed);
        const Tensor dr = test::clone(dr0), gdr = on_gpu(dr0);
        representation_distance_backward(test::cpu_context(), r, t, up, dr, mode);
        representation_distance_backward(gpu(), on_gpu(r), on_gpu(t), on_gpu(up), gdr, mode);
        const Tensor gback = gdr.to(Device::cpu());
        const std::string what = where("representation_distance_backward", s, dt) +
                                 (mode == GradMode::Assign ? " =" : " +=");
        test::expect_all_finite(gback, what + " written");
        test::expect_close(gback, dr, 1e-6, 1e-7, what);
        if (n > 1 && mode == GradMode::Assign) {  // exactly 0 on the target, as on the CPU
          for (std::int64_t j = 0; j < f; ++j)
            ASSERT_EQ(test::value_at(gback, (n - 1) * f + j), 0.0) << what;
        }
      }
    }
  }
}

// ---- coordinate ----------------------------------------------------------------------------

struct CoordinateCase {
  Tensor r, k;
};

// Random r with exact hits of tau (the hinge's kink: inactive) and NaN at some chosen
// coordinates (a NaN passes through the forward; its hinge gradient is 0).
CoordinateCase coordinate_case(std::int64_t n, std::int64_t f, DType dt, double tau,
                               std::uint64_t seed) {
  CoordinateCase c{test::random_tensor(Shape{n, f}, dt, seed), test::random_labels(n, f, seed + 1)};
  const std::int32_t* k = c.k.data<std::int32_t>();
  for (std::int64_t i = 0; i < n; ++i) {
    if (i % 5 == 1) test::set_value(c.r, i * f + k[i], tau);
    if (i % 7 == 3) test::set_value(c.r, i * f + k[i], kNaN);
  }
  return c;
}

TEST(CoordinateCuda, ForwardAndBackwardPlainAndHinged) {
  RP_SKIP_WITHOUT_GPU();
  std::uint64_t seed = 2000;
  const double tau = 0.25;
  for (DType dt : {DType::F32, DType::F64}) {
    for (const auto& [n, f] : kSizes) {
      const Shape s{n, f};
      const CoordinateCase c = coordinate_case(n, f, dt, tau, seed += 10);
      const Tensor up = test::random_tensor(Shape{n}, dt, ++seed);
      for (std::optional<double> hinge : {std::optional<double>{}, std::optional<double>{tau}}) {
        const std::string kind = hinge ? " hinged" : " plain";
        const Tensor v = test::poisoned(Shape{n}, dt), gv = poisoned_gpu(Shape{n}, dt);
        coordinate_forward(test::cpu_context(), c.r, c.k, hinge, v);
        coordinate_forward(gpu(), on_gpu(c.r), on_gpu(c.k), hinge, gv);
        expect_bits(gv, v, where("coordinate_forward", s, dt) + kind);
        for (GradMode mode : {GradMode::Assign, GradMode::Accumulate}) {
          const Tensor dr0 =
              mode == GradMode::Assign ? test::poisoned(s, dt) : test::random_tensor(s, dt, ++seed);
          const Tensor dr = test::clone(dr0), gdr = on_gpu(dr0);
          coordinate_backward(test::cpu_context(), c.r, c.k, hinge, up, dr, mode);
          coordinate_backward(gpu(), on_gpu(c.r), on_gpu(c.k), hinge, on_gpu(up), gdr, mode);
          const std::string what = where("coordinate_backward", s, dt) + kind +
                                   (mode == GradMode::Assign ? " =" : " +=");
          test::expect_all_finite(gdr.to(Device::cpu()), what + " written");
          expect_bits(gdr, dr, what);
        }
      }
    }
  }
}

// A coordinate outside [0, f) is not read back: that example's value and gradient row are
// NaN, the others are the reference's.
TEST(CoordinateCuda, BadCoordinatesGiveNaNNotASynchronization) {
  RP_SKIP_WITHOUT_GPU();
  const std::int64_t n = 4, f = 6;
  const Tensor r = test::random_tensor(Shape{n, f}, DType::F32, 7);
  const Tensor k = int_tensor({2, 6, -1, 5});
  const Tensor up = test::random_tensor(Shape{n}, DType::F32, 8);
  const Tensor gv = poisoned_gpu(Shape{n}, DType::F32), gdr = poisoned_gpu(Shape{n, f}, DType::F32);
  coordinate_forward(gpu(), on_gpu(r), on_gpu(k), 0.5, gv);
  coordinate_backward(gpu(), on_gpu(r), on_gpu(k), 0.5, on_gpu(up), gdr, GradMode::Assign);
  const std::vector<float> v = gv.to(Device::cpu()).to_vector<float>();
  const std::vector<float> dr = gdr.to(Device::cpu()).to_vector<float>();
  for (std::int64_t i = 0; i < n; ++i) {
    const bool bad = i == 1 || i == 2;
    EXPECT_EQ(std::isnan(v[static_cast<std::size_t>(i)]), bad) << "example " << i;
    for (std::int64_t j = 0; j < f; ++j)
      EXPECT_EQ(std::isnan(dr[static_cast<std::size_t>(i * f + j)]), bad) << i << ", " << j;
  }
}

// ---- keep_better ---------------------------------------------------------------------------

TEST(KeepBetterCuda, MaximizeAndMinimizeWithNaNsAndTies) {
  RP_SKIP_WITHOUT_GPU();
  std::uint64_t seed = 3000;
  // x (N, ...): a score per example (d = 1, as the attacks keep), odd rows, images.
  const Shape shapes[] = {Shape{1, 1}, Shape{3, 3},       Shape{5, 1, 2, 2},
                          Shape{7, 1}, Shape{4, 3073},    Shape{129, 12},
                          Shape{2, 4}, Shape{9, 3, 5, 5}, Shape{6, 3, 32, 32}};
  for (DType dt : {DType::F32, DType::F64}) {
    for (const Shape& s : shapes) {
      const std::int64_t n = s[0];
      const Tensor x = test::random_tensor(s, dt, ++seed);
      const Tensor values = test::random_tensor(Shape{n}, dt, ++seed);
      const Tensor best0 = test::random_tensor(Shape{n}, dt, ++seed);
      const Tensor best_x0 = test::random_tensor(s, dt, ++seed);
      // A tie (never better), a NaN value (never better), a NaN best (nothing beats it),
      // +0 against -0 (equal), infinities.
      for (std::int64_t i = 0; i < n; ++i) {
        switch (i % 6) {
          case 1:
            test::set_value(values, i, test::value_at(best0, i));
            break;
          case 2:
            test::set_value(values, i, kNaN);
            break;
          case 3:
            test::set_value(best0, i, kNaN);
            break;
          case 4:
            test::set_value(values, i, 0.0);
            test::set_value(best0, i, -0.0);
            break;
          case 5:
            test::set_value(values, i, i % 4 == 1 ? kInf : -kInf);
            break;
          default:
            break;
        }
      }
      for (bool maximize : {true, false}) {
        const std::string what =
            where("keep_better", s, dt) + (maximize ? " maximize" : " minimize");
        const Tensor best = test::clone(best0), best_x = test::clone(best_x0);
        const Tensor gbest = on_gpu(best0), gbest_x = on_gpu(best_x0);
        keep_better(test::cpu_context(), values, x, maximize, best, best_x);
        keep_better(gpu(), on_gpu(values), on_gpu(x), maximize, gbest, gbest_x);
        expect_bits(gbest, best, what + " best_values");
        expect_bits(gbest_x, best_x, what + " best_x");
        test::expect_all_finite(gbest_x.to(Device::cpu()), what + " best_x finite");
      }
    }
  }
}

// ---- metrics -------------------------------------------------------------------------------

// Logits with ties for the maximum (before and after the first), NaN at k = 0 (the argmax
// stays 0) and elsewhere (passed over), rows of -inf, +0 against -0, and labels that hit the
// argmax, the tied copy, anything, or lie outside [0, k).
struct MetricsCase {
  Tensor logits, labels;
};

MetricsCase metrics_case(std::int64_t n, std::int64_t k, DType dt, std::uint64_t seed) {
  MetricsCase c{test::random_tensor(Shape{n, k}, dt, seed), test::random_labels(n, k, seed + 1)};
  std::mt19937_64 gen(seed + 2);
  std::int32_t* labels = c.labels.data<std::int32_t>();
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t o = i * k;
    std::int64_t best = 0;
    for (std::int64_t j = 1; j < k; ++j)
      if (test::value_at(c.logits, o + j) > test::value_at(c.logits, o + best)) best = j;
    const auto pick = [&] {
      return static_cast<std::int64_t>(gen() % static_cast<std::uint64_t>(k));
    };
    const std::int64_t other = pick();
    switch (i % 8) {
      case 0:
        labels[i] = static_cast<std::int32_t>(best);
        break;
      case 1:  // a tie: the first of the two maxima wins
        test::set_value(c.logits, o + other, test::value_at(c.logits, o + best));
        labels[i] = static_cast<std::int32_t>(other);
        break;
      case 2:
        test::set_value(c.logits, o, kNaN);
        break;
      case 3:
        test::set_value(c.logits, o + other, kNaN);
        labels[i] = static_cast<std::int32_t>(pick());
        break;
      case 4:
        for (std::int64_t j = 0; j < k; ++j) test::set_value(c.logits, o + j, -kInf);
        labels[i] = static_cast<std::int32_t>(i % 2 == 0 ? 0 : pick());
        break;
      case 5:
        for (std::int64_t j = 0; j < k; ++j) test::set_value(c.logits, o + j, -1.0);
        test::set_value(c.logits, o + other, -0.0);
        test::set_value(c.logits, o + pick(), 0.0);
        labels[i] = static_cast<std::int32_t>(pick());
        break;
      case 6:
        labels[i] = static_cast<std::int32_t>(i % 4 == 2 ? -1 : k);
        break;
      default:
        break;  // random logits and label
    }
  }
  return c;
}

// (rows, classes): 1 class, CIFAR's 10, more rows than count_correct's 32 warps, more classes
// than a warp's lanes, ImageNet's, an evaluation-sized batch.
const Size kMetricSizes[] = {{1, 1},  {1, 10},   {7, 10},    {33, 10}, {129, 10},
                             {5, 33}, {3, 1000}, {1000, 10}, {2049, 7}};

TEST(MetricsCuda, CorrectFlagsAndCountMatchTheReferenceExactly) {
  RP_SKIP_WITHOUT_GPU();
  std::uint64_t seed = 4000;
  for (DType dt : {DType::F32, DType::F64}) {
    for (const auto& [n, k] : kMetricSizes) {
      const Shape s{n, k};
      const MetricsCase c = metrics_case(n, k, dt, seed += 10);
      const Tensor flags = test::poisoned(Shape{n}, dt), gflags = poisoned_gpu(Shape{n}, dt);
      correct_flags(test::cpu_context(), c.logits, c.labels, flags);
      correct_flags(gpu(), on_gpu(c.logits), on_gpu(c.labels), gflags);
      test::expect_all_finite(gflags.to(Device::cpu()), where("correct_flags", s, dt) + " written");
      expect_bits(gflags, flags, where("correct_flags", s, dt));
      // Into one slot of a metrics row, as training does: its neighbours stay untouched.
      const Tensor row = test::poisoned(Shape{4}, dt), grow = poisoned_gpu(Shape{4}, dt);
      count_correct(test::cpu_context(), c.logits, c.labels, row.slice(1, 2));
      count_correct(gpu(), on_gpu(c.logits), on_gpu(c.labels), grow.slice(1, 2));
      const Tensor back = grow.to(Device::cpu());
      expect_bits(back, row, where("count_correct", s, dt));
      EXPECT_TRUE(std::isfinite(test::value_at(back, 1))) << where("count_correct", s, dt);
      EXPECT_TRUE(std::isnan(test::value_at(back, 0)) && std::isnan(test::value_at(back, 2)))
          << where("count_correct", s, dt) << " wrote outside its slot";
    }
  }
}

// ---- gather_batch --------------------------------------------------------------------------

Dataset random_dataset(std::int64_t m, std::int64_t c, std::int64_t h, std::int64_t w,
                       std::uint64_t seed) {
  std::mt19937_64 gen(seed);
  Dataset d;
  d.name = "random";
  d.classes = {"a", "b", "c", "d", "e"};
  d.channels = c;
  d.height = h;
  d.width = w;
  for (std::int64_t i = 0; i < m * c * h * w; ++i)
    d.images.push_back(static_cast<std::uint8_t>(gen() % 256));
  for (std::int64_t i = 0; i < m; ++i) d.labels.push_back(static_cast<std::int32_t>(gen() % 5));
  return d;
}

Tensor random_order(std::int64_t n, std::int64_t m, std::uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::vector<std::int32_t> order;
  for (std::int64_t j = 0; j < n; ++j)
    order.push_back(static_cast<std::int32_t>(gen() % static_cast<std::uint64_t>(m)));
  return int_tensor(order);
}

struct GatherCase {
  std::int64_t m, n, c, h, w;
};

TEST(GatherBatchCuda, BitIdenticalWithAndWithoutAugmentation) {
  RP_SKIP_WITHOUT_GPU();
  // (dataset, batch, C, H, W): CIFAR, odd planes, one-pixel images, a batch of 1, repeats.
  const GatherCase cases[] = {
      {20, 16, 3, 32, 32}, {7, 5, 2, 5, 6}, {4, 9, 1, 1, 1}, {3, 1, 3, 7, 3}, {50, 129, 3, 8, 8}};
  // Augmentations: off; CIFAR's pad 4 with flips in epoch 3 from the middle of its stream;
  // pad 0 (flip only); no flip; a pad wider than the image.
  std::vector<Augmentation> augs(5);
  augs[1].enabled = true;
  augs[1].rng = RngStream{17, rng_stream(RngPurpose::Augment, 3), 256};
  augs[2].enabled = true;
  augs[2].pad = 0;
  augs[2].rng = RngStream{18, rng_stream(RngPurpose::Augment, 0), 0};
  augs[3].enabled = true;
  augs[3].flip = false;
  augs[3].rng = RngStream{19, rng_stream(RngPurpose::Augment, 1), 5};
  augs[4].enabled = true;
  augs[4].pad = 9;
  augs[4].rng = RngStream{20, rng_stream(RngPurpose::Augment, 7), 1000003};
  std::uint64_t seed = 5000;
  for (const GatherCase& gc : cases) {
    const Dataset d = random_dataset(gc.m, gc.c, gc.h, gc.w, ++seed);
    const DeviceDataset host = to_device(d, Device::cpu()), dev = to_device(d, Device::cuda(0));
    const Tensor order = random_order(gc.n, gc.m, ++seed);
    const Shape s{gc.n, gc.c, gc.h, gc.w};
    for (DType dt : {DType::F32, DType::F64}) {
      for (std::size_t a = 0; a < augs.size(); ++a) {
        const std::string what =
            where("gather_batch", s, dt) + " augmentation " + std::to_string(a);
        const Tensor out = test::poisoned(s, dt), gout = poisoned_gpu(s, dt);
        const Tensor labels = Tensor::from_vector(std::vector<std::int32_t>(gc.n, -7), Shape{gc.n});
        const Tensor glabels = on_gpu(labels);
        gather_batch(test::cpu_context(), host.images, host.labels, order, augs[a], out, labels);
        gather_batch(gpu(), dev.images, dev.labels, on_gpu(order), augs[a], gout, glabels);
        test::expect_all_finite(gout.to(Device::cpu()), what + " written");
        expect_bits(gout, out, what + " images");
        expect_bits(glabels, labels, what + " labels");
      }
    }
  }
}

// The loader on the device: its order lives there, every batch of two epochs (an epoch's
// stream and each batch's offset into it) equals the CPU loader's bit for bit.
TEST(GatherBatchCuda, LoaderEpochsMatchTheCpuLoader) {
  RP_SKIP_WITHOUT_GPU();
  const Dataset d = random_dataset(23, 3, 8, 8, 77);
  const LoaderOptions opt{5, true, true, 2, true};
  BatchLoader cpu_loader(to_device(d, Device::cpu()), opt, 9);
  BatchLoader gpu_loader(to_device(d, Device::cuda(0)), opt, 9);
  const Shape s{5, 3, 8, 8};
  const Tensor x = test::poisoned(s, DType::F32), gx = poisoned_gpu(s, DType::F32);
  const Tensor y = Tensor::empty(Shape{5}, DType::I32),
               gy = Tensor::empty(Shape{5}, DType::I32, Device::cuda(0));
  for (std::int64_t epoch : {0, 1}) {
    cpu_loader.start_epoch(epoch);
    gpu_loader.start_epoch(epoch);
    for (std::int64_t b = 0; b < cpu_loader.batches(); ++b) {
      const std::int64_t n = cpu_loader.load(test::cpu_context(), b, x, y);
      ASSERT_EQ(gpu_loader.load(gpu(), b, gx, gy), n);
      const std::string what = "epoch " + std::to_string(epoch) + " batch " + std::to_string(b);
      expect_bits(gx.slice(0, n), x.slice(0, n), what + " images");
      expect_bits(gy.slice(0, n), y.slice(0, n), what + " labels");
    }
  }
}

// An index outside the dataset is not read back: that example's image is NaN and its label
// -1; the others are the reference's.
TEST(GatherBatchCuda, OutOfRangeIndexGivesNaNImageAndLabelMinusOne) {
  RP_SKIP_WITHOUT_GPU();
  const Dataset d = random_dataset(5, 2, 4, 3, 88);
  const DeviceDataset host = to_device(d, Device::cpu()), dev = to_device(d, Device::cuda(0));
  Augmentation aug;
  aug.enabled = true;
  aug.pad = 1;
  aug.rng = RngStream{3, rng_stream(RngPurpose::Augment, 2), 40};
  const Shape s{4, 2, 4, 3};
  const Tensor bad = int_tensor({4, 5, -1, 0});  // rows 1 and 2 outside [0, 5)
  const Tensor good = int_tensor({4, 0, 0, 0});  // the same draws for rows 0 and 3
  const Tensor out = test::poisoned(s, DType::F32), gout = poisoned_gpu(s, DType::F32);
  const Tensor labels = Tensor::empty(Shape{4}, DType::I32);
  const Tensor glabels =
      Tensor::from_vector(std::vector<std::int32_t>{7, 7, 7, 7}, Shape{4}, Device::cuda(0));
  gather_batch(test::cpu_context(), host.images, host.labels, good, aug, out, labels);
  gather_batch(gpu(), dev.images, dev.labels, on_gpu(bad), aug, gout, glabels);
  const Tensor back = gout.to(Device::cpu());
  const std::vector<std::int32_t> l = glabels.to(Device::cpu()).to_vector<std::int32_t>();
  const std::vector<std::int32_t> expected = labels.to_vector<std::int32_t>();
  const std::int64_t image = 2 * 4 * 3;
  for (std::int64_t j = 0; j < 4; ++j) {
    const bool in_range = j == 0 || j == 3;
    EXPECT_EQ(l[static_cast<std::size_t>(j)], in_range ? expected[static_cast<std::size_t>(j)] : -1)
        << "example " << j;
    for (std::int64_t e = j * image; e < (j + 1) * image; ++e) {
      if (in_range) {
        EXPECT_EQ(test::value_at(back, e), test::value_at(out, e)) << "element " << e;
      } else {
        EXPECT_TRUE(std::isnan(test::value_at(back, e))) << "element " << e;
      }
    }
  }
}

// ---- the reference semantics the kernels are written to (no GPU needed) --------------------

TEST(LoopOpsReference, ArgmaxKeepsTheFirstMaximumAndPassesOverNaN) {
  Context& ctx = test::cpu_context();
  const double nan = kNaN;
  // Rows of 4: a tie (first wins), NaN at 0 (0 wins), NaN later (passed over), -inf row,
  // +0 then -0 (equal: the first wins).
  const Tensor logits =
      Tensor::from_vector(std::vector<double>{1, 3, 3,     2,     nan,   5,     6,  7,   1,    nan,
                                              2, 0, -kInf, -kInf, -kInf, -kInf, -1, 0.0, -0.0, -1},
                          Shape{5, 4});
  const Tensor labels = int_tensor({1, 0, 2, 0, 1});
  const Tensor flags = test::poisoned(Shape{5}, DType::F64);
  correct_flags(ctx, logits, labels, flags);
  EXPECT_EQ(test::values(flags), (std::vector<double>{1, 1, 1, 1, 1}));
  const Tensor other = int_tensor({2, 3, 1, 3, 2});
  correct_flags(ctx, logits, other, flags);
  EXPECT_EQ(test::values(flags), (std::vector<double>{0, 0, 0, 0, 0}));
  const Tensor count = test::poisoned(Shape{1}, DType::F64);
  count_correct(ctx, logits, labels, count);
  EXPECT_EQ(test::value_at(count, 0), 5.0);
}

TEST(LoopOpsReference, KeepBetterNeverTakesNaNNorTies) {
  Context& ctx = test::cpu_context();
  const double nan = kNaN;
  const Tensor values = Tensor::from_vector(std::vector<double>{2, 1, nan, 5, 0.0}, Shape{5});
  const Tensor x = Tensor::from_vector(std::vector<double>{10, 11, 12, 13, 14}, Shape{5, 1});
  for (bool maximize : {true, false}) {
    const Tensor best = Tensor::from_vector(std::vector<double>{1, 1, 0, nan, -0.0}, Shape{5});
    const Tensor best_x = Tensor::from_vector(std::vector<double>{0, 0, 0, 0, 0}, Shape{5, 1});
    keep_better(ctx, values, x, maximize, best, best_x);
    // Only example 0 can change: 2 beats 1 when maximizing; 1 ties; NaN never beats; nothing
    // beats a NaN best; +0 ties -0.
    EXPECT_EQ(test::value_at(best_x, 0), maximize ? 10.0 : 0.0);
    for (std::int64_t i = 1; i < 5; ++i) EXPECT_EQ(test::value_at(best_x, i), 0.0) << i;
    EXPECT_TRUE(std::isnan(test::value_at(best, 3)));
    EXPECT_TRUE(std::signbit(test::value_at(best, 4)));
  }
}

TEST(LoopOpsReference, HingePassesNaNThroughAndIsInactiveAtTau) {
  Context& ctx = test::cpu_context();
  const Tensor r = Tensor::from_vector(std::vector<float>{0.5f, kNaN, 2.f, 0.25f}, Shape{4, 1});
  const Tensor k = int_tensor({0, 0, 0, 0});
  const Tensor v = test::poisoned(Shape{4}, DType::F32);
  coordinate_forward(ctx, r, k, 0.5, v);
  EXPECT_EQ(test::value_at(v, 0), 0.0);
  EXPECT_TRUE(std::isnan(test::value_at(v, 1)));
  EXPECT_EQ(test::value_at(v, 2), 0.0);
  EXPECT_EQ(test::value_at(v, 3), -0.25);
  const Tensor up = Tensor::from_vector(std::vector<float>{1, 1, 1, 1}, Shape{4});
  const Tensor dr = test::poisoned(Shape{4, 1}, DType::F32);
  coordinate_backward(ctx, r, k, 0.5, up, dr, GradMode::Assign);
  EXPECT_EQ(test::values(dr), (std::vector<double>{0, 0, 0, 1}));
}

// On a CPU context the index check stays on the host and names the bad index.
TEST(LoopOpsReference, CpuGatherRefusesAnOutOfRangeIndexByName) {
  const Dataset d = random_dataset(5, 1, 2, 2, 99);
  const DeviceDataset host = to_device(d, Device::cpu());
  const Tensor out = test::poisoned(Shape{2, 1, 2, 2}, DType::F32);
  const Tensor labels = Tensor::empty(Shape{2}, DType::I32);
  try {
    gather_batch(test::cpu_context(), host.images, host.labels, int_tensor({0, 5}), Augmentation{},
                 out, labels);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("gather_batch"), std::string::npos) << what;
    EXPECT_NE(what.find("order[1] = 5"), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace rp
