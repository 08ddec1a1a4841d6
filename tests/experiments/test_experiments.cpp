// The four representation experiments on tiny untrained ResNets: each objective improves, the
// outputs stay in [0, 1], the measurements match a recomputation, and bad arguments are
// refused before any work. (That a robust model's inversions beat a standard one's is
// test_robust_prior.cpp.)
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include "engine/core/error.h"
#include "engine/core/rng_streams.h"
#include "engine/data/synthetic.h"
#include "engine/experiments/experiments.h"
#include "engine/experiments/report.h"
#include "models/registry.h"
#include "tests/support/test_support.h"

namespace rp {
namespace {

struct Fixture {
  Dataset data;
  std::unique_ptr<Network> net;
};

Fixture make(std::uint64_t seed = 3) {
  Fixture f;
  SyntheticOptions o;
  o.train = 10;
  o.test = 60;
  o.seed = seed;
  f.data = make_synthetic(o).test;
  NetworkSpec spec;
  spec.arch = "resnet18";
  spec.width = 1.0 / 16;
  spec.num_classes = 10;
  spec.mean = {0.5, 0.5, 0.5};
  spec.std = {0.25, 0.25, 0.25};
  f.net = make_network(spec, Device::cpu(), seed);
  return f;
}

RngStream rng() {
  return RngStream{11, rng_stream(RngPurpose::Experiment, 0), 0};
}

void expect_in_box(const HostImages& h, const std::string& what) {
  ASSERT_EQ(static_cast<std::int64_t>(h.pixels.size()), h.n * h.size()) << what;
  for (std::size_t i = 0; i < h.pixels.size(); ++i) {
    ASSERT_TRUE(h.pixels[i] >= 0.f && h.pixels[i] <= 1.f)
        << what << ": pixel " << i << " = " << h.pixels[i];
  }
}

AttackParams l2(double step, std::int64_t steps, bool use_best) {
  return AttackParams{ThreatModel::L2, 1000, step, steps, false, 1, use_best};
}

TEST(Experiments, InversionMovesTowardsTheTargetRepresentation) {
  Fixture f = make();
  Context& ctx = test::cpu_context();
  const HostImages targets = HostImages::from_dataset(f.data, {0, 1, 2, 3});
  const std::vector<std::int32_t> labels(f.data.labels.begin(), f.data.labels.begin() + 4);
  const HostImages seeds = noise_seeds(4, f.net->spec(), 0.5, 0.05, rng());
  expect_in_box(seeds, "noise seeds");
  InversionParams p;
  p.attack = l2(0.5, 40, false);
  const InversionResult r = invert(ctx, *f.net, targets, labels, seeds, p, rng());
  expect_in_box(r.results, "inversions");
  ASSERT_EQ(r.representation_distance.size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_LT(r.representation_distance[i], 0.7 * r.start_distance[i]) << "image " << i;
    EXPECT_TRUE(std::isfinite(r.representation_distance[i]));
  }
  // The reported pixel distances and predictions are those of the returned images.
  const std::vector<double> px = pixel_l2(r.results, targets);
  for (std::size_t i = 0; i < 4; ++i) EXPECT_NEAR(r.pixel_distance[i], px[i], 1e-9);
  EXPECT_EQ(r.predicted, predict(ctx, *f.net, r.results.to_tensor(Device::cpu(), DType::F32)));
  for (std::size_t i = 0; i < 4; ++i)
    EXPECT_EQ(r.classified_as_target[i], r.predicted[i] == labels[i]);
}

TEST(Experiments, InterpolationStartsFromBlendsAndMeasuresItsPath) {
  Fixture f = make();
  Context& ctx = test::cpu_context();
  const HostImages left = HostImages::from_dataset(f.data, {0, 1});
  const HostImages right = HostImages::from_dataset(f.data, {5, 6});
  InterpolationParams p;
  p.attack = l2(0.1, 15, true);
  p.frames = 5;
  const InterpolationResult r = interpolate(ctx, *f.net, left, right, p, rng());
  ASSERT_EQ(r.results.n, 10);
  expect_in_box(r.results, "frames");
  // Frame 0 blends to the left image, the last to the right one, the middle halfway.
  const std::int64_t d = left.size();
  for (std::int64_t k = 0; k < d; ++k) {
    ASSERT_FLOAT_EQ(r.blends.pixels[static_cast<std::size_t>(k)],
                    left.pixels[static_cast<std::size_t>(k)]);
    ASSERT_FLOAT_EQ(r.blends.pixels[static_cast<std::size_t>(4 * d + k)],
                    right.pixels[static_cast<std::size_t>(k)]);
    ASSERT_NEAR(r.blends.pixels[static_cast<std::size_t>(2 * d + k)],
                0.5f * (left.pixels[static_cast<std::size_t>(k)] +
                        right.pixels[static_cast<std::size_t>(k)]),
                1e-6);
  }
  // The smoothness metric, recomputed.
  for (std::int64_t pair = 0; pair < 2; ++pair) {
    double path = 0, blend = 0;
    for (std::int64_t j = 0; j < 4; ++j) {
      HostImages a = r.results, b = r.results, ba = r.blends, bb = r.blends;
      a.n = b.n = ba.n = bb.n = 1;
      a.pixels = r.results.image(pair * 5 + j);
      b.pixels = r.results.image(pair * 5 + j + 1);
      ba.pixels = r.blends.image(pair * 5 + j);
      bb.pixels = r.blends.image(pair * 5 + j + 1);
      path += pixel_l2(a, b)[0];
      blend += pixel_l2(ba, bb)[0];
    }
    EXPECT_NEAR(r.path_step[static_cast<std::size_t>(pair)], path / 4, 1e-9);
    EXPECT_NEAR(r.blend_step[static_cast<std::size_t>(pair)], blend / 4, 1e-9);
  }
  // With use_best the end frames of every pair, whose targets their blends already meet, stay
  // put, and their distance is 0.
  for (std::int64_t pair = 0; pair < 2; ++pair) {
    for (const std::int64_t frame : {pair * 5, pair * 5 + 4}) {
      EXPECT_EQ(r.results.image(frame), r.blends.image(frame)) << "frame " << frame;
      EXPECT_NEAR(r.representation_distance[static_cast<std::size_t>(frame)], 0.0, 1e-6);
    }
  }
  // A middle frame's reported distance is its distance to the mean of the ends'
  // representations (pair 1 checks the goal's indexing per pair).
  const auto reps = [&](const HostImages& h) {
    return test::values(representations(ctx, *f.net, h.to_tensor(Device::cpu(), DType::F32)));
  };
  HostImages mid = r.results;
  mid.n = 1;
  mid.pixels = r.results.image(7);  // pair 1, lambda 1/2
  HostImages ends = left;
  ends.n = 1;
  ends.pixels = left.image(1);
  const std::vector<double> rl = reps(ends);
  ends.pixels = right.image(1);
  const std::vector<double> rr = reps(ends);
  const std::vector<double> rm = reps(mid);
  double diff = 0, norm = 0;
  for (std::size_t k = 0; k < rm.size(); ++k) {
    const double goal = 0.5 * rl[k] + 0.5 * rr[k];
    diff += (rm[k] - goal) * (rm[k] - goal);
    norm += goal * goal;
  }
  EXPECT_NEAR(r.representation_distance[7], std::sqrt(diff / norm), 1e-4);
}

TEST(Experiments, VisualizationRaisesEachCoordinate) {
  Fixture f = make();
  Context& ctx = test::cpu_context();
  HostImages seeds = noise_seeds(3, f.net->spec(), 0.5, 0.05, rng());
  const std::vector<std::int32_t> k{0, 7,
                                    static_cast<std::int32_t>(f.net->representation_size() - 1)};
  VisualizationParams p;
  p.attack = l2(1.0, 30, false);
  const FeatureResult r = visualize(ctx, *f.net, seeds, k, p, rng());
  expect_in_box(r.results, "visualizations");
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_GT(r.value_after[i], r.value_before[i] + 0.1) << "coordinate " << k[i];
    EXPECT_GT(r.pixel_moved[i], 0.0);
  }
}

TEST(Experiments, MaximizingInputsRankTheDataset) {
  Fixture f = make();
  Context& ctx = test::cpu_context();
  MaximizingInputsParams p;
  p.attack = l2(0.5, 20, true);
  p.top = 4;
  const std::vector<std::int32_t> k{2, 5};
  const MaximizingInputsResult r = maximizing_inputs(ctx, *f.net, f.data, k, p, rng());
  expect_in_box(r.optimized.results, "maximizing inputs");
  const std::vector<double> reps = dataset_representations(ctx, *f.net, f.data, 16);
  const std::int64_t n = f.data.size(), width = f.net->representation_size();
  ASSERT_EQ(static_cast<std::int64_t>(reps.size()), n * width);
  for (std::size_t j = 0; j < k.size(); ++j) {
    EXPECT_GE(r.optimized.value_after[j], r.optimized.value_before[j]);
    std::vector<double> column;
    for (std::int64_t i = 0; i < n; ++i)
      column.push_back(reps[static_cast<std::size_t>(i * width + k[j])]);
    std::vector<double> sorted = column;
    std::sort(sorted.rbegin(), sorted.rend());
    ASSERT_EQ(r.top[j].size(), 4u);
    // The ranking pass and dataset_representations batch the images differently, and the CPU
    // convolutions put several small images into one GEMM, whose rounding depends on the
    // group: the same image's representation can differ in its last float bits, so values are
    // compared to float rounding (1e-6 relative) rather than bit for bit.
    auto near = [](double a, double b) {
      return std::abs(a - b) <= 1e-6 * std::max(1.0, std::abs(b));
    };
    for (std::size_t t = 0; t < 4; ++t) {
      EXPECT_PRED2(near, r.top_values[j][t], sorted[t]);
      EXPECT_PRED2(near, column[static_cast<std::size_t>(r.top[j][t])], r.top_values[j][t]);
      EXPECT_PRED2(near, r.bottom_values[j][t], sorted[sorted.size() - 1 - t]);
    }
  }
}

TEST(Experiments, FeatureAdditionStopsAtTau) {
  Fixture f = make();
  Context& ctx = test::cpu_context();
  const HostImages images = HostImages::from_dataset(f.data, {0, 1, 2});
  ManipulationParams p;
  p.attack = l2(0.1, 40, true);
  p.tau = 50;  // far above: every image moves and the coordinate rises
  const FeatureResult up = add_feature(ctx, *f.net, images, 3, p, rng());
  expect_in_box(up.results, "feature addition");
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_GT(up.value_after[i], up.value_before[i]);
    EXPECT_GT(up.pixel_moved[i], 0.0);
  }
  // A reachable tau: with the best iterate kept, each image stops once the coordinate reaches
  // it, within one step's rise.
  // Below tau the hinge's gradient is the coordinate's, so the path is the one above up to tau:
  // the image starting highest reaches max(before) + half the smallest rise seen.
  double highest = -1e30, smallest_rise = 1e30;
  for (std::size_t i = 0; i < 3; ++i) {
    highest = std::max(highest, up.value_before[i]);
    smallest_rise = std::min(smallest_rise, up.value_after[i] - up.value_before[i]);
  }
  p.tau = highest + 0.5 * smallest_rise;
  const FeatureResult reach = add_feature(ctx, *f.net, images, 3, p, rng());
  int checked = 0;
  for (std::size_t i = 0; i < 3; ++i) {
    if (up.value_after[i] < p.tau) continue;  // not reachable in 40 steps
    ++checked;
    EXPECT_GE(reach.value_after[i], p.tau - 1e-5) << "image " << i;
    EXPECT_LE(reach.value_after[i], std::max(p.tau, reach.value_before[i]) + 0.25) << "image " << i;
  }
  EXPECT_GE(checked, 1);
  // A coordinate already above tau gives no gradient: the images stay exactly as they were.
  p.tau = -1;
  const FeatureResult none = add_feature(ctx, *f.net, images, 3, p, rng());
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(none.pixel_moved[i], 0.0);
}

