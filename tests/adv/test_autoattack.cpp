// APGD, FAB-T and the AutoAttack sequence on a tiny ResNet-18 (width 1/32, 8x8 images) trained
// for a second on prototype-plus-noise classes: the checkpoint schedule against its formula;
// APGD at most PGD-20 on the same examples; FAB-T's perturbations within eps and smaller than
// PGD's; iterates in the threat ball; repeatable results;
// robust accuracy non-increasing in eps and zero at a large eps; per-example outcomes that add
// up; bad arguments refused before any work.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <vector>

#include "engine/adv/apgd.h"
#include "engine/adv/autoattack.h"
#include "engine/adv/fab.h"
#include "engine/adv/objective.h"
#include "engine/adv/pgd.h"
#include "engine/adv/square.h"
#include "engine/core/error.h"
#include "engine/data/dataset.h"
#include "engine/data/loader.h"
#include "engine/ops/metrics.h"
#include "engine/train/config.h"
#include "engine/train/trainer.h"
#include "models/registry.h"
#include "tests/support/test_support.h"

namespace rp {
namespace {

constexpr std::int64_t kImages = 16, kSide = 8;

struct Tiny {
  std::unique_ptr<Network> net;
  Dataset data;
  Tensor x, y;  // the images in [0, 1] and the network's own predictions
};

// Ten classes, each a random prototype image plus noise: learnable in a few epochs.
Dataset prototype_data(std::int64_t size, std::uint64_t seed) {
  Dataset d;
  d.name = "prototypes";
  d.height = d.width = kSide;
  for (int c = 0; c < 10; ++c) d.classes.push_back(std::to_string(c));
  const std::int64_t image = 3 * kSide * kSide;
  std::mt19937_64 proto_gen(99), gen(seed);
  std::uniform_int_distribution<int> pixel(40, 215), noise(-40, 40), label(0, 9);
  std::vector<int> prototypes(static_cast<std::size_t>(10 * image));
  for (int& p : prototypes) p = pixel(proto_gen);
  for (std::int64_t i = 0; i < size; ++i) {
    const int c = label(gen);
    d.labels.push_back(c);
    for (std::int64_t j = 0; j < image; ++j) {
      d.images.push_back(static_cast<std::uint8_t>(
          prototypes[static_cast<std::size_t>(c * image + j)] + noise(gen)));
    }
  }
  return d;
}

// A tiny ResNet-18 trained for 4 epochs on 400 images (about a second), and kImages test images.
Tiny tiny_model() {
  Context& ctx = test::cpu_context();
  TrainConfig c;
  c.width = 1.0 / 32;
  c.epochs = 4;
  c.batch_size = 50;
  c.schedule = "onecycle";
  c.augment = false;
  c.robust_eval_subset = 0;
  c.threads = 2;
  NetworkSpec spec;
  spec.arch = "resnet18";
  spec.width = c.width;
  spec.image_h = spec.image_w = kSide;
  Tiny t;
  t.net = make_network(spec, Device::cpu(), 7);
  t.data = prototype_data(kImages, 2);
  {
    Trainer trainer(ctx, *t.net, c, to_device(prototype_data(400, 1), Device::cpu()),
                    to_device(t.data, Device::cpu()));
    trainer.run(nullptr, false);
  }
  t.net->prepare(ctx, kImages);
  t.x = Tensor::empty(Shape{kImages, 3, kSide, kSide});
  for (std::int64_t i = 0; i < t.x.numel(); ++i) {
    t.x.data<float>()[i] = static_cast<float>(t.data.images[static_cast<std::size_t>(i)]) / 255.f;
  }
  t.y = Tensor::from_vector(t.data.labels, Shape{kImages});
  return t;
}

double max_norm(const Tensor& a, const Tensor& b, ThreatModel norm) {
  double worst = 0;
  const std::int64_t d = a.numel() / a.size(0);
  for (std::int64_t i = 0; i < a.size(0); ++i) {
    double acc = 0;
    for (std::int64_t j = i * d; j < (i + 1) * d; ++j) {
      const double v = std::abs(test::value_at(a, j) - test::value_at(b, j));
      acc = norm == ThreatModel::L2 ? acc + v * v : std::max(acc, v);
    }
    worst = std::max(worst, norm == ThreatModel::L2 ? std::sqrt(acc) : acc);
  }
  return worst;
}

class AutoAttackTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { model_ = new Tiny(tiny_model()); }
  static void TearDownTestSuite() {
    delete model_;
    model_ = nullptr;
  }
  static Tiny* model_;
  Context& ctx = test::cpu_context();

