#include "tools/robustprior/demo_plan.h"

#include <algorithm>

#include "engine/core/error.h"

namespace rp::cli {

DemoData parse_demo_data(const std::string& text) {
  if (text == "synthetic") return {};
  const std::size_t colon = text.find(':');
  const std::string kind = text.substr(0, colon);
  RP_CHECK(colon != std::string::npos && (kind == "cifar10" || kind == "folder") &&
               colon + 1 < text.size(),
           "demo", "--data: expected synthetic, cifar10:DIR or folder:DIR, found '" << text << "'");
  return {kind, text.substr(colon + 1)};
}

DemoPlan demo_plan(const std::string& size, const DemoData& data, const std::string& out_dir,
                   std::uint64_t seed, const std::string& device, std::int64_t threads) {
  RP_CHECK(size == "tiny" || size == "cpu" || size == "gpu", "demo",
           "--size must be tiny, cpu or gpu, found '" << size << "'");
  DemoPlan p;
  p.size = size;
  const bool real_images = data.kind != "synthetic";  // cifar10 or folder
  TrainConfig base;
  base.dataset = data.kind;
  base.data = data.dir;
  base.seed = seed;
  base.device = device;
  base.threads = threads;
  base.schedule = "onecycle";
  base.robust_eval_subset = 0;
  if (size == "gpu") {
    // The paper's setting: a full ResNet-18, robust at L2 eps 0.5.
    base.width = 1.0;
    base.synthetic_train = 20000;
    base.synthetic_test = 2000;
    base.epochs = 30;
    base.batch_size = 128;
    base.lr = 0.1;
  } else if (size == "cpu") {
    // A ResNet-18 at 1/16 width (44,622 parameters) learns the synthetic classes in seconds.
    // On real images it needs more of them, and a larger robust radius (below), for the
    // robust prior to show at this size (bench/RESULTS.md).
    base.width = 0.0625;
    base.synthetic_train = 3000;
    base.synthetic_test = 500;
    base.train_subset = real_images ? 20000 : 0;
    base.test_subset = real_images ? 1000 : 0;
    base.epochs = 8;
    base.batch_size = 64;
    base.lr = 0.1;
  } else {
    base.width = 0.0625;
    base.synthetic_train = 600;
    base.synthetic_test = 100;
    base.train_subset = real_images ? 600 : 0;
    base.test_subset = real_images ? 100 : 0;
    base.epochs = 2;
    base.batch_size = 64;
    base.lr = 0.1;
  }
  p.standard = base;
  p.standard.out = out_dir + "/models/standard";
  p.robust = base;
  p.robust.out = out_dir + "/models/robust";
  p.robust.adv = "pgd";
  p.robust.constraint = "2";
  // The paper's CIFAR model is robust at L2 eps 0.5. A 1/16-width model trained for minutes
  // on 20,000 CIFAR-10 images needs the authors' larger radius, 1.0, for its inversions to come
  // clearly closer to their targets than the standard model's: pixel L2 ratio 0.70 against
  // 0.76-0.81 at 0.5 (two seeds each, bench/RESULTS.md).
  p.robust.eps = Amount{size == "cpu" && real_images ? "1.0" : "0.5"};
  p.robust.attack_steps = size == "gpu" ? 7 : 3;
  // Robust training at 1/16 width on the synthetic data is chaotic over 8 epochs: the PGD
  // attack inside each step magnifies rounding, and seeds (or builds) ended anywhere from 62% to
  // 89% clean. Over 16 epochs four seeds ended at 93-100% (bench/RESULTS.md), for about 30 s
  // more. On 20,000 real images 8 epochs take as many steps as 16 would on 10,000.
  if (size == "cpu" && !real_images) p.robust.epochs = 16;
  p.robust.robust_eval_subset = size == "tiny" ? 0 : 200;

  // Iterations: the authors' where affordable; their step sizes and radii throughout.
  const bool gpu = size == "gpu", tiny = size == "tiny";
  p.inversion.attack.steps = gpu ? 10000 : tiny ? 20 : 1500;
  p.interpolation.attack.steps = gpu ? 10000 : tiny ? 20 : 1500;
  p.visualization.attack.steps = tiny ? 20 : 200;
  p.maximizing.attack.steps = tiny ? 20 : 1500;
  p.manipulation.attack.steps = tiny ? 20 : 800;
  if (tiny) {
    p.inversion_targets = 4;
    p.interpolation_pairs = 1;
    p.interpolation.frames = 4;
    p.visualization_images = 1;
    p.visualization_noise = 1;
    p.visualization_coordinates = 2;
    p.maximizing_coordinates = 1;
    p.maximizing.top = 3;
    p.manipulation_images = 4;
    p.feature_sources = 5;
    p.robust_eval_images = 50;
  }
  return p;
}

void cap_iterations(DemoPlan& plan, std::int64_t most) {
  RP_CHECK(most >= 1, "demo", "--max-iterations must be >= 1, found " << most);
  for (AttackParams* a :
       {&plan.inversion.attack, &plan.interpolation.attack, &plan.visualization.attack,
        &plan.maximizing.attack, &plan.manipulation.attack}) {
    a->steps = std::min(a->steps, most);
  }
}

}  // namespace rp::cli