TEST(Experiments, MostActivatedCoordinateMatchesABruteForceScore) {
  Fixture f = make();
  Context& ctx = test::cpu_context();
  const std::vector<std::int64_t> src{1, 4, 9};
  const std::int32_t k =
      most_activated_coordinate(ctx, *f.net, HostImages::from_dataset(f.data, src), f.data);
  const std::vector<double> reps = dataset_representations(ctx, *f.net, f.data);
  const std::int64_t n = f.data.size(), width = f.net->representation_size();
  std::vector<double> score(static_cast<std::size_t>(width));
  for (std::int64_t c = 0; c < width; ++c) {
    double m = 0, sq = 0, s = 0;
    for (std::int64_t i = 0; i < n; ++i) m += reps[static_cast<std::size_t>(i * width + c)];
    m /= static_cast<double>(n);
    for (std::int64_t i = 0; i < n; ++i)
      sq += std::pow(reps[static_cast<std::size_t>(i * width + c)] - m, 2);
    for (std::int64_t i : src) s += reps[static_cast<std::size_t>(i * width + c)];
    score[static_cast<std::size_t>(c)] =
        (s / 3 - m) / (std::sqrt(sq / static_cast<double>(n)) + 1e-8);
  }
  EXPECT_EQ(k, std::max_element(score.begin(), score.end()) - score.begin());
}

