// The benchmark workloads on a tiny network on the CPU: each runs, times the runs it was asked
// for, reports the throughput its definition says, allocates nothing while timed (it runs
// frozen), and profiles into the phases it is made of; bad options are refused before work.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/bench/workloads.h"
#include "engine/core/error.h"
#include "models/registry.h"
#include "tests/support/test_support.h"

namespace rp {
namespace {

std::unique_ptr<Network> tiny_network() {
  NetworkSpec s;
  s.arch = "resnet18";
  s.width = 1.0 / 16;
  return make_network(s, Device::cpu(), 3);
}

bool has_row(const Profiler& p, ProfileKind kind, const std::string& name) {
  for (const Profiler::Row& r : p.rows(kind)) {
    if (r.name == name && r.calls > 0) return true;
  }
  return false;
}

TEST(Bench, EveryWorkloadRunsAndReportsItsThroughput) {
  for (const std::string& w : bench_workloads()) {
    auto net = tiny_network();
    BenchOptions o;
    o.workload = w;
    o.batch = 4;
    o.warmup = 1;
    o.iters = 2;
    o.repeats = 3;
    o.attack_steps = (w == "pgd-eval" || w == "pgd-train-step") ? 2 : 0;
    Profiler profiler;
    const BenchResult r = run_benchmark(test::cpu_context(), *net, o, &profiler);
    EXPECT_EQ(r.workload, w);
    EXPECT_EQ(r.batch, 4);
    ASSERT_EQ(r.repeat_seconds.size(), 3u) << w;
    for (double t : r.repeat_seconds) EXPECT_GT(t, 0.0) << w;
    EXPECT_NEAR(r.images_per_s * r.seconds_per_iter, 4.0, 1e-9) << w;
    const bool attack = w == "pgd-eval" || w == "pgd-train-step" || w == "fgsm-rs-step";
    EXPECT_EQ(r.attack_steps.has_value(), attack) << w;
    if (attack) {
      const std::int64_t k = w == "fgsm-rs-step" ? 1 : 2;
      EXPECT_EQ(*r.attack_steps, k) << w;
      ASSERT_TRUE(r.image_iterations_per_s.has_value()) << w;
      EXPECT_NEAR(*r.image_iterations_per_s, r.images_per_s * static_cast<double>(k),
                  1e-6 * r.images_per_s)
          << w;
    }
    EXPECT_EQ(r.image_iterations_per_s.has_value(), attack || w == "invert-iter") << w;
    // The profile holds the workload's phases and the ops under them.
    const bool trains = w == "train-step" || w == "pgd-train-step" || w == "fgsm-rs-step";
    EXPECT_EQ(has_row(profiler, ProfileKind::Phase, "optimizer"), trains) << w;
    EXPECT_EQ(has_row(profiler, ProfileKind::Phase, "attack update"), w != "train-step") << w;
    EXPECT_TRUE(has_row(profiler, ProfileKind::Op, "conv2d_forward")) << w;
    EXPECT_TRUE(has_row(profiler, ProfileKind::Layer, "layer4.1")) << w;
    EXPECT_EQ(profiler.untimed(), 0);
    EXPECT_EQ(test::cpu_context().profiler(), nullptr) << "detached after the runs";
    EXPECT_FALSE(test::cpu_context().allocations_frozen()) << "unfrozen after the runs";
  }
}

TEST(Bench, DefaultsFollowTheWorkload) {
  BenchOptions o;
  o.workload = "invert-iter";
  EXPECT_EQ(resolve(o).batch, 10);
  o.workload = "pgd-eval";
  EXPECT_EQ(resolve(o).batch, 128);
  EXPECT_EQ(resolve(o).attack_steps, 20);
  o.workload = "pgd-train-step";
  EXPECT_EQ(resolve(o).attack_steps, 7);
}

TEST(Bench, BadOptionsAreRefusedBeforeWork) {
  const auto refused = [](BenchOptions o, const std::string& text) {
    try {
      resolve(o);
      ADD_FAILURE() << "accepted; expected: " << text;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
    }
  };
  BenchOptions o;
  o.workload = "train";
  refused(o, "unknown workload 'train'");
  o = BenchOptions{};
  o.batch = -1;
  refused(o, "batch must be in [1, 4096]");
  o = BenchOptions{};
  o.iters = 0;
  refused(o, "iters must be >= 1");
  o = BenchOptions{};
  o.repeats = 0;
  refused(o, "repeats must be >= 1");
  o = BenchOptions{};
  o.attack_steps = 3;  // train-step has no attack
  refused(o, "--attack-steps applies to pgd-train-step and pgd-eval");
}

}  // namespace
}  // namespace rp
