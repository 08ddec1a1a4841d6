// The training loop: SGD with a learning-rate schedule over a BatchSource (loader.h,
// file_loader.h), clean evaluation after every epoch, a progress line, and a hook after each epoch
// (checkpoints and the metrics log live in the layers above).
//
// Each step: gather the batch on the device, (adversarial training) replace it by the attack's
// examples - found with BN in eval mode - forward in train mode, mean cross-entropy, backward
// to the parameters, one SGD step over the contiguous parameter buffer. Adversarial runs also
// attack a test subset after each epoch (metrics robust_test_loss / robust_test_acc). Per-step
// loss and accuracy stay on the device and are read only when the progress line is due or the
// epoch ends; a non-finite loss then stops the run naming the epoch and step.
//
// Everything random derives from (seed, epoch, position), and the state a run needs to
// continue - parameters, BN buffers, momentum, epochs done - is exactly what a checkpoint
// holds, so a resumed run ends bit-identical to an uninterrupted one on the CPU.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "engine/adv/pgd.h"
#include "engine/core/context.h"
#include "engine/data/batch_source.h"
#include "engine/data/loader.h"
#include "engine/nn/network.h"
#include "engine/train/config.h"
#include "engine/train/schedule.h"
#include "engine/train/train_step.h"

namespace rp {

struct EpochMetrics {
  std::int64_t epoch = 0;  // 1-based
  double lr = 0;           // at the epoch's last step
  double train_loss = 0, train_accuracy = 0;
  double test_loss = 0, test_accuracy = 0;
  double images_per_second = 0;                     // training images / training time
  double seconds = 0;                               // the whole epoch, evaluation included
  nlohmann::json extra = nlohmann::json::object();  // what hooks add (adversarial metrics)

  nlohmann::json to_json() const;
};

struct TrainState {
  std::int64_t epochs_done = 0;
  std::int64_t steps = 0;
  double best_test_accuracy = -1;
  // Steps of the next epoch already taken: a run stopped mid-epoch continues from there.
  // (A checkpoint records it as steps - epochs_done x batches per epoch.)
  std::int64_t epoch_steps_done = 0;
};

class Trainer {
 public:
  Trainer(Context& ctx, Network& net, const TrainConfig& cfg, DeviceDataset train,
          DeviceDataset test);
  // Training batches from any source (file_loader.h for the ImageNet kinds); the source's
  // batch size must be cfg.batch_size.
  Trainer(Context& ctx, Network& net, const TrainConfig& cfg, std::unique_ptr<BatchSource> train,
          DeviceDataset test);

  TrainState& state() { return state_; }
  // The mean loss of every step of the last epoch (a host copy; reads the device).
  std::vector<double> last_epoch_step_losses() const;
  const Tensor& momentum() const { return momentum_; }
  const LrSchedule& schedule() const { return schedule_; }
  BatchLoader& test_loader() { return test_loader_; }

  std::int64_t batches_per_epoch() const { return train_loader_->batches(); }

  using EpochHook = std::function<void(EpochMetrics& metrics, bool best)>;
  // Asked after every step; true stops the run there (state() then says where).
  using StopRequest = std::function<bool()>;
  // Trains from state() to cfg.epochs; false when `stop` ended it early.
  bool run(const EpochHook& after_epoch, bool progress = true, const StopRequest& stop = {});

 private:
  // The epoch from step state().epoch_steps_done on; nullopt when `stop` ended it early. An
  // epoch resumed mid-way reports the training loss and accuracy of the steps it ran.
  std::optional<EpochMetrics> train_epoch(std::int64_t epoch, bool progress,
                                          const StopRequest& stop);

  Context& ctx_;
  Network& net_;
  TrainConfig cfg_;
  LrSchedule schedule_;
  std::unique_ptr<BatchSource> train_loader_;
  BatchLoader test_loader_;
  TrainState state_;
  Tensor momentum_;
  std::unique_ptr<TrainStep> step_;  // after the config is validated
  Tensor x_, y_, step_stats_;        // planned once
  // Adversarial training: the attack on each batch, and the per-epoch robust evaluation.
  std::unique_ptr<PgdAttack> attack_;
  AttackParams train_attack_, eval_attack_;
  DeviceDataset robust_subset_;
};

}  // namespace rp
