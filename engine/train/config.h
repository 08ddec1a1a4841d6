// TrainConfig: every setting of a training run. One table (for_each_field) names each field
// once with its key and help, and drives the JSON config file, the CLI flags and the copy
// stored in checkpoints - so the three can never disagree. Keys are the flag names.
//
// Defaults are the robustness library's CIFAR recipe: SGD lr 0.1, momentum 0.9, weight decay
// 5e-4, batch 128, 150 epochs, lr x 0.1 every 50 epochs, random crop + flip.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/core/amount.h"

namespace rp {

struct TrainConfig {
  std::string arch = "resnet18";
  double width = 1.0;
  std::string dataset = "synthetic";  // cifar10, synthetic, folder, imagenet, restricted_imagenet
  std::string data;                   // directory (all but synthetic)
  std::int64_t synthetic_train = 5000;
  std::int64_t synthetic_test = 1000;
  std::uint64_t synthetic_seed = 0;          // the dataset's own seed, fixed across runs
  std::string synthetic_kind = "objects";    // objects or scenes (engine/data/synthetic.h)
  std::string synthetic_colours = "random";  // random or class (engine/data/synthetic.h)
  std::int64_t train_subset = 0;             // 0: the whole split
  std::int64_t test_subset = 0;
  std::int64_t epochs = 150;
  std::int64_t batch_size = 128;
  std::int64_t eval_batch_size = 0;  // 0: batch_size
  double lr = 0.1;
  double momentum = 0.9;
  double weight_decay = 5e-4;
  bool nesterov = false;
  std::string schedule = "step";  // step, onecycle, cosine
  std::int64_t lr_step = 50;      // step: epochs between decays
  double lr_gamma = 0.1;          // step: decay factor
  bool augment = true;
  // Adversarial training: none, pgd (the robustness library's PGD-k) or fgsm-rs (FGSM with a
  // uniform random start, fast_adversarial's).
  std::string adv = "none";
  std::string constraint = "inf";  // 2 or inf
  Amount eps{"8/255"};
  Amount attack_lr{""};           // empty: 2.5 eps / steps for pgd, 1.25 eps for fgsm-rs
  std::int64_t attack_steps = 7;  // pgd (fgsm-rs takes one step)
  bool random_start = false;      // pgd (fgsm-rs always starts at random)
  bool use_best = true;           // pgd: keep each example's best iterate (the library's default)
  std::int64_t robust_eval_subset = 500;  // test images attacked after each epoch (0: none)
  std::int64_t robust_eval_steps = 10;
  std::uint64_t seed = 0;
  std::string device = "cpu";
  std::int64_t threads = 0;  // CPU threads; 0: all
  bool tf32 = false;         // ContextOptions::tf32
  std::string out = "out/train";
};

// The help of every --tf32 flag (this config's and the other commands').
inline constexpr const char* kTf32Help =
    "allow TF32 tensor-core convolutions on the GPU (faster, ~1e-3 relative error)";

// f(key, field, help) for every field, in a fixed order.
template <typename Config, typename F>
void for_each_field(Config& c, F&& f) {
  f("arch", c.arch,
    "architecture: resnet18, resnet34, resnet50, preact_resnet18, imagenet_resnet18, "
    "imagenet_resnet50, wide_resnet28_10 or wide_resnet34_10");
  f("width", c.width, "channel width multiplier (1 = 64..512 channels)");
  f("dataset", c.dataset, "cifar10, synthetic, folder, imagenet or restricted_imagenet");
  f("data", c.data,
    "dataset directory (cifar10: the binary batches; folder: train/ and test/; imagenet, "
    "restricted_imagenet: train/<wnid>/ and val/<wnid>/)");
  f("synthetic-train", c.synthetic_train, "synthetic dataset: training images");
  f("synthetic-test", c.synthetic_test, "synthetic dataset: test images");
  f("synthetic-seed", c.synthetic_seed, "synthetic dataset: its generator's seed");
  f("synthetic-kind", c.synthetic_kind,
    "synthetic dataset: objects (one shape or texture per class) or scenes (sky, ground, "
    "horizon and object, each a weak class cue)");
  f("synthetic-colours", c.synthetic_colours,
    "synthetic objects: random (each image its own) or class (each class its own, jittered)");
  f("train-subset", c.train_subset,
    "use only the first N training images (0: all; the imagenet kinds: N class-balanced)");
  f("test-subset", c.test_subset,
    "use only the first N test images (0: all; the imagenet kinds: N class-balanced)");
  f("epochs", c.epochs, "epochs to train");
  f("batch-size", c.batch_size, "training batch size");
  f("eval-batch-size", c.eval_batch_size, "evaluation batch size (0: the training batch size)");
  f("lr", c.lr, "base learning rate (the peak for onecycle)");
  f("momentum", c.momentum, "SGD momentum");
  f("weight-decay", c.weight_decay, "SGD weight decay");
  f("nesterov", c.nesterov, "Nesterov momentum");
  f("schedule", c.schedule, "learning-rate schedule: step, onecycle, cosine");
  f("lr-step", c.lr_step, "step schedule: epochs between decays");
  f("lr-gamma", c.lr_gamma, "step schedule: decay factor");
  f("augment", c.augment,
    "random crop (padding 4) and horizontal flip; the imagenet kinds: RandomResizedCrop(224) "
    "and flip");
  f("adv", c.adv, "adversarial training: none, pgd or fgsm-rs");
  f("constraint", c.constraint, "threat model of the training attack: 2 or inf");
  f("eps", c.eps, "radius of the threat model, e.g. 0.5 or 8/255");
  f("attack-lr", c.attack_lr,
    "attack step size (default: 2.5 eps/steps for pgd, 1.25 eps for fgsm-rs)");
  f("attack-steps", c.attack_steps, "pgd: attack steps (fgsm-rs always takes one)");
  f("random-start", c.random_start, "pgd: start from a random point of the ball");
  f("use-best", c.use_best, "pgd: keep each example's best iterate, not the last");
  f("robust-eval-subset", c.robust_eval_subset, "test images attacked after each epoch (0: none)");
  f("robust-eval-steps", c.robust_eval_steps, "PGD steps of that evaluation (step 2.5 eps/steps)");
  f("seed", c.seed, "seed of every random draw: initialization, order, augmentation");
  f("device", c.device, "cpu, cuda or cuda:N");
  f("threads", c.threads, "CPU threads (0: all)");
  f("tf32", c.tf32, kTf32Help);
  f("out", c.out, "output directory: checkpoints, metrics.jsonl, config.json");
}

nlohmann::json to_json(const TrainConfig& c);
// `base` with the keys of `j` applied; unknown keys and wrong types are errors naming `source`.
TrainConfig apply_json(TrainConfig base, const nlohmann::json& j, const std::string& source);
TrainConfig load_config_file(const std::string& path, TrainConfig base = {});
// Throws rp::Error naming the key of the first bad value.
void validate(const TrainConfig& c);

}  // namespace rp
