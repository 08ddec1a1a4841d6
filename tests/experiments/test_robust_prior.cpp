// The paper's effect at a tiny size: a robust model's inversions are clearly closer to their
// targets in pixel space than a standard model's - the demo's bar, a mean pixel L2 ratio
// (robust / standard) of at most 0.8.
//
// The data are the synthetic scenes (several weak class cues each: sky, ground, horizon,
// object; synthetic_scenes.h): on the objects kind, where one strong cue tells each class, the
// ratio stays near 0.9 whatever the recipe (bench/RESULTS.md). Both models: a ResNet-18 at 1/8
// width on 6,000 scenes, batch 64, onecycle lr 0.1, 8 epochs; the robust one trained with PGD-3
// at L2 eps 1.0. Fifty test targets (five per class) inverted from the same N(0.5, 0.05^2)
// noise seeds, L2 eps 1000, step 1, 200 iterations. On a 2-core CPU (about 100 s in all) four
// training seeds gave ratios 0.73-0.75 (`robustprior train` and `invert` with these settings,
// bench/RESULTS.md); width 1/16 spread over 0.70-0.83 and is not steady enough to assert on.
#include <gtest/gtest.h>

#include <memory>

#include "engine/core/rng_streams.h"
#include "engine/experiments/experiments.h"
#include "engine/train/setup.h"
#include "engine/train/trainer.h"
#include "models/registry.h"
#include "tests/support/test_support.h"

namespace rp {
namespace {

struct Model {
  DatasetSplits data;
  std::unique_ptr<Network> net;
};

Model train(bool robust) {
  TrainConfig c;
  c.width = 1.0 / 8;
  c.synthetic_kind = "scenes";
  c.synthetic_train = 6000;
  c.synthetic_test = 500;
  c.epochs = 8;
  c.batch_size = 64;
  c.schedule = "onecycle";
  c.threads = 2;
  c.robust_eval_subset = 0;
  if (robust) {
    c.adv = "pgd";
    c.constraint = "2";
    c.eps = Amount{"1.0"};
    c.attack_steps = 3;
  }
  Model m{load_dataset(dataset_request(c)), nullptr};
  m.net = make_network(network_spec(c, m.data.train), Device::cpu(), 0);
  Trainer trainer(test::cpu_context(), *m.net, c, to_device(m.data.train, Device::cpu()),
                  to_device(m.data.test, Device::cpu()));
  trainer.run(nullptr, false);
  return m;
}

TEST(RobustPrior, RobustInversionsAreClearlyCloserToTheirTargets) {
  Model standard = train(false), robust = train(true);
  const Dataset& test = standard.data.test;
  // The first 50 test images: five of each class (image i has class i % 10).
  constexpr std::int64_t kTargets = 50;
  std::vector<std::int64_t> idx;
  std::vector<std::int32_t> labels;
  for (std::int64_t i = 0; i < kTargets; ++i) {
    idx.push_back(i);
    labels.push_back(test.labels[static_cast<std::size_t>(i)]);
  }
  const HostImages targets = HostImages::from_dataset(test, idx);
  const RngStream rng{0, rng_stream(RngPurpose::Experiment, 0), 0};
  const HostImages seeds = noise_seeds(kTargets, standard.net->spec(), 0.5, 0.05, rng);
  InversionParams p;
  p.attack.steps = 200;
  Context& ctx = test::cpu_context();
  const InversionResult r = invert(ctx, *robust.net, targets, labels, seeds, p, rng);
  const InversionResult s = invert(ctx, *standard.net, targets, labels, seeds, p, rng);
  const double robust_px = mean(r.pixel_distance), standard_px = mean(s.pixel_distance);
  std::printf("mean pixel L2 to the targets: robust %.2f, standard %.2f, ratio %.3f\n", robust_px,
              standard_px, robust_px / standard_px);
  EXPECT_LE(robust_px, 0.8 * standard_px);
  // Both optimizations did their job: the representations match.
  EXPECT_LT(mean(r.representation_distance), 0.5 * mean(r.start_distance));
  EXPECT_LT(mean(s.representation_distance), 0.5 * mean(s.start_distance));
}

}  // namespace
}  // namespace rp
