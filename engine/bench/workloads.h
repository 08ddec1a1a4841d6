// Named throughput workloads, timed as a framework user would time them (the same ones
// bench/pytorch/bench_torch.py runs in PyTorch, for tools/bench_compare.sh):
//
//   train-step      forward in train mode, mean cross-entropy, backward to the parameters, SGD
//                   (lr 0.1, momentum 0.9, weight decay 5e-4)
//   pgd-train-step  a PGD-K L2 attack (eps 0.5, step 2.5 eps / K, K = attack_steps, default 7;
//                   BN in eval mode, input gradients only, no random start, the last iterate),
//                   then a train-step on the adversarial batch
//   fgsm-rs-step    FGSM from a uniform random start (Linf eps 8/255, step 1.25 eps), then a
//                   train-step
//   pgd-eval        a PGD-K L2 attack alone (eps 0.5, K default 20): no parameter update
//   invert-iter     one inversion iteration (batch 10 by default, the notebooks'): the distance
//                   of R(x) to target representations, its input gradient, one normalized L2
//                   step of 1 in a ball of 1000
// Inputs are uniform in [0, 1] with random labels, drawn once. `warmup` iterations, then
// `repeats` timed runs of `iters` iterations (CUDA events around each run on a GPU, the host
// clock on the CPU); the median run gives the numbers. The timed runs execute with the
// context's allocations frozen, which proves them allocation-free.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/core/context.h"
#include "engine/core/profiler.h"
#include "engine/nn/network.h"

namespace rp {

const std::vector<std::string>& bench_workloads();

struct BenchOptions {
  std::string workload = "train-step";
  std::int64_t batch = 0;         // 0: 10 for invert-iter, else 128
  std::int64_t attack_steps = 0;  // 0: 7 for pgd-train-step, 20 for pgd-eval
  std::int64_t warmup = 3, iters = 10, repeats = 5;
  std::uint64_t seed = 0;
};

struct BenchResult {
  std::string workload;
  std::int64_t batch = 0;
  std::optional<std::int64_t> attack_steps;  // attack workloads only
  std::vector<double> repeat_seconds;        // each timed run of `iters` iterations
  double seconds_per_iter = 0;               // the median run / iters
  double images_per_s = 0;                   // batch / seconds_per_iter
  // Attacks: forward-backward passes of the attack per second (batch x K per iteration);
  // invert-iter: batch / seconds_per_iter; train-step: none.
  std::optional<double> image_iterations_per_s;
};

// Options with their defaults filled in; throws rp::Error naming a bad option (before work).
BenchOptions resolve(const BenchOptions& o);

// Runs the workload on `net` (any architecture, on ctx's device). With a profiler, the timed
// runs report to it (attached only while they run; collected after each).
BenchResult run_benchmark(Context& ctx, Network& net, const BenchOptions& options,
                          Profiler* profiler = nullptr);

}  // namespace rp
