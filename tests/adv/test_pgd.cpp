// The PGD attacker on a small trained model: the threat model holds at every iterate, eps = 0
// changes nothing, use_best returns the best iterate it saw, restarts never lower the success,
// targeted attacks move towards their target, representation objectives improve, and the
// loop allocates nothing after its first iteration.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "engine/adv/objective.h"
#include "engine/adv/pgd.h"
#include "engine/core/error.h"
#include "engine/data/synthetic.h"
#include "engine/ops/metrics.h"
#include "engine/train/setup.h"
#include "engine/train/trainer.h"
#include "models/registry.h"
#include "tests/support/test_support.h"

namespace rp {
namespace {

// A tiny ResNet-18 trained for 5 epochs on 2,000 synthetic images (~6 s; 80-88% test accuracy
// across seeds, where 3 epochs on 1,000 left it near chance and the attacks nothing to show),
// and 32 test images.
struct Trained {
  std::unique_ptr<Network> net;
  Tensor x, y;
};

Trained trained_model() {
  TrainConfig c;
  c.width = 1.0 / 16;
  c.synthetic_train = 2000;
  c.synthetic_test = 32;
  c.epochs = 5;
  c.batch_size = 50;
  c.schedule = "onecycle";
  c.threads = 2;
  const DatasetSplits data = load_dataset(dataset_request(c));
  Trained t;
  t.net = make_network(network_spec(c, data.train), Device::cpu(), 0);
  Trainer trainer(test::cpu_context(), *t.net, c, to_device(data.train, Device::cpu()),
                  to_device(data.test, Device::cpu()));
  trainer.run(nullptr, false);
  t.x = Tensor::empty(Shape{32, 3, 32, 32});
  for (std::int64_t i = 0; i < t.x.numel(); ++i) {
    t.x.data<float>()[i] =
        static_cast<float>(data.test.images[static_cast<std::size_t>(i)]) / 255.f;
  }
  t.y = Tensor::from_vector(data.test.labels, Shape{32});
  return t;
}

double accuracy(Context& ctx, Network& net, const Tensor& x, const Tensor& y) {
  net.forward(ctx, x, ForwardOptions{});
  Tensor c = Tensor::empty(Shape{1});
  count_correct(ctx, net.logits(), y, c);
  return static_cast<double>(c.data<float>()[0]) / static_cast<double>(x.size(0));
}

class Pgd : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { model_ = new Trained(trained_model()); }
  static void TearDownTestSuite() {
    delete model_;
    model_ = nullptr;
  }
  static Trained* model_;
  Context& ctx = test::cpu_context();
};
Trained* Pgd::model_ = nullptr;

TEST_F(Pgd, IteratesStayInTheBallAndThePixelRange) {
  Network& net = *model_->net;
  PgdAttack attack(net, Device::cpu(), 32);
  for (ThreatModel norm : {ThreatModel::Linf, ThreatModel::L2}) {
    const double eps = norm == ThreatModel::Linf ? 8.0 / 255 : 0.5;
    int checked = 0;
    attack.set_observer([&](std::int64_t, std::int64_t, const Tensor& x, const Tensor&) {
      for (std::int64_t i = 0; i < 32; ++i) {
        double sq = 0;
        for (std::int64_t j = i * 3072; j < (i + 1) * 3072; ++j) {
          const double v = test::value_at(x, j), d = v - test::value_at(model_->x, j);
          ASSERT_TRUE(v >= 0 && v <= 1) << "pixel outside [0, 1]";
          if (norm == ThreatModel::Linf) {
            ASSERT_LE(std::abs(d), eps + 1e-7);
          }
          sq += d * d;
        }
        if (norm == ThreatModel::L2) {
          ASSERT_LE(std::sqrt(sq), eps * (1 + 1e-6));
        }
      }
      ++checked;
    });
    CrossEntropyObjective ce(model_->y, false);
    AttackParams p{norm, eps, 2.5 * eps / 10, 10, true, 2, true};
    const Tensor& adv = attack.run(ctx, model_->x, ce, p, ctx.rng(1));
    EXPECT_EQ(checked, 20);  // 2 restarts x 10 iterations
    for (std::int64_t j = 0; j < adv.numel(); ++j) {
      ASSERT_TRUE(test::value_at(adv, j) >= 0 && test::value_at(adv, j) <= 1);
    }
    attack.set_observer(nullptr);
  }
}

TEST_F(Pgd, ZeroEpsilonReturnsTheInput) {
  Network& net = *model_->net;
  PgdAttack attack(net, Device::cpu(), 32);
  CrossEntropyObjective ce(model_->y, false);
  for (ThreatModel norm : {ThreatModel::Linf, ThreatModel::L2}) {
    const Tensor& adv =
        attack.run(ctx, model_->x, ce, AttackParams{norm, 0.0, 0.1, 5, true, 1, true}, ctx.rng(2));
    test::expect_equal_exact(adv, model_->x, "eps = 0");
  }
}

// Every iterate's objective is seen by the observer; the result is the best of them (or of
// the final iterate, evaluated after the last step).
TEST_F(Pgd, UseBestReturnsTheBestIterateSeen) {
  Network& net = *model_->net;
  PgdAttack attack(net, Device::cpu(), 32);
  std::vector<double> best(32, -INFINITY);
  attack.set_observer([&](std::int64_t, std::int64_t, const Tensor&, const Tensor& values) {
    for (std::int64_t i = 0; i < 32; ++i)
      best[static_cast<std::size_t>(i)] =
          std::max(best[static_cast<std::size_t>(i)], test::value_at(values, i));
  });
  CrossEntropyObjective ce(model_->y, false);
  // A large step makes the objective oscillate, so the last iterate is often not the best.
  const AttackParams p{ThreatModel::Linf, 16.0 / 255, 8.0 / 255, 6, true, 1, true};
  const Tensor adv = test::clone(attack.run(ctx, model_->x, ce, p, ctx.rng(3)));
  const std::vector<double> returned = test::values(attack.result_values());
  // The returned value is the value of the returned image...
  Tensor values = Tensor::empty(Shape{32});
  net.forward(ctx, adv, ForwardOptions{});
  ce.values(ctx, net.logits(), values);
  test::expect_close(values, returned, 1e-6, 1e-6, "value of the returned image");
  // ...and no observed iterate beat it.
  int improved_on_last = 0;
  for (std::int64_t i = 0; i < 32; ++i) {
    EXPECT_GE(returned[static_cast<std::size_t>(i)], best[static_cast<std::size_t>(i)] - 1e-6) << i;
    improved_on_last += returned[static_cast<std::size_t>(i)] > best[static_cast<std::size_t>(i)];
  }
  // Without use_best the last iterate comes back, which is worse for some examples.
  const Tensor last = test::clone(attack.run(
      ctx, model_->x, ce, AttackParams{ThreatModel::Linf, 16.0 / 255, 8.0 / 255, 6, true, 1, false},
      ctx.rng(3)));
  net.forward(ctx, last, ForwardOptions{});
  ce.values(ctx, net.logits(), values);
  int worse = 0;
  for (std::int64_t i = 0; i < 32; ++i)
    worse += test::value_at(values, i) < returned[static_cast<std::size_t>(i)] - 1e-6;
  EXPECT_GT(worse, 0) << "the oscillating attack should end below its best for some examples";
  (void)improved_on_last;
}

TEST_F(Pgd, RestartsNeverLowerTheSuccess) {
  Network& net = *model_->net;
  PgdAttack attack(net, Device::cpu(), 32);
  CrossEntropyObjective ce(model_->y, false);
  double previous = 1.0;
  for (std::int64_t restarts : {1, 2, 4}) {
    const AttackParams p{ThreatModel::Linf, 4.0 / 255, 1.0 / 255, 5, true, restarts, true};
    const double acc =
        accuracy(ctx, net, test::clone(attack.run(ctx, model_->x, ce, p, ctx.rng(4))), model_->y);
    EXPECT_LE(acc, previous) << restarts << " restarts";
    previous = acc;
  }
  EXPECT_LT(previous, accuracy(ctx, net, model_->x, model_->y));
}

TEST_F(Pgd, TargetedAttacksRaiseTheTarget) {
  Network& net = *model_->net;
  PgdAttack attack(net, Device::cpu(), 32);
  std::vector<std::int32_t> targets(32);
  for (std::int64_t i = 0; i < 32; ++i)
    targets[static_cast<std::size_t>(i)] = (model_->y.data<std::int32_t>()[i] + 3) % 10;
  const Tensor t = Tensor::from_vector(targets, Shape{32});
  CrossEntropyObjective towards(t, true);
  Tensor before = Tensor::empty(Shape{32}), after = Tensor::empty(Shape{32});
  net.forward(ctx, model_->x, ForwardOptions{});
  towards.values(ctx, net.logits(), before);  // CE to the target: lower is closer
  const Tensor adv = test::clone(
      attack.run(ctx, model_->x, towards,
                 AttackParams{ThreatModel::L2, 4.0, 0.25, 40, false, 1, true}, ctx.rng(5)));
  net.forward(ctx, adv, ForwardOptions{});
  towards.values(ctx, net.logits(), after);
  for (std::int64_t i = 0; i < 32; ++i)
    EXPECT_LT(test::value_at(after, i), test::value_at(before, i)) << i;
  Tensor hit = Tensor::empty(Shape{1});
  count_correct(ctx, net.logits(), t, hit);
  // Measured: 21 of the 32 examples classified as their target.
  EXPECT_GT(hit.data<float>()[0], 16.f) << "most examples should reach their target at L2 eps 4";
}

// Representation objectives: inversion towards another image's R(x), and a coordinate pushed
// up, improve on their starting values.
TEST_F(Pgd, RepresentationObjectivesImprove) {
  Network& net = *model_->net;
  PgdAttack attack(net, Device::cpu(), 32);
  net.forward(ctx, model_->x, ForwardOptions{BnMode::Eval, true, false});
  const Tensor reps = test::clone(net.representation());
  // Targets: the representation of the next image.
  Tensor targets = Tensor::empty(reps.shape());
  const std::int64_t f = reps.size(1);
  for (std::int64_t i = 0; i < 32; ++i) {
    for (std::int64_t j = 0; j < f; ++j)
      test::set_value(targets, i * f + j, test::value_at(reps, ((i + 1) % 32) * f + j));
  }
  RepresentationDistance inversion(targets);
  Tensor start = Tensor::empty(Shape{32});
  inversion.values(ctx, net.representation(), start);
  attack.run(ctx, model_->x, inversion,
             AttackParams{ThreatModel::L2, 1000, 0.5, 30, false, 1, true}, ctx.rng(6));
  for (std::int64_t i = 0; i < 32; ++i)
    EXPECT_LT(test::value_at(attack.result_values(), i), test::value_at(start, i));

  const Tensor k = Tensor::from_vector(std::vector<std::int32_t>(32, 3), Shape{32});
  CoordinateObjective coordinate(k, std::nullopt);
  net.forward(ctx, model_->x, ForwardOptions{BnMode::Eval, true, false});
  coordinate.values(ctx, net.representation(), start);
  attack.run(ctx, model_->x, coordinate,
             AttackParams{ThreatModel::L2, 1000, 0.5, 20, false, 1, true}, ctx.rng(7));
  for (std::int64_t i = 0; i < 32; ++i)
    EXPECT_GT(test::value_at(attack.result_values(), i), test::value_at(start, i));
}

// After the first iteration the attack runs with the context's allocations frozen: anything
// that allocated inside the loop would throw.
TEST_F(Pgd, TheLoopRunsWithAllocationsFrozen) {
  Network& net = *model_->net;
  PgdAttack attack(net, Device::cpu(), 32);
  std::vector<bool> frozen;
  attack.set_observer([&](std::int64_t, std::int64_t, const Tensor&, const Tensor&) {
    frozen.push_back(ctx.allocations_frozen());
  });
  CrossEntropyObjective ce(model_->y, false);
  EXPECT_NO_THROW(attack.run(
      ctx, model_->x, ce, AttackParams{ThreatModel::L2, 0.5, 0.1, 4, true, 2, true}, ctx.rng(8)));
  ASSERT_EQ(frozen.size(), 8u);
  EXPECT_FALSE(frozen[0]);
  for (std::size_t i = 1; i < frozen.size(); ++i) EXPECT_TRUE(frozen[i]) << i;
  EXPECT_FALSE(ctx.allocations_frozen()) << "restored after the attack";
}

TEST_F(Pgd, RefusesBadParametersAndTargetsBeforeAnyWork) {
  Network& net = *model_->net;
  PgdAttack attack(net, Device::cpu(), 32);
  CrossEntropyObjective ce(model_->y, false);
  const AttackParams bad[] = {{ThreatModel::Linf, -0.1, 0.01, 10, false, 1, true},
                              {ThreatModel::Linf, std::nan(""), 0.01, 10, false, 1, true},
                              {ThreatModel::Linf, 0.1, -1, 10, false, 1, true},
                              {ThreatModel::Linf, 0.1, INFINITY, 10, false, 1, true},
                              {ThreatModel::Linf, 0.1, 0.01, 0, false, 1, true},
                              {ThreatModel::Linf, 0.1, 0.01, 10, false, 0, true}};
  for (const AttackParams& p : bad)
    EXPECT_THROW(attack.run(ctx, model_->x, ce, p, ctx.rng(0)), Error);
  EXPECT_THROW(parse_threat_model("3"), Error);
  EXPECT_THROW(CrossEntropyObjective(Tensor(), true), Error);  // targeted without targets
  CrossEntropyObjective out_of_range(
      Tensor::from_vector(std::vector<std::int32_t>(32, 10), Shape{32}), true);
  try {
    attack.run(ctx, model_->x, out_of_range, AttackParams{}, ctx.rng(0));
    FAIL() << "expected rp::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("target class 10 of example 0 is outside"),
              std::string::npos)
        << e.what();
  }
  Tensor wrong = Tensor::empty(Shape{33, 3, 32, 32});
  EXPECT_THROW(attack.run(ctx, wrong, ce, AttackParams{}, ctx.rng(0)), Error);
}

}  // namespace
}  // namespace rp
