// Training: schedules, configs, learning the synthetic dataset, resuming bit-exactly after an
// interruption, and stopping on a non-finite loss.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "engine/core/cuda_runtime.h"
#include "engine/core/error.h"
#include "engine/core/files.h"
#include "engine/data/synthetic.h"
#include "engine/train/config.h"
#include "engine/train/evaluate.h"
#include "engine/train/schedule.h"
#include "engine/train/setup.h"
#include "engine/train/trainer.h"
#include "models/registry.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_support.h"
#include "weights/checkpoint.h"

namespace rp {
namespace {

TEST(LrSchedule, StepOneCycleAndCosine) {
  const LrSchedule step{"step", 0.1, 150, 50, 0.1};
  EXPECT_DOUBLE_EQ(step.at(0, 0, 10), 0.1);
  EXPECT_DOUBLE_EQ(step.at(49, 9, 10), 0.1);
  EXPECT_DOUBLE_EQ(step.at(50, 0, 10), 0.1 * 0.1);
  EXPECT_NEAR(step.at(149, 9, 10), 0.1 * 0.01, 1e-15);
  // fast_adversarial: np.interp([t], [0, 6, 15], [0, 0.2, 0]) with t = epoch + (i + 1) / iters.
  const LrSchedule cycle{"onecycle", 0.2, 15, 0, 0};
  EXPECT_NEAR(cycle.at(0, 0, 4), 0.2 * 0.25 / 6, 1e-15);
  EXPECT_NEAR(cycle.at(5, 3, 4), 0.2, 1e-15);  // t = 6: the peak
  EXPECT_NEAR(cycle.at(10, 1, 4), 0.2 * (15 - 10.5) / 9, 1e-15);
  EXPECT_NEAR(cycle.at(14, 3, 4), 0.0, 1e-15);
  const LrSchedule cosine{"cosine", 0.1, 10, 0, 0};
  EXPECT_NEAR(cosine.at(4, 9, 10), 0.05, 1e-12);  // halfway
  EXPECT_NEAR(cosine.at(9, 9, 10), 0.0, 1e-15);
  const LrSchedule bad{"linear", 0.1, 10, 1, 0.1};
  EXPECT_THROW(bad.at(0, 0, 1), Error);
}

TEST(TrainConfig, JsonRoundTripUnknownKeysAndTypes) {
  TrainConfig c;
  c.arch = "resnet50";
  c.lr = 0.05;
  c.nesterov = true;
  c.seed = 12345678901ull;
  const TrainConfig back = apply_json(TrainConfig{}, to_json(c), "test");
  EXPECT_EQ(to_json(back), to_json(c));
  EXPECT_EQ(to_json(c).at("batch-size"), 128);  // keys are the flag names
  try {
    apply_json(TrainConfig{}, nlohmann::json{{"batchsize", 64}}, "run.json");
    FAIL() << "expected rp::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("run.json: unknown key 'batchsize'"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("batch-size"), std::string::npos);  // lists the keys
  }
  try {
    apply_json(TrainConfig{}, nlohmann::json{{"epochs", "ten"}}, "run.json");
    FAIL() << "expected rp::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'epochs' must be an integer"), std::string::npos);
  }
  EXPECT_THROW(apply_json(TrainConfig{}, nlohmann::json{{"lr", true}}, "x"), Error);
  EXPECT_THROW(apply_json(TrainConfig{}, nlohmann::json::array(), "x"), Error);
}

