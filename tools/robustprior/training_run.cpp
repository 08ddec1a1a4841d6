#include "tools/robustprior/training_run.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "engine/core/error.h"
#include "engine/core/files.h"
#include "engine/data/file_loader.h"
#include "engine/data/load.h"
#include "engine/data/loader.h"
#include "engine/nn/network.h"
#include "engine/train/metrics_log.h"
#include "engine/train/setup.h"
#include "engine/train/trainer.h"
#include "models/registry.h"
#include "tools/robustprior/profile_report.h"
#include "tools/robustprior/run_guard.h"

namespace rp::cli {
namespace {

// Keeps the metrics lines of epochs a checkpoint holds: after a crash between the checkpoint
// and the log (or the other way round) the resumed run neither repeats nor skips an epoch.
void trim_metrics(const std::string& path, std::int64_t epochs_done) {
  if (!std::filesystem::exists(path)) return;
  std::ifstream in(path);
  std::string kept, line;
  while (std::getline(in, line)) {
    try {
      if (nlohmann::json::parse(line).at("epoch").get<std::int64_t>() <= epochs_done)
        kept += line + "\n";
    } catch (const nlohmann::json::exception&) {
      // a torn last line from a crash: dropped
    }
  }
  write_file_atomic(path, kept);
}

}  // namespace

TrainingOutcome run_training(const TrainConfig& cfg, const std::optional<Checkpoint>& resume,
                             bool progress, bool replace, bool profile) {
  const std::string latest = cfg.out + "/latest.safetensors";
  // Everything that can fail on bad input happens before anything is written.
  const std::unique_ptr<Context> ctx = make_context(cfg);
  const std::unique_ptr<ProfileReport> report = profile_if(profile, *ctx);
  const DatasetSplits data = load_dataset(dataset_request(cfg));
  const NetworkSpec spec = network_spec(cfg, data.train);
  const std::unique_ptr<Network> net = make_network(spec, ctx->device(), cfg.seed);
  // The ImageNet kinds train from files, decoded and augmented per batch on the host.
  std::unique_ptr<BatchSource> train_batches;
  if (data.train_files.size() > 0) {
    FileLoaderOptions fo;
    fo.batch_size = cfg.batch_size;
    fo.augment = cfg.augment;
    fo.size = spec.image_h;
    train_batches = std::make_unique<FileBatchLoader>(data.train_files, fo, cfg.seed);
  } else {
    train_batches = std::make_unique<BatchLoader>(
        to_device(data.train, ctx->device()),
        LoaderOptions{cfg.batch_size, true, cfg.augment, 4, true}, cfg.seed);
  }
  Trainer trainer(*ctx, *net, cfg, std::move(train_batches), to_device(data.test, ctx->device()));
  if (resume) {
    check_dataset_fits(spec, data.test, "train --resume");
    resume->load_into(*net);
    resume->load_momentum(trainer.momentum());
    const CheckpointInfo& at = resume->info();
    // A run stopped mid-epoch continues at its next step: the checkpoint holds the steps taken.
    const std::int64_t batches = trainer.batches_per_epoch();
    const std::int64_t in_epoch = at.steps - at.epoch * batches;
    RP_CHECK(in_epoch >= 0 && in_epoch < batches, "train --resume",
             "the checkpoint holds " << at.steps << " steps after " << at.epoch
                                     << " epochs, which does not fit epochs of " << batches
                                     << " steps (was the batch size or the data changed?)");
    if (in_epoch != 0) {
      for (const char* key : {"batch-size", "train-subset", "synthetic-train", "synthetic-seed",
                              "synthetic-kind", "synthetic-colours", "dataset", "data"}) {
        RP_CHECK(!at.config.contains(key) || at.config.at(key) == to_json(cfg).at(key),
                 "train --resume",
                 "the run stopped in the middle of epoch "
                     << at.epoch + 1 << "; it can continue only with the same '" << key
                     << "' (the run used " << at.config.at(key).dump() << ")");
      }
    }
    trainer.state() = TrainState{at.epoch, at.steps, at.best_test_accuracy, in_epoch};
    if (resume->info().threads != 0 && resume->info().threads != ctx->threads()) {
      std::fprintf(stderr,
                   "note: resuming on %d CPU threads where the run used %lld: the result will "
                   "match an uninterrupted run to rounding, not bit for bit\n",
                   ctx->threads(), static_cast<long long>(resume->info().threads));
    }
  }

  // One writer per run directory, from here on.
  const RunLock lock(cfg.out);
  if (replace && !resume) {
    for (const char* f : {"latest.safetensors", "best.safetensors", "latest.safetensors.eval.json"})
      std::filesystem::remove(cfg.out + "/" + f);
  }
  write_file_atomic(cfg.out + "/config.json", to_json(cfg).dump(2) + "\n");
  const std::string metrics = cfg.out + "/metrics.jsonl";
  if (resume) {
    trim_metrics(metrics, resume->info().epoch);
  } else {
    std::filesystem::remove(metrics);  // a fresh run starts its own log
  }
  std::printf("%s: %lld training and %lld test images, %zu classes, %lldx%lld\n",
              data.train.name.c_str(),
              static_cast<long long>(data.train_files.size() > 0 ? data.train_files.size()
                                                                 : data.train.size()),
              static_cast<long long>(data.test.size()), data.train.classes.size(),
              static_cast<long long>(spec.image_h), static_cast<long long>(spec.image_w));
  std::printf(
      "%s width %g: %lld parameters on %s, %d CPU threads, seed %llu%s\n", spec.arch.c_str(),
      spec.width, static_cast<long long>(net->parameters().num_parameters()),
      ctx->device().str().c_str(), ctx->threads(), static_cast<unsigned long long>(cfg.seed),
      cfg.adv == "none" ? "" : (", adversarial training: " + cfg.adv).c_str());
  if (resume) {
    const std::int64_t in_epoch = trainer.state().epoch_steps_done;
    std::printf("resuming after epoch %lld of %lld", static_cast<long long>(resume->info().epoch),
                static_cast<long long>(cfg.epochs));
    if (in_epoch != 0) {
      std::printf(" and step %lld of %lld of the next", static_cast<long long>(in_epoch),
                  static_cast<long long>(trainer.batches_per_epoch()));
    }
    std::printf("\n");
  }
  MetricsLog log(metrics);
  CheckpointInfo info;
  info.spec = spec;
  info.dataset = data.train.name;
  info.class_names = data.train.classes;
  info.seed = cfg.seed;
  info.threads = ctx->threads();
  info.config = to_json(cfg);
  const auto record_state = [&] {
    info.epoch = trainer.state().epochs_done;
    info.steps = trainer.state().steps;
    info.best_test_accuracy = trainer.state().best_test_accuracy;
  };
  const StopSignals signals;
  const bool finished = trainer.run(
      [&](EpochMetrics& m, bool best) {
        record_state();
        // best before latest: a crash in between leaves latest one epoch behind, never best
        // behind latest's record of it.
        if (best) save_checkpoint(cfg.out + "/best.safetensors", *net, trainer.momentum(), info);
        save_checkpoint(latest, *net, trainer.momentum(), info);
        log.write(m.to_json());
      },
      progress, [] { return StopSignals::requested(); });
  if (!finished) {
    // Stopped from outside: the steps taken so far go into latest, from which --resume
    // continues exactly (best stays the best completed epoch).
    record_state();
    save_checkpoint(latest, *net, trainer.momentum(), info);
    std::fprintf(stderr,
                 "stopped by %s after %lld steps (epoch %lld, step %lld); %s holds them: "
                 "continue with robustprior train --resume --out %s\n",
                 StopSignals::signal_name(), static_cast<long long>(info.steps),
                 static_cast<long long>(info.epoch + 1),
                 static_cast<long long>(trainer.state().epoch_steps_done), latest.c_str(),
                 cfg.out.c_str());
    throw StoppedBySignal{StopSignals::signal_number()};
  }
  std::printf("best test accuracy %.2f%%; checkpoints, metrics.jsonl and config.json in %s\n",
              100 * trainer.state().best_test_accuracy, cfg.out.c_str());
  return {latest, cfg.out + "/best.safetensors", trainer.state().best_test_accuracy};
}

}  // namespace rp::cli