  EnsembleResult ensemble(const std::string& attack, ThreatModel norm, double eps,
                          std::int64_t batch = kImages) {
    EnsembleConfig c;
    c.norm = norm;
    c.eps = eps;
    c.attacks = attack_sequence(attack, norm);
    c.square_queries = 300;
    c.apgd_iterations = 20;
    c.fab_iterations = 20;
    c.targets = 3;
    c.pgd.steps = 20;
    c.pgd.step = default_step(eps, 20);
    c.seed = 5;
    BatchLoader loader(to_device(model_->data, Device::cpu()),
                       LoaderOptions{batch, false, false, 4, true}, 0);
    return evaluate_ensemble(ctx, *model_->net, loader, c);
  }
};
Tiny* AutoAttackTest::model_ = nullptr;

TEST(ApgdSchedule, CheckpointsFollowTheFormula) {
  for (std::int64_t n : {100, 1000}) {
    // p_j in hundredths: p_0 = 0, p_1 = 22, p_{j+1} = p_j + max(p_j - p_{j-1} - 3, 6).
    std::vector<std::int64_t> expected;
    std::int64_t prev = 0, p = 22;
    while (p * n <= 100 * n) {
      expected.push_back((p * n + 99) / 100);  // ceil(p_j N)
      const std::int64_t next = p + std::max<std::int64_t>(p - prev - 3, 6);
      prev = p;
      p = next;
    }
    const std::vector<ApgdCheckpoint> got = apgd_checkpoints(n);
    ASSERT_EQ(got.size(), expected.size()) << n << " iterations";
    std::int64_t at = 0;
    for (std::size_t j = 0; j < got.size(); ++j) {
      EXPECT_EQ(got[j].iteration, expected[j]) << "checkpoint " << j << " of " << n;
      EXPECT_EQ(got[j].window, got[j].iteration - at);
      at = got[j].iteration;
    }
  }
  EXPECT_EQ(apgd_checkpoints(100).front().iteration, 22);
  EXPECT_EQ(apgd_checkpoints(100).back().iteration, 99);
  EXPECT_THROW(apgd_checkpoints(0), Error);
}

TEST_F(AutoAttackTest, ApgdStaysInTheBallAndRepeatsForTheSameSeed) {
  Network& net = *model_->net;
  ApgdAttack attack(net, Device::cpu(), kImages);
  for (ThreatModel norm : {ThreatModel::Linf, ThreatModel::L2}) {
    const double eps = norm == ThreatModel::Linf ? 1.0 / 255 : 0.1;
    const ApgdParams p{norm, eps, 15, 0.75, 0.75, 1};
    CrossEntropyObjective ce(model_->y, false);
    attack.begin(ctx, model_->x, model_->y);
    attack.run(ctx, ce, p, RngStream{3, 1, 0});
    const Tensor adv = test::clone(attack.adversarial());
    const std::vector<float> flags = attack.still_correct().to_vector<float>();
    EXPECT_LE(max_norm(adv, model_->x, norm), eps + 1e-6);  // float rounding of x0 + eps
    // Broken examples are misclassified at the returned point, the others are the clean image.
    net.forward(ctx, adv, ForwardOptions{});
    Tensor now = Tensor::empty(Shape{kImages});
    correct_flags(ctx, net.logits(), model_->y, now);
    for (std::int64_t i = 0; i < kImages; ++i) {
      EXPECT_EQ(now.data<float>()[i], flags[static_cast<std::size_t>(i)]) << "example " << i;
    }
    attack.begin(ctx, model_->x, model_->y);
    attack.run(ctx, ce, p, RngStream{3, 1, 0});
    test::expect_equal_exact(attack.adversarial(), adv, "APGD repeated with its seed");
    EXPECT_EQ(attack.image_iterations(), kImages * 16);
  }
}

TEST_F(AutoAttackTest, ApgdIsAtLeastAsStrongAsPgd20) {
  for (ThreatModel norm : {ThreatModel::Linf, ThreatModel::L2}) {
    const double eps = norm == ThreatModel::Linf ? 1.0 / 255 : 0.2;
    const EnsembleResult pgd = ensemble("pgd", norm, eps);
    const EnsembleResult apgd = ensemble("apgd-ce", norm, eps);
    const EnsembleResult aa = ensemble("autoattack", norm, eps);
    EXPECT_GT(pgd.clean_accuracy, 0.5);
    EXPECT_LE(apgd.robust_accuracy, pgd.robust_accuracy) << threat_model_name(norm);
    EXPECT_LE(aa.robust_accuracy, apgd.robust_accuracy) << threat_model_name(norm);
    EXPECT_LT(aa.robust_accuracy, 1.0) << "the attacks break something";
    EXPECT_GT(pgd.robust_accuracy, 0.0) << "eps small enough to compare the attacks";
  }
}

TEST_F(AutoAttackTest, RobustAccuracyFallsWithEpsAndOutcomesAddUp) {
  double last = 2;
  for (double eps : {0.0, 0.25 / 255, 1.0 / 255, 64.0 / 255}) {
    const EnsembleResult r = ensemble("autoattack", ThreatModel::Linf, eps, 10);
    EXPECT_LE(r.robust_accuracy, last) << "eps " << eps;
    last = r.robust_accuracy;
    if (eps == 0) {
      EXPECT_EQ(r.robust_accuracy, r.clean_accuracy);
    }
    if (eps > 0.2) {
      EXPECT_EQ(r.robust_accuracy, 0.0);
    }
    ASSERT_EQ(r.examples, kImages);
    ASSERT_EQ(r.attacks.size(), 4u);
    EXPECT_EQ(r.attacks[0].name, AttackName::ApgdCe);
    EXPECT_EQ(r.attacks[1].name, AttackName::ApgdT);
    EXPECT_EQ(r.attacks[2].name, AttackName::FabT);
    EXPECT_EQ(r.attacks[3].name, AttackName::Square);
    std::int64_t broken = 0, robust = 0;
    for (const ExampleOutcome& o : r.outcomes) {
      if (o.broken_by >= 0) {
        ++broken;
        EXPECT_TRUE(o.clean_correct);
        EXPECT_GT(o.norm, 0.0);
        EXPECT_LE(o.norm, eps + 1e-6);
      } else if (o.clean_correct) {
        ++robust;
      }
    }
    std::int64_t by_attacks = 0;
    for (std::size_t a = 0; a < r.attacks.size(); ++a) {
      by_attacks += r.attacks[a].broken;
      if (a > 0) {
        EXPECT_EQ(r.attacks[a].attacked, r.attacks[a - 1].attacked - r.attacks[a - 1].broken);
      }
    }
    EXPECT_EQ(broken, by_attacks);
    EXPECT_DOUBLE_EQ(r.robust_accuracy, static_cast<double>(robust) / kImages);
  }
}

TEST_F(AutoAttackTest, ResultsRepeatForTheSameSeed) {
  const EnsembleResult a = ensemble("autoattack", ThreatModel::L2, 0.05);
  const EnsembleResult b = ensemble("autoattack", ThreatModel::L2, 0.05);
  ASSERT_EQ(a.outcomes.size(), b.outcomes.size());
  for (std::size_t i = 0; i < a.outcomes.size(); ++i) {
    EXPECT_EQ(a.outcomes[i].broken_by, b.outcomes[i].broken_by);
    EXPECT_EQ(a.outcomes[i].norm, b.outcomes[i].norm);
  }
}

// The mean norm of the perturbations that broke examples, and how many did.
std::pair<double, int> mean_broken_norm(const EnsembleResult& r) {
  double sum = 0;
  int count = 0;
  for (const ExampleOutcome& o : r.outcomes) {
    if (o.broken_by < 0) continue;
    sum += o.norm;
    ++count;
  }
  return {count > 0 ? sum / count : 0.0, count};
}

TEST_F(AutoAttackTest, FabTFindsSmallerPerturbationsThanPgdWithinEps) {
  for (ThreatModel norm : {ThreatModel::Linf, ThreatModel::L2}) {
    const double eps = norm == ThreatModel::Linf ? 4.0 / 255 : 0.5;
    const EnsembleResult pgd = ensemble("pgd", norm, eps);
    const EnsembleResult fab = ensemble("fab-t", norm, eps);
    ASSERT_EQ(fab.attacks.size(), 1u);
    EXPECT_EQ(fab.attacks[0].name, AttackName::FabT);
    const auto [pgd_mean, pgd_count] = mean_broken_norm(pgd);
    const auto [fab_mean, fab_count] = mean_broken_norm(fab);
    ASSERT_GT(pgd_count, 0) << threat_model_name(norm);
    ASSERT_GT(fab_count, 0) << threat_model_name(norm);
    for (const ExampleOutcome& o : fab.outcomes) {
      if (o.broken_by >= 0) {
        EXPECT_GT(o.norm, 0.0);
        EXPECT_LE(o.norm, eps + 1e-6);
      }
    }
    // FAB minimizes the perturbation; PGD's ends near the ball's surface.
    EXPECT_LT(fab_mean, pgd_mean) << threat_model_name(norm) << ": FAB-T " << fab_count
                                  << " broken, PGD " << pgd_count;
    std::printf("%s eps %.4f: FAB-T broke %d (mean norm %.4f), PGD-20 %d (mean norm %.4f)\n",
                threat_model_name(norm), eps, fab_count, fab_mean, pgd_count, pgd_mean);
  }
}

// The attack on its own: broken examples misclassified at the returned point, whose norm is
// the one reported, within eps; the rest the clean image; the same result when repeated.
TEST_F(AutoAttackTest, FabTReturnsMisclassifiedPointsWithTheirNormsAndRepeats) {
  Network& net = *model_->net;
  FabAttack fab(net, Device::cpu(), kImages);
  for (ThreatModel norm : {ThreatModel::Linf, ThreatModel::L2}) {
    FabParams p;
    p.norm = norm;
    p.eps = norm == ThreatModel::Linf ? 4.0 / 255 : 0.5;
    p.iterations = 15;
    p.targets = 2;
    fab.run(ctx, model_->x, model_->y, p);
    const Tensor adv = test::clone(fab.adversarial());
    const std::vector<double> still = test::values(fab.still_correct());
    const std::vector<double> norms = test::values(fab.perturbation_norms());
    EXPECT_LE(max_norm(adv, model_->x, norm), p.eps + 1e-6);
    net.forward(ctx, adv, ForwardOptions{});
    Tensor now = Tensor::empty(Shape{kImages});
    correct_flags(ctx, net.logits(), model_->y, now);
    net.forward(ctx, model_->x, ForwardOptions{});
    Tensor clean = Tensor::empty(Shape{kImages});
    correct_flags(ctx, net.logits(), model_->y, clean);
    int broken = 0;
    const std::int64_t d = adv.numel() / kImages;
    for (std::int64_t i = 0; i < kImages; ++i) {
      const std::size_t ii = static_cast<std::size_t>(i);
      if (still[ii] != 0) {
        EXPECT_TRUE(std::isinf(norms[ii]));
        for (std::int64_t j = i * d; j < (i + 1) * d; ++j) {
          ASSERT_EQ(test::value_at(adv, j), test::value_at(model_->x, j)) << "example " << i;
        }
        continue;
      }
      ++broken;
      if (clean.data<float>()[i] != 0) {
        EXPECT_EQ(now.data<float>()[i], 0.f) << "example " << i << " is misclassified";
      }
      double acc = 0;
      for (std::int64_t j = i * d; j < (i + 1) * d; ++j) {
        const double v = std::abs(test::value_at(adv, j) - test::value_at(model_->x, j));
        acc = norm == ThreatModel::L2 ? acc + v * v : std::max(acc, v);
      }
      EXPECT_NEAR(norms[ii], norm == ThreatModel::L2 ? std::sqrt(acc) : acc, 1e-6);
      EXPECT_LE(norms[ii], p.eps);
    }
    EXPECT_GT(broken, 0) << threat_model_name(norm);
    EXPECT_GE(fab.image_iterations(), kImages * p.iterations);
    EXPECT_LE(fab.image_iterations(), kImages * p.iterations * p.targets);
    fab.run(ctx, model_->x, model_->y, p);
    test::expect_equal_exact(fab.adversarial(), adv, "FAB-T repeated");
  }
}

TEST(SquareSchedule, HalvesAtTheReferenceQueries) {
  EXPECT_EQ(square_p_schedule(0.8, 0, 10000), 0.8);
  EXPECT_EQ(square_p_schedule(0.8, 10, 10000), 0.8);
  EXPECT_EQ(square_p_schedule(0.8, 11, 10000), 0.4);
  EXPECT_EQ(square_p_schedule(0.8, 51, 10000), 0.2);
  EXPECT_EQ(square_p_schedule(0.8, 4001, 10000), 0.8 / 128);
  EXPECT_EQ(square_p_schedule(0.8, 9999, 10000), 0.8 / 512);
  // Rescaled to the budget: query 6 of 5,000 is query 12 of 10,000.
  EXPECT_EQ(square_p_schedule(0.8, 6, 5000), 0.4);
}

// Square needs no gradient: it lowers the accuracy through forward passes alone, stays in the
// ball, and repeats for the same seed.
TEST_F(AutoAttackTest, SquareBreaksExamplesWithForwardPassesOnly) {
  Network& net = *model_->net;
  SquareAttack square(net, Device::cpu(), kImages);
  const SquareParams p{ThreatModel::Linf, 8.0 / 255, 200, 0.8};
  square.run(ctx, model_->x, model_->y, p, RngStream{9, 2, 0});
  const Tensor adv = test::clone(square.adversarial());
  EXPECT_LE(max_norm(adv, model_->x, ThreatModel::Linf), p.eps + 1e-6);
  net.forward(ctx, model_->x, ForwardOptions{});
  Tensor clean = Tensor::empty(Shape{1}), attacked = Tensor::empty(Shape{1});
  count_correct(ctx, net.logits(), model_->y, clean);
  net.forward(ctx, adv, ForwardOptions{});
  count_correct(ctx, net.logits(), model_->y, attacked);
  EXPECT_LT(attacked.data<float>()[0], clean.data<float>()[0]);
  EXPECT_GE(square.queries_run(), 101);
  square.run(ctx, model_->x, model_->y, p, RngStream{9, 2, 0});
  test::expect_equal_exact(square.adversarial(), adv, "Square repeated with its seed");
  // The L2 variant likewise, within its ball.
  const SquareParams l2{ThreatModel::L2, 1.0, 200, 0.8};
  square.run(ctx, model_->x, model_->y, l2, RngStream{9, 3, 0});
  EXPECT_LE(max_norm(square.adversarial(), model_->x, ThreatModel::L2), l2.eps + 1e-6);
  net.forward(ctx, square.adversarial(), ForwardOptions{});
  count_correct(ctx, net.logits(), model_->y, attacked);
  EXPECT_LT(attacked.data<float>()[0], clean.data<float>()[0]);
  EXPECT_THROW(square.run(ctx, model_->x, model_->y, SquareParams{ThreatModel::L2, 0.5, 0, 0.8},
                          RngStream{}),
               Error);
}

TEST_F(AutoAttackTest, BadArgumentsAreRefusedBeforeWork) {
  EXPECT_THROW(attack_sequence("fgsm", ThreatModel::Linf), Error);
  EnsembleConfig c;
  c.attacks = attack_sequence("apgd-t", ThreatModel::Linf);
  c.targets = 10;  // a 10-class model has 9 other classes
  EXPECT_THROW(validate(c, model_->net->spec()), Error);
  c.targets = 9;
  EXPECT_NO_THROW(validate(c, model_->net->spec()));
  c.eps = -1;
  EXPECT_THROW(validate(c, model_->net->spec()), Error);
  c.eps = 0.1;
  c.apgd_iterations = 0;
  EXPECT_THROW(validate(c, model_->net->spec()), Error);
  // APGD maximizes: a targeted cross-entropy (minimized) is refused.
  ApgdAttack attack(*model_->net, Device::cpu(), kImages);
  attack.begin(ctx, model_->x, model_->y);
  CrossEntropyObjective targeted(model_->y, true);
  EXPECT_THROW(attack.run(ctx, targeted, ApgdParams{}, RngStream{}), Error);
  ApgdParams bad;
  bad.rho = 1.5;
  CrossEntropyObjective ce(model_->y, false);
  EXPECT_THROW(attack.run(ctx, ce, bad, RngStream{}), Error);
  EXPECT_EQ(attack.image_iterations(), 0);
  // FAB-T: its targets within the classes, its iterations and step parameters.
  c.attacks = attack_sequence("fab-t", ThreatModel::Linf);
  c.targets = 10;
  EXPECT_THROW(validate(c, model_->net->spec()), Error);
  c.targets = 9;
  c.apgd_iterations = 100;
  EXPECT_NO_THROW(validate(c, model_->net->spec()));
  c.fab_iterations = 0;
  EXPECT_THROW(validate(c, model_->net->spec()), Error);
  FabAttack fab(*model_->net, Device::cpu(), kImages);
  FabParams fp;
  fp.iterations = 5;
  for (auto broken : {+[](FabParams& q) { q.eta = 0.9; }, +[](FabParams& q) { q.beta = 1.5; },
                      +[](FabParams& q) { q.alpha_max = -0.1; },
                      +[](FabParams& q) { q.targets = 10; }, +[](FabParams& q) { q.eps = -1; }}) {
    FabParams q = fp;
    broken(q);
    EXPECT_THROW(fab.run(ctx, model_->x, model_->y, q), Error);
    EXPECT_EQ(fab.image_iterations(), 0);
  }
  const Tensor wrong_labels = Tensor::from_vector(std::vector<std::int32_t>{0, 1}, Shape{2});
  EXPECT_THROW(fab.run(ctx, model_->x, wrong_labels, fp), Error);
  EXPECT_EQ(fab.image_iterations(), 0);
}

}  // namespace
}  // namespace rp
