// robustprior eval: a checkpoint's loss and accuracy on a dataset - by default the one it was
// trained on - and, with --adv, its accuracy under a PGD attack; printed and written as JSON.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "engine/adv/robust_eval.h"
#include "engine/core/error.h"
#include "engine/core/files.h"
#include "engine/core/rng_streams.h"
#include "engine/train/evaluate.h"
#include "tools/robustprior/checkpoint_session.h"
#include "tools/robustprior/commands.h"

namespace rp::cli {
namespace {

struct EvalOptions {
  SessionOptions session;
  AttackFlags attack;
  bool adv = false;
  std::int64_t batch_size = 256;
  std::uint64_t seed = 0;
  std::string json;
};

void run_eval(const EvalOptions& o) {
  RP_CHECK(o.batch_size >= 1 && o.batch_size <= 65536, "eval",
           "--batch-size must be in [1, 65536], found " << o.batch_size);
  // Everything the flags say is checked before the data is read.
  std::optional<AttackParams> attack;
  if (o.adv) attack = o.attack.params("eval");
  CheckpointSession s = open_session(o.session, "eval");
  Context& ctx = *s.ctx;
  s.net->prepare(ctx, o.batch_size);
  BatchLoader loader(to_device(s.split, ctx.device()),
                     LoaderOptions{o.batch_size, false, false, 4, true}, s.seed);
  const std::string& name = o.session.checkpoint;
  nlohmann::json j = {{"checkpoint", name},
                      {"arch", s.checkpoint->info().spec.arch},
                      {"dataset", s.split.name},
                      {"split", o.session.split}};
  // Wall time of the evaluation alone (data on the device, network prepared): it ends with the
  // one read of the results, so queued GPU work is included.
  const auto start = std::chrono::steady_clock::now();
  const auto seconds = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  if (!attack) {
    const EvalResult r = evaluate(ctx, *s.net, loader);
    const double t = seconds();
    std::printf("%s on %s %s (%lld images): clean accuracy %.2f%%, loss %.4f\n", name.c_str(),
                s.split.name.c_str(), o.session.split.c_str(), static_cast<long long>(r.examples),
                100 * r.accuracy, r.loss);
    j.update({{"examples", r.examples},
              {"clean_accuracy", r.accuracy},
              {"clean_loss", r.loss},
              {"seconds", t},
              {"images_per_s", static_cast<double>(r.examples) / t}});
  } else {
    PgdAttack pgd(*s.net, ctx.device(), o.batch_size);
    const RngStream rng{o.seed, rng_stream(RngPurpose::RandomStart, 0), 0};
    const RobustResult r = evaluate_robust(ctx, *s.net, pgd, loader, *attack, rng);
    const double t = seconds();
    std::printf(
        "%s on %s %s (%lld images): clean accuracy %.2f%% (loss %.4f), robust accuracy "
        "%.2f%% (loss %.4f) under L%s eps %s PGD-%lld, step %.6g, %lld restart(s)\n",
        name.c_str(), s.split.name.c_str(), o.session.split.c_str(),
        static_cast<long long>(r.examples), 100 * r.clean_accuracy, r.clean_loss,
        100 * r.robust_accuracy, r.robust_loss, o.attack.constraint.c_str(), o.attack.eps.c_str(),
        static_cast<long long>(attack->steps), attack->step,
        static_cast<long long>(attack->restarts));
    j.update({{"examples", r.examples},
              {"clean_accuracy", r.clean_accuracy},
              {"clean_loss", r.clean_loss},
              {"robust_accuracy", r.robust_accuracy},
              {"robust_loss", r.robust_loss},
              {"seconds", t},
              {"images_per_s", static_cast<double>(r.examples) / t},
              // Every restart's iterations, each a forward and an input-gradient backward.
              {"image_iterations_per_s",
               static_cast<double>(r.examples * attack->steps * attack->restarts) / t},
              {"attack",
               {{"constraint", o.attack.constraint},
                {"eps", o.attack.eps},
                {"eps_value", attack->eps},
                {"steps", attack->steps},
                {"step", attack->step},
                {"restarts", attack->restarts},
                {"random_start", attack->random_start},
                {"use_best", attack->use_best},
                {"seed", o.seed}}}});
  }
  const std::string out = o.json.empty() ? name + ".eval.json" : o.json;
  write_file_atomic(out, j.dump(2) + "\n");
  std::printf("results in %s\n", out.c_str());
}

}  // namespace

void add_eval_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "eval", "Evaluate a checkpoint: clean loss and accuracy, and with --adv robust accuracy");
  auto o = std::make_shared<EvalOptions>();
  o->session.add_to(cmd);
  cmd->add_option("--batch-size", o->batch_size, "evaluation batch size")->capture_default_str();
  cmd->add_option("--json", o->json, "where to write the results (default: CHECKPOINT.eval.json)");
  cmd->add_flag("--adv", o->adv, "Also attack every image (untargeted cross-entropy PGD)");
  o->attack.add_to(cmd);
  cmd->add_option("--seed", o->seed, "seed of the random starts")->capture_default_str();
  cmd->callback([o] { run_eval(*o); });
}

}  // namespace rp::cli
