// robustprior eval: a checkpoint's loss and accuracy on a dataset - by default the one it was
// trained on - and, with --adv, its accuracy under a PGD attack; printed and written as JSON.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "engine/adv/robust_eval.h"
#include "engine/core/amount.h"
#include "engine/core/error.h"
#include "engine/core/files.h"
#include "engine/core/rng_streams.h"
#include "engine/train/evaluate.h"
#include "engine/train/setup.h"
#include "tools/robustprior/commands.h"
#include "weights/checkpoint.h"

namespace rp::cli {
namespace {

struct EvalOptions {
  std::string checkpoint, dataset, data, split = "test", device = "cpu", json;
  std::int64_t batch_size = 256, subset = 0, threads = 0;
  // Robust evaluation.
  bool adv = false, random_start = false, no_best = false;
  std::string constraint = "inf", eps = "8/255", attack_lr;
  std::int64_t attack_steps = 20, restarts = 1;
  std::uint64_t seed = 0;
};

// The attack the flags describe; every value checked before any work.
AttackParams attack_from(const EvalOptions& o) {
  AttackParams p;
  p.norm = parse_threat_model(o.constraint);
  p.eps = parse_amount(o.eps, "eval: --eps");
  p.steps = o.attack_steps;
  RP_CHECK(p.steps >= 1, "eval", "--attack-steps must be >= 1, found " << p.steps);
  p.step = o.attack_lr.empty() ? default_step(p.eps, p.steps)
                               : parse_amount(o.attack_lr, "eval: --attack-lr");
  p.restarts = o.restarts;
  p.random_start = o.random_start || o.restarts > 1;
  p.use_best = !o.no_best;
  validate(p);
  return p;
}

void run_eval(const EvalOptions& o) {
  const Checkpoint ck = Checkpoint::open(o.checkpoint);
  // The checkpoint's own dataset settings, unless told otherwise.
  TrainConfig cfg = apply_json(TrainConfig{}, ck.info().config, o.checkpoint);
  if (!o.dataset.empty()) cfg.dataset = o.dataset;
  if (!o.data.empty()) cfg.data = o.data;
  cfg.device = o.device;
  cfg.threads = o.threads;
  cfg.train_subset = cfg.test_subset = o.subset;
  RP_CHECK(o.batch_size >= 1, "eval", "--batch-size must be >= 1, found " << o.batch_size);
  RP_CHECK(o.subset >= 0, "eval", "--subset must be >= 0 (0: all), found " << o.subset);
  const std::optional<AttackParams> attack = o.adv ? std::optional(attack_from(o)) : std::nullopt;
  const std::unique_ptr<Context> ctx = make_context(cfg);
  DatasetRequest request = dataset_request(cfg);
  request.train = o.split == "train";
  const DatasetSplits data = load_dataset(request);
  const Dataset& split = o.split == "train" ? data.train : data.test;
  check_dataset_fits(ck.info().spec, split, "eval");
  RP_CHECK(split.classes == ck.info().class_names, "eval",
           "the checkpoint's classes (" << nlohmann::json(ck.info().class_names).dump()
                                        << ") are not the dataset's ("
                                        << nlohmann::json(split.classes).dump() << ")");
  const std::unique_ptr<Network> net = ck.load_network(ctx->device());
  net->prepare(*ctx, o.batch_size);
  BatchLoader loader(to_device(split, ctx->device()),
                     LoaderOptions{o.batch_size, false, false, 4, true}, cfg.seed);
  nlohmann::json j = {{"checkpoint", o.checkpoint},
                      {"arch", ck.info().spec.arch},
                      {"dataset", split.name},
                      {"split", o.split}};
  if (!attack) {
    const EvalResult r = evaluate(*ctx, *net, loader);
    std::printf("%s on %s %s (%lld images): clean accuracy %.2f%%, loss %.4f\n",
                o.checkpoint.c_str(), split.name.c_str(), o.split.c_str(),
                static_cast<long long>(r.examples), 100 * r.accuracy, r.loss);
    j.update({{"examples", r.examples}, {"clean_accuracy", r.accuracy}, {"clean_loss", r.loss}});
  } else {
    PgdAttack pgd(*net, ctx->device(), o.batch_size);
    const RngStream rng{o.seed, rng_stream(RngPurpose::RandomStart, 0), 0};
    const RobustResult r = evaluate_robust(*ctx, *net, pgd, loader, *attack, rng);
    std::printf(
        "%s on %s %s (%lld images): clean accuracy %.2f%% (loss %.4f), robust accuracy "
        "%.2f%% (loss %.4f) under L%s eps %s PGD-%lld, step %.6g, %lld restart(s)\n",
        o.checkpoint.c_str(), split.name.c_str(), o.split.c_str(),
        static_cast<long long>(r.examples), 100 * r.clean_accuracy, r.clean_loss,
        100 * r.robust_accuracy, r.robust_loss, o.constraint.c_str(), o.eps.c_str(),
        static_cast<long long>(attack->steps), attack->step,
        static_cast<long long>(attack->restarts));
    j.update({{"examples", r.examples},
              {"clean_accuracy", r.clean_accuracy},
              {"clean_loss", r.clean_loss},
              {"robust_accuracy", r.robust_accuracy},
              {"robust_loss", r.robust_loss},
              {"attack",
               {{"constraint", o.constraint},
                {"eps", o.eps},
                {"eps_value", attack->eps},
                {"steps", attack->steps},
                {"step", attack->step},
                {"restarts", attack->restarts},
                {"random_start", attack->random_start},
                {"use_best", attack->use_best},
                {"seed", o.seed}}}});
  }
  const std::string out = o.json.empty() ? o.checkpoint + ".eval.json" : o.json;
  write_file_atomic(out, j.dump(2) + "\n");
  std::printf("results in %s\n", out.c_str());
}

}  // namespace

void add_eval_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("eval", "Evaluate a checkpoint: loss and accuracy");
  auto o = std::make_shared<EvalOptions>();
  cmd->add_option("--checkpoint", o->checkpoint, "checkpoint (.safetensors)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--dataset", o->dataset,
                  "cifar10, synthetic or folder (default: the checkpoint's)");
  cmd->add_option("--data", o->data, "dataset directory (default: the checkpoint's)");
  cmd->add_option("--split", o->split, "test or train")
      ->check(CLI::IsMember({"test", "train"}))
      ->capture_default_str();
  cmd->add_option("--subset", o->subset, "only the first N images (0: all)")->capture_default_str();
  cmd->add_option("--batch-size", o->batch_size, "evaluation batch size")->capture_default_str();
  cmd->add_option("--device", o->device, "cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_option("--threads", o->threads, "CPU threads (0: all)")->capture_default_str();
  cmd->add_option("--json", o->json, "where to write the results (default: CHECKPOINT.eval.json)");
  cmd->add_flag("--adv", o->adv, "Also attack every image (untargeted cross-entropy PGD)");
  cmd->add_option("--constraint", o->constraint, "threat model: 2 or inf")->capture_default_str();
  cmd->add_option("--eps", o->eps, "radius, e.g. 0.5 or 8/255")->capture_default_str();
  cmd->add_option("--attack-steps", o->attack_steps, "PGD steps")->capture_default_str();
  cmd->add_option("--attack-lr", o->attack_lr, "step size (default: 2.5 eps / steps)");
  cmd->add_option("--restarts", o->restarts,
                  "attacks per image from random starts; the worst counts")
      ->capture_default_str();
  cmd->add_flag("--random-start", o->random_start,
                "Start from a random point (always with restarts)");
  cmd->add_flag("--last-iterate", o->no_best, "Keep the last iterate, not each image's best");
  cmd->add_option("--seed", o->seed, "seed of the random starts")->capture_default_str();
  cmd->callback([o] { run_eval(*o); });
}

}  // namespace rp::cli