// Config files from elsewhere: nesting, size and file kind bounded before anything is parsed,
// and offending values quoted short.
TEST(TrainConfig, HostileFilesAreRefused) {
  test::TempDir dir;
  const auto refusal = [&](const std::string& name, const std::string& text) -> std::string {
    const std::string path = dir.file(name);
    if (!text.empty()) write_file_atomic(path, text);
    try {
      load_config_file(text.empty() ? name : path);
    } catch (const Error& e) {
      return e.what();
    }
    return "accepted";
  };
  const std::string nested =
      "{\"lr\":" + std::string(100'000, '[') + std::string(100'000, ']') + "}";
  EXPECT_NE(refusal("nested.json", nested).find("nested 100001 levels"), std::string::npos);
  const std::string huge = "{\"data\":\"" + std::string(2'000'000, 'x') + "\"}";
  EXPECT_NE(refusal("huge.json", huge).find("more than the 1048576"), std::string::npos);
  EXPECT_NE(refusal("/dev/zero", "").find("not a regular file"), std::string::npos);
  const std::string e = refusal(
      "list.json", "{\"epochs\":" + std::string(5000, '[') + "1" + std::string(5000, ']') + "}");
  EXPECT_NE(e.find("nested"), std::string::npos) << e.substr(0, 200);
  const std::string wrong = refusal("wrong.json", "{\"seed\":\"" + std::string(5000, 'y') + "\"}");
  EXPECT_NE(wrong.find("characters)"), std::string::npos) << wrong.substr(0, 300);
  EXPECT_LT(wrong.size(), 400u);
}

TEST(TrainConfig, ValidationNamesTheKey) {
  const std::pair<const char*, nlohmann::json> bad[] = {{"epochs", 0},
                                                        {"batch-size", -1},
                                                        {"lr", -0.1},
                                                        {"momentum", 1.0},
                                                        {"schedule", "linear"},
                                                        {"dataset", "mnist"},
                                                        {"width", 0.0},
                                                        {"device", "tpu"},
                                                        {"lr-gamma", 2.0},
                                                        {"weight-decay", -1.0},
                                                        {"synthetic-colours", "pastel"},
                                                        {"synthetic-kind", "forest"}};
  for (const auto& [key, value] : bad) {
    const TrainConfig c = apply_json(TrainConfig{}, nlohmann::json{{key, value}}, "x");
    try {
      validate(c);
      ADD_FAILURE() << key << " = " << value << " accepted";
    } catch (const Error& e) {
      if (std::string(key) != "device") {
        EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
      }
    }
  }
  TrainConfig cifar;
  cifar.dataset = "cifar10";
  EXPECT_THROW(validate(cifar), Error);  // needs --data
  TrainConfig nesterov;
  nesterov.nesterov = true;
  nesterov.momentum = 0;
  EXPECT_THROW(validate(nesterov), Error);
}

TrainConfig tiny_config() {
  TrainConfig c;
  c.width = 1.0 / 16;
  c.batch_size = 64;
  c.schedule = "onecycle";
  c.lr = 0.1;
  c.threads = 2;
  return c;
}

struct TrainingRun {
  DatasetSplits data;
  NetworkSpec spec;
  std::unique_ptr<Context> ctx;
  std::unique_ptr<Network> net;
  std::unique_ptr<Trainer> trainer;

  explicit TrainingRun(const TrainConfig& c) : data(load_dataset(dataset_request(c))) {
    spec = network_spec(c, data.train);
    ctx = make_context(c);
    net = make_network(spec, ctx->device(), c.seed);
    trainer = std::make_unique<Trainer>(*ctx, *net, c, to_device(data.train, ctx->device()),
                                        to_device(data.test, ctx->device()));
  }
};

// A tiny ResNet-18 (width 1/16, 44,622 parameters) learns the synthetic dataset. Measured on
// a 2-core CPU: 99.0% test accuracy after 6 epochs of 3,000 images, about 10 s.
TEST(Training, TinyResNetLearnsTheSyntheticDataset) {
  TrainConfig c = tiny_config();
  c.synthetic_train = 3000;
  c.synthetic_test = 500;
  c.epochs = 6;
  TrainingRun run(c);
  std::vector<double> acc;
  run.trainer->run([&](EpochMetrics& m, bool) { acc.push_back(m.test_accuracy); }, false);
  ASSERT_EQ(acc.size(), 6u);
  EXPECT_GE(acc.back(), 0.90) << "test accuracy after 6 epochs";
  EXPECT_GT(acc.back(), acc.front());
  EXPECT_EQ(run.trainer->state().epochs_done, 6);
  EXPECT_EQ(run.trainer->state().steps, 6 * 47);
  EXPECT_EQ(run.net->parameters().batches_tracked, 6 * 47);
  // evaluate() agrees with the last epoch's report.
  BatchLoader loader(to_device(run.data.test, Device::cpu()),
                     LoaderOptions{64, false, false, 4, true}, 0);
  EXPECT_NEAR(evaluate(*run.ctx, *run.net, loader).accuracy, acc.back(), 1e-12);
}

struct Interrupted {};

// Stopped after epoch 2 and resumed from the checkpoint, a run ends bit-identical to one that
// ran straight through (onecycle: the schedule depends on the total number of epochs too).
TEST(Training, ResumeIsBitExact) {
  test::TempDir dir;
  TrainConfig c = tiny_config();
  c.synthetic_train = 300;
  c.synthetic_test = 100;
  c.epochs = 4;
  c.seed = 17;
  TrainingRun straight(c);
  straight.trainer->run(nullptr, false);

  const std::string path = dir.file("latest.safetensors");
  {
    TrainingRun first(c);
    CheckpointInfo info;
    info.spec = first.spec;
    info.class_names = first.data.train.classes;
    info.config = to_json(c);
    EXPECT_THROW(first.trainer->run(
                     [&](EpochMetrics&, bool) {
                       info.epoch = first.trainer->state().epochs_done;
                       info.steps = first.trainer->state().steps;
                       info.best_test_accuracy = first.trainer->state().best_test_accuracy;
                       save_checkpoint(path, *first.net, first.trainer->momentum(), info);
                       if (info.epoch == 2) throw Interrupted{};
                     },
                     false),
                 Interrupted);
  }
  TrainingRun resumed(c);
  const Checkpoint ck = Checkpoint::open(path);
  ck.load_into(*resumed.net);
  ck.load_momentum(resumed.trainer->momentum());
  resumed.trainer->state() =
      TrainState{ck.info().epoch, ck.info().steps, ck.info().best_test_accuracy};
  resumed.trainer->run(nullptr, false);

  test::expect_equal_exact(resumed.net->parameters().flat_params(),
                           straight.net->parameters().flat_params(), "parameters");
  test::expect_equal_exact(resumed.net->parameters().flat_buffers(),
                           straight.net->parameters().flat_buffers(), "BN buffers");
  test::expect_equal_exact(resumed.trainer->momentum(), straight.trainer->momentum(), "momentum");
  EXPECT_EQ(resumed.trainer->state().steps, straight.trainer->state().steps);
}

std::string run_error(const TrainConfig& c) {
  TrainingRun run(c);
  try {
    run.trainer->run(nullptr, false);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

// lr 1e300 turns every parameter infinite in the first update, so step 2's loss is the first
// non-finite one.
TEST(Training, ANonFiniteLossStopsTheRunNamingTheStep) {
  TrainConfig c = tiny_config();
  c.synthetic_train = 256;
  c.synthetic_test = 64;
  c.epochs = 1;
  c.schedule = "step";
  c.lr = 1e300;
  const std::string what = run_error(c);
  EXPECT_NE(what.find("at epoch 1, step 2 of 4"), std::string::npos) << what;
  EXPECT_NE(what.find("learning rate 1e+300"), std::string::npos) << what;
}

// One step per epoch: the loss is computed before the update that breaks the model, so only
// the evaluation after the epoch can see it.
TEST(Training, DivergenceAtAnEpochsLastStepIsCaughtToo) {
  TrainConfig c = tiny_config();
  c.synthetic_train = 64;
  c.synthetic_test = 64;
  c.epochs = 1;
  c.schedule = "step";
  c.lr = 1e300;
  const std::string what = run_error(c);
  EXPECT_NE(what.find("the test loss is"), std::string::npos) << what;
  EXPECT_NE(what.find("after epoch 1"), std::string::npos) << what;
}

// The same run on the GPU and on the CPU: the per-step losses of the first steps agree.
TEST(Training, CudaAndCpuGiveTheSameLossCurve) {
  RP_SKIP_WITHOUT_GPU();
  TrainConfig c = tiny_config();
  c.synthetic_train = 320;  // 5 steps of 64
  c.synthetic_test = 64;
  c.epochs = 1;
  c.augment = false;
  TrainingRun cpu(c);
  cpu.trainer->run(nullptr, false);
  c.device = "cuda";
  TrainingRun gpu(c);
  gpu.trainer->run(nullptr, false);
  const std::vector<double> a = cpu.trainer->last_epoch_step_losses();
  const std::vector<double> b = gpu.trainer->last_epoch_step_losses();
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_NEAR(b[i], a[i], 1e-3 * std::abs(a[i])) << "step " << i + 1;
  }
}

TEST(Training, MetricsCarryEveryField) {
  EpochMetrics m;
  m.epoch = 3;
  m.extra["adv_train_acc"] = 0.5;
  const nlohmann::json j = m.to_json();
  for (const char* key : {"epoch", "lr", "train_loss", "train_acc", "test_loss", "test_acc",
                          "images_per_s", "seconds", "adv_train_acc"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
}

}  // namespace
}  // namespace rp