TEST(Experiments, BadArgumentsFailBeforeWork) {
  Fixture f = make();
  Context& ctx = test::cpu_context();
  const HostImages x = HostImages::from_dataset(f.data, {0, 1});
  const std::int32_t outside = static_cast<std::int32_t>(f.net->representation_size());
  VisualizationParams vp;
  vp.attack.steps = 3;
  try {
    visualize(ctx, *f.net, x, {0, outside}, vp, rng());
    FAIL() << "a coordinate outside R(x) was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("coordinate " + std::to_string(outside) + " is outside"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(visualize(ctx, *f.net, x, {0}, vp, rng()), Error);  // 2 seeds, 1 coordinate
  ManipulationParams mp;
  mp.attack.steps = 0;
  try {
    add_feature(ctx, *f.net, x, 0, mp, rng());
    FAIL() << "zero iterations were accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("at least one iteration"), std::string::npos) << e.what();
  }
  InversionParams ip;
  ip.attack.steps = 2;
  EXPECT_THROW(invert(ctx, *f.net, x, {0}, x, ip, rng()), Error);  // one label for two targets
  ip.attack.eps = -1;
  EXPECT_THROW(invert(ctx, *f.net, x, {0, 1}, x, ip, rng()), Error);
  InterpolationParams lp;
  lp.frames = 1;
  EXPECT_THROW(interpolate(ctx, *f.net, x, x, lp, rng()), Error);
  MaximizingInputsParams xp;
  xp.top = f.data.size() + 1;
  EXPECT_THROW(maximizing_inputs(ctx, *f.net, f.data, {0}, xp, rng()), Error);
}

TEST(Studies, ModelRolesMustBeDistinctPlainNames) {
  Fixture f = make();
  StudySetup s;
  s.ctx = &test::cpu_context();
  s.data = &f.data;
  s.class_names = f.data.classes;
  s.out_dir = "unused";
  for (const char* roles : {"robust robust", "robust seed", "a/b", ""}) {
    s.models.clear();
    std::string list = roles;
    const std::size_t space = list.find(' ');
    s.models.push_back({list.substr(0, space), "x.safetensors", f.net.get(), {}});
    if (space != std::string::npos)
      s.models.push_back({list.substr(space + 1), "y.safetensors", f.net.get(), {}});
    EXPECT_THROW(check_study_setup(s, "study"), Error) << "roles '" << roles << "'";
  }
  s.models = {{"robust", "x", f.net.get(), {}}, {"standard", "y", f.net.get(), {}}};
  EXPECT_NO_THROW(check_study_setup(s, "study"));
}

}  // namespace
}  // namespace rp
