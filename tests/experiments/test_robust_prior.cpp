// The paper's effect on a small configuration: a robust model's inversions are closer to their
// targets in pixel space than a standard model's.
//
// Both models: a ResNet-18 at 1/16 width on 3,000 synthetic images, batch 64, onecycle lr 0.1;
// standard 6 epochs, robust 8 epochs of PGD-3 training at L2 eps 0.5. Ten test targets (one
// per class) inverted from the same N(0.5, 0.05^2) noise seeds, L2 eps 1000, step 1, 200
// iterations. Measured on a 2-core CPU (~45 s in all): mean pixel L2 to the targets 15.8
// (robust) vs 17.8 (standard), 11% apart; with 1,500 iterations 20.8 vs 22.7. The assertion
// (3% apart) leaves room for differences on other machines and thread counts.
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
  c.width = 1.0 / 16;
  c.synthetic_train = 3000;
  c.synthetic_test = 500;
  c.epochs = robust ? 8 : 6;
  c.batch_size = 64;
  c.schedule = "onecycle";
  c.threads = 2;
  c.robust_eval_subset = 0;
  if (robust) {
    c.adv = "pgd";
    c.constraint = "2";
    c.eps = Amount{"0.5"};
    c.attack_steps = 3;
  }
  Model m{load_dataset(dataset_request(c)), nullptr};
  m.net = make_network(network_spec(c, m.data.train), Device::cpu(), 0);
  Trainer trainer(test::cpu_context(), *m.net, c, to_device(m.data.train, Device::cpu()),
                  to_device(m.data.test, Device::cpu()));
  trainer.run(nullptr, false);
  return m;
}

TEST(RobustPrior, RobustInversionsAreCloserToTheirTargets) {
  Model standard = train(false), robust = train(true);
  const Dataset& test = standard.data.test;
  // One target per class.
  std::vector<std::int64_t> idx;
  std::vector<std::int32_t> labels;
  for (std::int32_t cls = 0; cls < 10; ++cls) {
    for (std::int64_t i = 0; i < test.size(); ++i) {
      if (test.labels[static_cast<std::size_t>(i)] == cls) {
        idx.push_back(i);
        labels.push_back(cls);
        break;
      }
    }
  }
  ASSERT_EQ(idx.size(), 10u);
  const HostImages targets = HostImages::from_dataset(test, idx);
  const RngStream rng{0, rng_stream(RngPurpose::Experiment, 0), 0};
  const HostImages seeds = noise_seeds(10, standard.net->spec(), 0.5, 0.05, rng);
  InversionParams p;
  p.attack.steps = 200;
  Context& ctx = test::cpu_context();
  const InversionResult r = invert(ctx, *robust.net, targets, labels, seeds, p, rng);
  const InversionResult s = invert(ctx, *standard.net, targets, labels, seeds, p, rng);
  const double robust_px = mean(r.pixel_distance), standard_px = mean(s.pixel_distance);
  std::printf("mean pixel L2 to the targets: robust %.2f, standard %.2f\n", robust_px, standard_px);
  EXPECT_LT(robust_px, 0.97 * standard_px);
  // Both optimizations did their job: the representations match.
  EXPECT_LT(mean(r.representation_distance), 0.5 * mean(r.start_distance));
  EXPECT_LT(mean(s.representation_distance), 0.5 * mean(s.start_distance));
}

}  // namespace
}  // namespace rp
