#include "engine/train/trainer.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <utility>
#include <vector>

#include "engine/adv/robust_eval.h"
#include "engine/core/error.h"
#include "engine/core/profiler.h"
#include "engine/core/rng_streams.h"
#include "engine/train/evaluate.h"
#include "engine/train/progress.h"
#include "engine/train/setup.h"

namespace rp {
namespace {

double since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

std::vector<double> host_values(const Tensor& t) {
  if (t.dtype() == DType::F64) return t.to_vector<double>();
  const std::vector<float> f = t.to_vector<float>();
  return std::vector<double>(f.begin(), f.end());
}

std::int64_t eval_batch(const TrainConfig& c) {
  return c.eval_batch_size > 0 ? c.eval_batch_size : c.batch_size;
}

}  // namespace

nlohmann::json EpochMetrics::to_json() const {
  nlohmann::json j = {{"epoch", epoch},
                      {"lr", lr},
                      {"train_loss", train_loss},
                      {"train_acc", train_accuracy},
                      {"test_loss", test_loss},
                      {"test_acc", test_accuracy},
                      {"images_per_s", images_per_second},
                      {"seconds", seconds}};
  for (const auto& item : extra.items()) j[item.key()] = item.value();
  return j;
}

Trainer::Trainer(Context& ctx, Network& net, const TrainConfig& cfg, DeviceDataset train,
                 DeviceDataset test)
    : Trainer(ctx, net, cfg,
              std::make_unique<BatchLoader>(
                  std::move(train), LoaderOptions{cfg.batch_size, true, cfg.augment, 4, true},
                  cfg.seed),
              std::move(test)) {}

Trainer::Trainer(Context& ctx, Network& net, const TrainConfig& cfg,
                 std::unique_ptr<BatchSource> train, DeviceDataset test)
    : ctx_(ctx),
      net_(net),
      cfg_(cfg),
      schedule_{cfg.schedule, cfg.lr, cfg.epochs, cfg.lr_step, cfg.lr_gamma},
      train_loader_(std::move(train)),
      test_loader_(test, LoaderOptions{eval_batch(cfg), false, false, 4, true}, cfg.seed) {
  validate(cfg_);
  RP_CHECK(train_loader_ != nullptr && train_loader_->batch_size() == cfg.batch_size, "Trainer",
           "the training batches must come in the configured batch size " << cfg.batch_size);
  const NetworkSpec& s = net.spec();
  const Device dev = ctx.device();
  net_.prepare(ctx, std::max(cfg.batch_size, eval_batch(cfg)));
  const std::int64_t b = cfg.batch_size;
  momentum_ = Tensor::zeros(net.parameters().flat_params().shape(), s.dtype, dev);
  step_ = std::make_unique<TrainStep>(net_, dev, cfg.batch_size);
  x_ = Tensor::empty(Shape{b, s.channels, s.image_h, s.image_w}, s.dtype, dev);
  y_ = Tensor::empty(Shape{b}, DType::I32, dev);
  step_stats_ = Tensor::empty(Shape{train_loader_->batches(), 2}, s.dtype, dev);
  if (cfg_.adv != "none") {
    train_attack_ = training_attack(cfg_);
    eval_attack_ = robust_eval_attack(cfg_);
    attack_ = std::make_unique<PgdAttack>(net_, dev, net_.max_batch());
    const std::int64_t k = std::min(cfg_.robust_eval_subset, test.size());
    robust_subset_ = DeviceDataset{test.images.slice(0, k), test.labels.slice(0, k)};
  }
}

std::optional<EpochMetrics> Trainer::train_epoch(std::int64_t epoch, bool progress,
                                                 const StopRequest& stop) {
  const auto start = std::chrono::steady_clock::now();
  const std::int64_t batches = train_loader_->batches();
  const std::int64_t first = state_.epoch_steps_done;
  RP_CHECK(first >= 0 && first < batches, "train",
           "the run stopped at step " << first << " of epoch " << epoch + 1 << ", which has "
                                      << batches << " steps (another batch size or dataset?)");
  const SgdParams sgd{0, cfg_.momentum, cfg_.weight_decay, cfg_.nesterov};
  Progress bar("epoch " + std::to_string(epoch + 1) + "/" + std::to_string(cfg_.epochs), batches,
               progress);
  std::vector<std::int64_t> sizes;
  std::int64_t images = 0;
  double lr = 0;
  std::vector<double> step_lr;  // the schedule is known on the host: no device read needed
  // Reads the device-side step statistics of steps [first, steps); stops at a bad loss.
  auto summarize = [&](std::int64_t steps, double& loss, double& acc) {
    const std::vector<double> stats = host_values(step_stats_.slice(0, steps));
    double loss_sum = 0, correct = 0;
    std::int64_t seen = 0;
    for (std::int64_t i = first; i < steps; ++i) {
      const double l = stats[static_cast<std::size_t>(2 * i)];
      RP_CHECK(
          std::isfinite(l), "train",
          "the loss is " << l << " at epoch " << epoch + 1 << ", step " << i + 1 << " of "
                         << batches << " (the step before used learning rate "
                         << (i > first ? step_lr[static_cast<std::size_t>(i - first - 1)] : 0.0)
                         << "); stopping");
      const std::int64_t size = sizes[static_cast<std::size_t>(i - first)];
      loss_sum += l * static_cast<double>(size);
      correct += stats[static_cast<std::size_t>(2 * i + 1)];
      seen += size;
    }
    loss = loss_sum / static_cast<double>(seen);
    acc = correct / static_cast<double>(seen);
  };

  train_loader_->start_epoch(epoch);
  for (std::int64_t i = first; i < batches; ++i) {
    std::int64_t n = 0;
    {
      const ProfileScope phase(ctx_, ProfileKind::Phase, "data");
      n = train_loader_->load(ctx_, i, x_, y_);
    }
    sizes.push_back(n);
    images += n;
    const Tensor y = y_.slice(0, n);
    Tensor x = x_.slice(0, n);
    if (attack_) {
      // The stream of epoch e; a batch's draws start at its position in the epoch.
      CrossEntropyObjective objective(y, false);
      const auto image = static_cast<std::uint64_t>(x.numel() / n);
      const RngStream draw{cfg_.seed,
                           rng_stream(RngPurpose::RandomStart, static_cast<std::uint64_t>(epoch)),
                           static_cast<std::uint64_t>(i * cfg_.batch_size) * image};
      x = attack_->run(ctx_, x, objective, train_attack_, draw);
    }
    lr = schedule_.at(epoch, i, batches);
    step_lr.push_back(lr);
    SgdParams step = sgd;
    step.lr = lr;
    step_->run(ctx_, x, y, step, momentum_, step_stats_.slice(i, i + 1).reshape(Shape{2}));
    ++state_.steps;
    if (stop && i + 1 < batches && stop()) {
      state_.epoch_steps_done = i + 1;
      // The steps so far must be sound before a checkpoint keeps them.
      double loss = 0, acc = 0;
      summarize(i + 1, loss, acc);
      bar.finish("stopped after step " + std::to_string(i + 1) + " of " + std::to_string(batches));
      return std::nullopt;
    }
    if (bar.due()) {
      double loss = 0, acc = 0;
      summarize(i + 1, loss, acc);
      char status[64];
      std::snprintf(status, sizeof status, "loss %.4f acc %.2f%%", loss, 100 * acc);
      bar.update(i + 1, images, status);
    }
  }
  state_.epoch_steps_done = 0;
  EpochMetrics m;
  m.epoch = epoch + 1;
  m.lr = lr;
  summarize(batches, m.train_loss, m.train_accuracy);
  const double train_seconds = since(start);
  m.images_per_second = static_cast<double>(images) / train_seconds;
  const EvalResult test = evaluate(ctx_, net_, test_loader_);
  // The last step's update is only seen here: a diverged model evaluates to a non-finite loss.
  RP_CHECK(std::isfinite(test.loss), "train",
           "the test loss is " << test.loss << " after epoch " << epoch + 1
                               << ": the parameters became non-finite at its last step (learning "
                                  "rate "
                               << lr << "); stopping");
  m.test_loss = test.loss;
  m.test_accuracy = test.accuracy;
  if (attack_) {
    m.extra["adv"] = cfg_.adv;
    m.extra["adv_train_loss"] = m.train_loss;
    m.extra["adv_train_acc"] = m.train_accuracy;
    if (robust_subset_.size() > 0) {
      BatchLoader subset(robust_subset_, LoaderOptions{eval_batch(cfg_), false, false, 4, true},
                         cfg_.seed);
      // The same draws every epoch: the same question each time.
      const RngStream draw{cfg_.seed, rng_stream(RngPurpose::RandomStart, 1ull << 40), 0};
      const RobustResult r = evaluate_robust(ctx_, net_, *attack_, subset, eval_attack_, draw);
      m.extra["robust_test_loss"] = r.robust_loss;
      m.extra["robust_test_acc"] = r.robust_accuracy;
      m.extra["robust_eval_examples"] = r.examples;
    }
  }
  m.seconds = since(start);
  // The host has waited for the device above: a free moment to read the epoch's GPU timings.
  if (Profiler* profiler = ctx_.profiler()) profiler->collect(ctx_);
  char status[192];
  const int len = std::snprintf(status, sizeof status,
                                "%strain loss %.4f acc %.2f%%, test loss %.4f acc %.2f%%",
                                attack_ ? "adversarial " : "", m.train_loss, 100 * m.train_accuracy,
                                m.test_loss, 100 * m.test_accuracy);
  if (m.extra.contains("robust_test_acc") && len > 0 && len < static_cast<int>(sizeof status)) {
    std::snprintf(status + len, sizeof status - static_cast<std::size_t>(len),
                  ", robust acc %.2f%%", 100 * m.extra["robust_test_acc"].get<double>());
  }
  bar.finish(status);
  return m;
}

std::vector<double> Trainer::last_epoch_step_losses() const {
  const std::vector<double> stats = host_values(step_stats_);
  std::vector<double> losses;
  for (std::size_t i = 0; i < stats.size(); i += 2) losses.push_back(stats[i]);
  return losses;
}

bool Trainer::run(const EpochHook& after_epoch, bool progress, const StopRequest& stop) {
  const auto start = std::chrono::steady_clock::now();
  const std::int64_t first = state_.epochs_done;
  for (std::int64_t epoch = first; epoch < cfg_.epochs; ++epoch) {
    std::optional<EpochMetrics> done = train_epoch(epoch, progress, stop);
    if (!done) return false;
    EpochMetrics& m = *done;
    if (progress && epoch + 1 < cfg_.epochs) {
      const double per_epoch = since(start) / static_cast<double>(epoch + 1 - first);
      std::fprintf(
          stderr, "run: %lld/%lld epochs, ETA %s\n", static_cast<long long>(epoch + 1),
          static_cast<long long>(cfg_.epochs),
          Progress::format_seconds(per_epoch * static_cast<double>(cfg_.epochs - epoch - 1))
              .c_str());
    }
    state_.epochs_done = epoch + 1;
    const bool best = m.test_accuracy > state_.best_test_accuracy;
    if (best) state_.best_test_accuracy = m.test_accuracy;
    if (after_epoch) after_epoch(m, best);
    if (stop && epoch + 1 < cfg_.epochs && stop()) return false;
  }
  return true;
}

}  // namespace rp
