// robustprior eval: a checkpoint's loss and accuracy on a dataset - by default the one it was
// trained on - printed and written as JSON.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "engine/core/error.h"
#include "engine/core/files.h"
#include "engine/train/evaluate.h"
#include "engine/train/setup.h"
#include "tools/robustprior/commands.h"
#include "weights/checkpoint.h"

namespace rp::cli {
namespace {

struct EvalOptions {
  std::string checkpoint, dataset, data, split = "test", device = "cpu", json;
  std::int64_t batch_size = 256, subset = 0, threads = 0;
};

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
  const std::unique_ptr<Context> ctx = make_context(cfg);
  const DatasetSplits data = load_dataset(dataset_request(cfg));
  const Dataset& split = o.split == "train" ? data.train : data.test;
  check_dataset_fits(ck.info().spec, split, "eval");
  const std::unique_ptr<Network> net = ck.load_network(ctx->device());
  net->prepare(*ctx, o.batch_size);
  BatchLoader loader(to_device(split, ctx->device()),
                     LoaderOptions{o.batch_size, false, false, 4, true}, cfg.seed);
  const EvalResult r = evaluate(*ctx, *net, loader);
  std::printf("%s on %s %s (%lld images): clean accuracy %.2f%%, loss %.4f\n", o.checkpoint.c_str(),
              split.name.c_str(), o.split.c_str(), static_cast<long long>(r.examples),
              100 * r.accuracy, r.loss);
  const nlohmann::json j = {{"checkpoint", o.checkpoint}, {"arch", ck.info().spec.arch},
                            {"dataset", split.name},      {"split", o.split},
                            {"examples", r.examples},     {"clean_accuracy", r.accuracy},
                            {"clean_loss", r.loss}};
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
  cmd->callback([o] { run_eval(*o); });
}

}  // namespace rp::cli
