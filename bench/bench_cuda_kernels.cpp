// The hand-written CUDA kernels through the public ops on a CUDA context, from sizes that fit
// in L2 (256 KiB) to well past it (the H200 has 50 MB of L2; the largest rows move ~0.5-2 GB),
// each against the device-to-device copy at the same traffic.
//
//   build/release/bin/bench_cuda_kernels --benchmark_filter=Perturb
//
// Timing: CUDA events on the context's stream around one launch (UseManualTime, the event time
// is the iteration time), after kWarmup untimed launches, kIterations times. Before each timed
// launch a memset of a 256 MiB buffer (more than L2) on the same stream evicts the op's inputs
// from L2; it is queued before the start event, so it is not timed, and it lasts long enough on
// the GPU that the host has queued the launch before the start event fires (the op's host-side
// argument checks are not timed either). The flush leaves L2 full of dirty lines of its own
// buffer: an op pays for writing some of them back, as it would after any other kernel.
//
// Sizes: the label (256KiB ... 512MiB) is the size of the op's largest f32 tensor; the exact
// shape is the row's label. Counters:
//   bytes/s    traffic / median event time: traffic = each input read once + each output
//              written once (counted per op in the comments below); a kernel that reads an
//              input twice (two-pass norms, batch-norm statistics) still counts it once, so
//              this is the bandwidth the op achieves on what it must move
//   bytes      the traffic of one launch
//   median_us  the median event time of one launch (the time column is the mean)
//   of_copy    bytes/s over the bytes/s of ctx.copy of traffic / 2 bytes (the same traffic),
//              timed the same way: 1.0 means the op moves its data as fast as a copy can
// The Ceiling/Copy rows come first: a copy of `size` bytes, traffic 2 x size.
//
// Without a usable GPU the binary says why and exits 0 (nothing is registered).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "engine/core/context.h"
#include "engine/core/cuda_runtime.h"
#include "engine/ops/activation.h"
#include "engine/ops/batch.h"
#include "engine/ops/batchnorm.h"
#include "engine/ops/cross_entropy.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/metrics.h"
#include "engine/ops/normalize.h"
#include "engine/ops/objectives.h"
#include "engine/ops/perturb.h"
#include "engine/ops/pool.h"
#include "engine/ops/sgd.h"

namespace rp {
namespace {

using i64 = std::int64_t;

constexpr i64 kFlushBytes = i64{256} << 20;
constexpr int kWarmup = 3;
constexpr benchmark::IterationCount kIterations = 100;
constexpr i64 kTile = i64{1} << 20;  // floats of random data repeated to fill inputs
constexpr i64 kImage = 3 * 32 * 32;  // a CIFAR image
constexpr i64 kFeatures = 512;       // ResNet-18's representation

const std::vector<std::pair<std::string, i64>> kSizes = {{"256KiB", i64{256} << 10},
                                                         {"4MiB", i64{4} << 20},
                                                         {"32MiB", i64{32} << 20},
                                                         {"128MiB", i64{128} << 20},
                                                         {"512MiB", i64{512} << 20}};

using Event = CudaEventPtr;

// The context, the L2 flush buffer and the timing events every row shares; members are
// destroyed in reverse order, the context last.
struct Gpu {
  Context ctx{ContextOptions{Device::cuda(0), 1234, 1}};
  Tensor flush = Tensor::empty(Shape{kFlushBytes / 4}, DType::F32, Device::cuda(0));
  Event start{cuda_event_create(&ctx.cuda())};
  Event stop{cuda_event_create(&ctx.cuda())};
  std::map<std::tuple<float, float, std::uint64_t>, Tensor> tiles;  // by (lo, hi, seed)
  std::map<i64, double> copy_rate;  // bytes/s of ctx.copy, by bytes copied
  Tensor dataset, dataset_labels;   // for gather_batch, made on first use
};

Gpu& gpu() {
  static Gpu g;
  return g;
}

Tensor device_empty(const Shape& s, DType dtype = DType::F32) {
  return Tensor::empty(s, dtype, Device::cuda(0));
}

// Uniform in [lo, hi): one tile of host draws per (lo, hi, seed), uploaded once and copied
// over the tensor on the device.
Tensor device_uniform(const Shape& s, float lo, float hi, std::uint64_t seed) {
  Gpu& g = gpu();
  Tensor& tile = g.tiles[{lo, hi, seed}];
  if (!tile.defined()) {
    std::vector<float> host(static_cast<std::size_t>(kTile));
    std::mt19937_64 gen(seed);
    std::uniform_real_distribution<float> dist(lo, hi);
    for (float& v : host) v = dist(gen);
    tile = device_empty(Shape{kTile});
    g.ctx.copy(tile, Tensor::wrap(host.data(), Shape{kTile}, DType::F32, Device::cpu()));
  }
  Tensor t = device_empty(s);
  const Tensor flat = t.reshape(Shape{t.numel()});
  for (i64 b = 0; b < t.numel(); b += kTile) {
    const i64 e = std::min(t.numel(), b + kTile);
    g.ctx.copy(flat.slice(b, e), tile.slice(0, e - b));
  }
  return t;
}

// n integers uniform in [0, k).
Tensor device_indices(i64 n, i64 k, std::uint64_t seed) {
  std::vector<std::int32_t> host(static_cast<std::size_t>(n));
  std::mt19937_64 gen(seed);
  std::uniform_int_distribution<std::int32_t> dist(0, static_cast<std::int32_t>(k - 1));
  for (auto& v : host) v = dist(gen);
  Tensor t = device_empty(Shape{n}, DType::I32);
  gpu().ctx.copy(t, Tensor::wrap(host.data(), Shape{n}, DType::I32, Device::cpu()));
  return t;
}

// How many items of `item_floats` f32 elements make `target` bytes (at least one).
i64 items(i64 target, i64 item_floats) {
  return std::max<i64>(1, target / (4 * item_floats));
}

i64 nbytes(const Tensor& t) {
  return static_cast<i64>(t.nbytes());
}

// One row: the launch to time, the traffic it moves, what to show, and an optional untimed
// step before each flush (restoring state a launch changes).
struct Case {
  std::function<void()> launch;
  i64 bytes = 0;
  std::string label;
  std::function<void()> reset;
};
using MakeCase = std::function<Case(i64 target_bytes)>;

// Seconds of one launch of c between the events, L2 flushed before it.
double time_once(Gpu& g, const Case& c) {
  if (c.reset) c.reset();
  g.ctx.zero(g.flush);
  cuda_event_record(&g.ctx.cuda(), g.start.get());
  c.launch();
  cuda_event_record(&g.ctx.cuda(), g.stop.get());
  return static_cast<double>(cuda_event_elapsed_ms(g.start.get(), g.stop.get())) * 1e-3;
}

void warm_up(Gpu& g, const Case& c) {
  for (int i = 0; i < kWarmup; ++i) {
    if (c.reset) c.reset();
    c.launch();
  }
  g.ctx.synchronize();
}

double median(std::vector<double> v) {
  const auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
  std::nth_element(v.begin(), mid, v.end());
  return *mid;
}

Case copy_case(i64 bytes) {
  const i64 n = std::max<i64>(1, bytes / 4);
  Tensor src = device_uniform(Shape{n}, -1.f, 1.f, 1), dst = device_empty(Shape{n});
  return {[src, dst] { gpu().ctx.copy(dst, src); }, 2 * nbytes(src), src.str(), {}};
}

// bytes/s of ctx.copy moving `traffic` bytes (traffic / 2 copied), measured once per size.
double copy_rate(i64 traffic) {
  Gpu& g = gpu();
  const i64 bytes = std::max<i64>(4, traffic / 2 / 4 * 4);
  auto it = g.copy_rate.find(bytes);
  if (it != g.copy_rate.end()) return it->second;
  const Case c = copy_case(bytes);
  warm_up(g, c);
  std::vector<double> times;
  for (benchmark::IterationCount i = 0; i < kIterations; ++i) times.push_back(time_once(g, c));
  return g.copy_rate[bytes] = static_cast<double>(c.bytes) / median(times);
}

void run_case(benchmark::State& st, const MakeCase& make, i64 target, bool is_copy) {
  Gpu& g = gpu();
  Case c;
  try {
    c = make(target);
    warm_up(g, c);
  } catch (const std::exception& e) {
    st.SkipWithError(e.what());
    return;
  }
  std::vector<double> times;
  times.reserve(static_cast<std::size_t>(st.max_iterations));
  for (auto _ : st) {
    try {
      const double s = time_once(g, c);
      st.SetIterationTime(s);
      times.push_back(s);
    } catch (const std::exception& e) {
      st.SkipWithError(e.what());
      break;
    }
  }
  if (times.size() != static_cast<std::size_t>(st.max_iterations)) return;
  const double mid = median(times), rate = static_cast<double>(c.bytes) / mid;
  st.counters["bytes/s"] = rate;
  st.counters["bytes"] = static_cast<double>(c.bytes);
  st.counters["median_us"] = mid * 1e6;
  st.SetLabel(c.label);
  if (is_copy) {
    g.copy_rate.emplace(c.bytes / 2, rate);
    return;
  }
  try {
    st.counters["of_copy"] = rate / copy_rate(c.bytes);
  } catch (const std::exception& e) {
    st.SetLabel(c.label + " (no copy ceiling: " + e.what() + ")");
  }
}

void add(const std::string& name, MakeCase make, bool is_copy = false) {
  for (const auto& [size, target] : kSizes) {
    benchmark::RegisterBenchmark((name + "/" + size).c_str(),
                                 [make, target = target, is_copy](benchmark::State& st) {
                                   run_case(st, make, target, is_copy);
                                 })
        ->UseManualTime()
        ->Iterations(kIterations)
        ->Unit(benchmark::kMicrosecond);
  }
}

Context& ctx() {
  return gpu().ctx;
}

// ---- Perturbation updates: x, g, x0, out (N, 3, 32, 32) ---------------------------------------

Shape images(i64 target) {
  return Shape{items(target, kImage), 3, 32, 32};
}
Tensor pixels(const Shape& s, std::uint64_t seed) {
  return device_uniform(s, 0.f, 1.f, seed);
}
Tensor signed_values(const Shape& s, std::uint64_t seed) {
  return device_uniform(s, -1.f, 1.f, seed);
}

void add_perturb() {
  using StepFn = void (*)(Context&, const Tensor&, const Tensor&, double, const Tensor&);
  // pgd_step: reads x, g; writes out. The L2 step reads g twice (its norm, then the step).
  for (auto [name, fn, alpha] :
       {std::tuple<const char*, StepFn, double>{"pgd_step_linf", pgd_step_linf, 2.0 / 255},
        {"pgd_step_l2", pgd_step_l2, 0.1}}) {
    add(std::string("Perturb/") + name, [fn = fn, alpha = alpha](i64 t) {
      Tensor x = pixels(images(t), 1), g = signed_values(images(t), 2),
             out = device_empty(images(t));
      return Case{[=] { fn(ctx(), x, g, alpha, out); }, 3 * nbytes(x), x.str(), {}};
    });
  }
  using ProjectFn = void (*)(Context&, const Tensor&, const Tensor&, double, const Tensor&);
  // project: reads x, x0; writes out.
  for (auto [name, fn, eps] :
       {std::tuple<const char*, ProjectFn, double>{"project_linf", project_linf, 8.0 / 255},
        {"project_l2", project_l2, 0.5}}) {
    add(std::string("Perturb/") + name, [fn = fn, eps = eps](i64 t) {
      Tensor x = pixels(images(t), 1), x0 = pixels(images(t), 3), out = device_empty(images(t));
      return Case{[=] { fn(ctx(), x, x0, eps, out); }, 3 * nbytes(x), x.str(), {}};
    });
  }
  using UpdateFn = void (*)(Context&, const Tensor&, const Tensor&, const Tensor&, double, double,
                            const Tensor&);
  // pgd_update (step, project, clip): reads x, g, x0; writes out (not in place, so every
  // launch does the same work).
  for (auto [name, fn, alpha, eps] : {std::tuple<const char*, UpdateFn, double, double>{
                                          "pgd_update_linf", pgd_update_linf, 2.0 / 255, 8.0 / 255},
                                      {"pgd_update_l2", pgd_update_l2, 0.1, 0.5}}) {
    add(std::string("Perturb/") + name, [fn = fn, alpha = alpha, eps = eps](i64 t) {
      Tensor x = pixels(images(t), 1), g = signed_values(images(t), 2), x0 = pixels(images(t), 3),
             out = device_empty(images(t));
      return Case{[=] { fn(ctx(), x, g, x0, alpha, eps, out); }, 4 * nbytes(x), x.str(), {}};
    });
  }
  using StartFn = void (*)(Context&, const Tensor&, double, RngStream, const Tensor&);
  // random_start: reads x0; writes out.
  for (auto [name, fn, eps] :
       {std::tuple<const char*, StartFn, double>{"random_start_linf", random_start_linf, 8.0 / 255},
        {"random_start_l2", random_start_l2, 0.5}}) {
    add(std::string("Perturb/") + name, [fn = fn, eps = eps](i64 t) {
      Tensor x0 = pixels(images(t), 3), out = device_empty(images(t));
      return Case{[=] { fn(ctx(), x0, eps, ctx().rng(5), out); }, 2 * nbytes(x0), x0.str(), {}};
    });
  }
  // l2_norm_per_example: reads x; writes norms (N).
  add("Perturb/l2_norm_per_example", [](i64 t) {
    Tensor x = signed_values(images(t), 1), norms = device_empty(Shape{x.size(0)});
    return Case{
        [=] { l2_norm_per_example(ctx(), x, norms); }, nbytes(x) + nbytes(norms), x.str(), {}};
  });
}

// ---- Elementwise, activations, SGD: flat tensors ----------------------------------------------

void add_elementwise() {
  auto flat = [](i64 t) { return Shape{items(t, 1)}; };
  // add_forward: reads a, b; writes y.
  add("Elementwise/add_forward", [=](i64 t) {
    Tensor a = signed_values(flat(t), 1), b = signed_values(flat(t), 2), y = device_empty(flat(t));
    return Case{[=] { add_forward(ctx(), a, b, y); }, 3 * nbytes(a), a.str(), {}};
  });
  // add_backward: reads dy; writes da, db.
  add("Elementwise/add_backward", [=](i64 t) {
    Tensor dy = signed_values(flat(t), 1), da = device_empty(flat(t)), db = device_empty(flat(t));
    return Case{
        [=] { add_backward(ctx(), dy, da, db, GradMode::Assign); }, 3 * nbytes(dy), dy.str(), {}};
  });
  // fill: writes x.
  add("Elementwise/fill", [=](i64 t) {
    Tensor x = device_empty(flat(t));
    return Case{[=] { fill(ctx(), x, 0.25); }, nbytes(x), x.str(), {}};
  });
  // relu_forward: reads x; writes y.
  add("Elementwise/relu_forward", [=](i64 t) {
    Tensor x = signed_values(flat(t), 1), y = device_empty(flat(t));
    return Case{[=] { relu_forward(ctx(), x, y); }, 2 * nbytes(x), x.str(), {}};
  });
  // relu_backward: reads y, dy; writes dx.
  add("Elementwise/relu_backward", [=](i64 t) {
    Tensor y = signed_values(flat(t), 1), dy = signed_values(flat(t), 2),
           dx = device_empty(flat(t));
    return Case{
        [=] { relu_backward(ctx(), y, dy, dx, GradMode::Assign); }, 3 * nbytes(y), y.str(), {}};
  });
  // fake_relu_backward: reads dy; writes dx (y is not read).
  add("Elementwise/fake_relu_backward", [=](i64 t) {
    Tensor y = signed_values(flat(t), 1), dy = signed_values(flat(t), 2),
           dx = device_empty(flat(t));
    return Case{[=] { fake_relu_backward(ctx(), y, dy, dx, GradMode::Assign); },
                2 * nbytes(dy),
                dy.str(),
                {}};
  });
  // sgd_step (momentum, weight decay): reads params, grads, momentum; writes params, momentum.
  add("Elementwise/sgd_step", [=](i64 t) {
    Tensor p = signed_values(flat(t), 1), g = signed_values(flat(t), 2),
           m = signed_values(flat(t), 3);
    return Case{[=] { sgd_step(ctx(), p, g, m, SgdParams{}); }, 5 * nbytes(p), p.str(), {}};
  });
}

// ---- Pooling (N, 512, 4, 4) -> (N, 512); normalization (N, 3, 32, 32) -------------------------

void add_pool_normalize() {
  auto pooled = [](i64 t) { return Shape{items(t, kFeatures * 16), kFeatures, 4, 4}; };
  // pool forward: reads x; writes y.
  add("PoolNormalize/global_avg_pool_forward", [=](i64 t) {
    Tensor x = signed_values(pooled(t), 1), y = device_empty(Shape{x.size(0), kFeatures});
    return Case{[=] { global_avg_pool_forward(ctx(), x, y); }, nbytes(x) + nbytes(y), x.str(), {}};
  });
  // pool backward: reads dy; writes dx.
  add("PoolNormalize/global_avg_pool_backward", [=](i64 t) {
    Tensor dx = device_empty(pooled(t)), dy = signed_values(Shape{dx.size(0), kFeatures}, 1);
    return Case{[=] { global_avg_pool_backward(ctx(), dy, dx, GradMode::Assign); },
                nbytes(dy) + nbytes(dx),
                dx.str(),
                {}};
  });
  // normalize forward: reads x (mean, std: 3 each); writes y.
  add("PoolNormalize/normalize_forward", [](i64 t) {
    Tensor x = pixels(images(t), 1), y = device_empty(images(t));
    Tensor mean = device_uniform(Shape{3}, 0.4f, 0.5f, 2),
           stdev = device_uniform(Shape{3}, 0.2f, 0.3f, 3);
    return Case{[=] { normalize_forward(ctx(), x, mean, stdev, y); }, 2 * nbytes(x), x.str(), {}};
  });
  // normalize backward: reads x, dy; writes dx.
  add("PoolNormalize/normalize_backward", [](i64 t) {
    Tensor x = pixels(images(t), 1), dy = signed_values(images(t), 2), dx = device_empty(images(t));
    Tensor stdev = device_uniform(Shape{3}, 0.2f, 0.3f, 3);
    return Case{[=] { normalize_backward(ctx(), x, dy, stdev, dx, GradMode::Assign); },
                3 * nbytes(x),
                x.str(),
                {}};
  });
}

// ---- Cross-entropy and metrics: logits (N, K), K = 10 (CIFAR) and 1000 (ImageNet) -------------

void add_logits_ops() {
  for (const i64 k : {i64{10}, i64{1000}}) {
    const std::string kk = "/K:" + std::to_string(k);
    auto logits_of = [k](i64 t) { return device_uniform(Shape{items(t, k), k}, -5.f, 5.f, 1); };
    // forward: reads logits, labels; writes losses and the mean.
    add("CrossEntropy/forward" + kk, [=](i64 t) {
      Tensor logits = logits_of(t), labels = device_indices(logits.size(0), k, 2);
      Tensor losses = device_empty(Shape{logits.size(0)}), mean = device_empty(Shape{1});
      return Case{[=] { cross_entropy_forward(ctx(), logits, labels, losses, mean); },
                  nbytes(logits) + nbytes(labels) + nbytes(losses) + nbytes(mean),
                  logits.str(),
                  {}};
    });
    // backward: reads logits, labels, dlosses; writes dlogits.
    add("CrossEntropy/backward" + kk, [=](i64 t) {
      Tensor logits = logits_of(t), labels = device_indices(logits.size(0), k, 2);
      Tensor dlosses = device_uniform(Shape{logits.size(0)}, 0.f, 1.f, 3),
             dlogits = device_empty(logits.shape());
      return Case{[=] {
                    cross_entropy_backward(ctx(), logits, labels, dlosses, dlogits,
                                           GradMode::Assign);
                  },
                  2 * nbytes(logits) + nbytes(labels) + nbytes(dlosses),
                  logits.str(),
                  {}};
    });
    // count_correct: reads logits, labels; writes one count.
    add("Metrics/count_correct" + kk, [=](i64 t) {
      Tensor logits = logits_of(t), labels = device_indices(logits.size(0), k, 2);
      Tensor correct = device_empty(Shape{1});
      return Case{[=] { count_correct(ctx(), logits, labels, correct); },
                  nbytes(logits) + nbytes(labels) + nbytes(correct),
                  logits.str(),
                  {}};
    });
    // correct_flags: reads logits, labels; writes a flag per row.
    add("Metrics/correct_flags" + kk, [=](i64 t) {
      Tensor logits = logits_of(t), labels = device_indices(logits.size(0), k, 2);
      Tensor correct = device_empty(Shape{logits.size(0)});
      return Case{[=] { correct_flags(ctx(), logits, labels, correct); },
                  nbytes(logits) + nbytes(labels) + nbytes(correct),
                  logits.str(),
                  {}};
    });
  }
}

// ---- Batch norm: x (N, 64, 32, 32), ResNet-18's layer1 ----------------------------------------
// A block per channel reduces the statistics, so 64 channels use at most 64 blocks.

void add_batchnorm() {
  const i64 c = 64;
  auto xs = [c](i64 t) { return Shape{items(t, c * 32 * 32), c, 32, 32}; };
  struct Params {
    Tensor gamma, beta, mean, var, save_mean, save_invstd;
  };
  auto params = [c] {
    return Params{
        device_uniform(Shape{c}, 0.5f, 1.5f, 11),  device_uniform(Shape{c}, -1.f, 1.f, 12),
        device_uniform(Shape{c}, -0.1f, 0.1f, 13), device_uniform(Shape{c}, 0.5f, 1.5f, 14),
        device_uniform(Shape{c}, -0.1f, 0.1f, 15), device_uniform(Shape{c}, 0.5f, 1.5f, 16)};
  };
  // train forward: reads x, gamma, beta, the running statistics; writes y, the running
  // statistics, save_mean, save_invstd (x is read twice: statistics, then y).
  add("BatchNorm/forward_train", [=](i64 t) {
    Tensor x = signed_values(xs(t), 1), y = device_empty(xs(t));
    const Params p = params();
    return Case{[=] {
                  batchnorm2d_forward_train(ctx(), x, p.gamma, p.beta, p.mean, p.var, y,
                                            p.save_mean, p.save_invstd, BatchNormParams{});
                },
                2 * nbytes(x) + 8 * nbytes(p.gamma),
                x.str(),
                {}};
  });
  // eval forward: reads x, gamma, beta, running mean and variance; writes y.
  add("BatchNorm/forward_eval", [=](i64 t) {
    Tensor x = signed_values(xs(t), 1), y = device_empty(xs(t));
    const Params p = params();
    return Case{
        [=] { batchnorm2d_forward_eval(ctx(), x, p.gamma, p.beta, p.mean, p.var, y, 1e-5); },
        2 * nbytes(x) + 4 * nbytes(p.gamma),
        x.str(),
        {}};
  });
  // train backward: reads dy, x, gamma, save_mean, save_invstd; writes dx, dgamma, dbeta.
  add("BatchNorm/backward_train", [=](i64 t) {
    Tensor x = signed_values(xs(t), 1), dy = signed_values(xs(t), 2), dx = device_empty(xs(t));
    Tensor dgamma = device_empty(Shape{c}), dbeta = device_empty(Shape{c});
    const Params p = params();
    return Case{[=] {
                  batchnorm2d_backward_train(ctx(), dy, x, p.gamma, p.save_mean, p.save_invstd, dx,
                                             dgamma, dbeta, GradMode::Assign);
                },
                3 * nbytes(x) + 5 * nbytes(p.gamma),
                x.str(),
                {}};
  });
  // eval backward as attacks call it (dx only): reads dy, gamma, running mean and variance;
  // writes dx.
  add("BatchNorm/backward_eval_dx", [=](i64 t) {
    Tensor x = signed_values(xs(t), 1), dy = signed_values(xs(t), 2), dx = device_empty(xs(t));
    const Params p = params();
    return Case{[=] {
                  batchnorm2d_backward_eval(ctx(), dy, x, p.gamma, p.mean, p.var, 1e-5, dx,
                                            Tensor(), Tensor(), GradMode::Assign);
                },
                2 * nbytes(x) + 3 * nbytes(p.gamma),
                x.str(),
                {}};
  });
}

// ---- Objectives: r, target (N, 512); keep_better on images (N, 3, 32, 32) ---------------------

void add_objectives() {
  auto rs = [](i64 t) { return Shape{items(t, kFeatures), kFeatures}; };
  // representation_distance forward: reads r, target; writes values (N).
  add("Objectives/representation_distance_forward", [=](i64 t) {
    Tensor r = signed_values(rs(t), 1), target = signed_values(rs(t), 2),
           values = device_empty(Shape{r.size(0)});
    return Case{[=] { representation_distance_forward(ctx(), r, target, values); },
                2 * nbytes(r) + nbytes(values),
                r.str(),
                {}};
  });
  // representation_distance backward: reads r, target, upstream; writes dr.
  add("Objectives/representation_distance_backward", [=](i64 t) {
    Tensor r = signed_values(rs(t), 1), target = signed_values(rs(t), 2),
           up = device_uniform(Shape{r.size(0)}, 0.f, 1.f, 3), dr = device_empty(rs(t));
    return Case{
        [=] { representation_distance_backward(ctx(), r, target, up, dr, GradMode::Assign); },
        3 * nbytes(r) + nbytes(up),
        r.str(),
        {}};
  });
  // coordinate forward with the hinge: reads k and one element of r per example; writes
  // values. A gather of N elements: its traffic is tiny next to r's size (the row label).
  add("Objectives/coordinate_forward_hinge", [=](i64 t) {
    Tensor r = signed_values(rs(t), 1), k = device_indices(r.size(0), kFeatures, 2),
           values = device_empty(Shape{r.size(0)});
    return Case{[=] { coordinate_forward(ctx(), r, k, 0.5, values); },
                nbytes(k) + 2 * nbytes(values),
                r.str(),
                {}};
  });
  // coordinate backward with the hinge: reads k, upstream, one element of r per example;
  // writes dr.
  add("Objectives/coordinate_backward_hinge", [=](i64 t) {
    Tensor r = signed_values(rs(t), 1), k = device_indices(r.size(0), kFeatures, 2),
           up = device_uniform(Shape{r.size(0)}, 0.f, 1.f, 3), dr = device_empty(rs(t));
    return Case{[=] { coordinate_backward(ctx(), r, k, 0.5, up, dr, GradMode::Assign); },
                nbytes(dr) + nbytes(k) + 2 * nbytes(up),
                r.str(),
                {}};
  });
  // keep_better with every example better (the most work): reads values, best_values, x;
  // writes best_values, best_x. best_values is reset to 0 before each launch, untimed.
  add("Objectives/keep_better_all", [](i64 t) {
    Tensor x = pixels(images(t), 1), best_x = device_empty(images(t));
    Tensor values = device_uniform(Shape{x.size(0)}, 1.f, 2.f, 2),
           best = device_empty(Shape{x.size(0)});
    return Case{[=] { keep_better(ctx(), values, x, true, best, best_x); },
                2 * nbytes(x) + 3 * nbytes(values), x.str(), [=] { fill(ctx(), best, 0.0); }};
  });
}

// ---- Batch gathering from a CIFAR-sized uint8 dataset (50,000 x 3 x 32 x 32) ------------------

void add_gather() {
  // reads order, then per example its image (u8) and label; writes out_images (f32) and
  // out_labels. Random crop (pad 4) and flip.
  add("Gather/gather_batch_augmented", [](i64 t) {
    Gpu& g = gpu();
    const i64 m = 50000;
    if (!g.dataset.defined()) {
      std::vector<std::uint8_t> host(static_cast<std::size_t>(m * kImage));
      std::uint32_t state = 12345;
      for (auto& v : host) {
        state = state * 1664525u + 1013904223u;
        v = static_cast<std::uint8_t>(state >> 24);
      }
      g.dataset = device_empty(Shape{m, 3, 32, 32}, DType::U8);
      g.ctx.copy(g.dataset, Tensor::wrap(host.data(), g.dataset.shape(), DType::U8, Device::cpu()));
      g.dataset_labels = device_indices(m, 10, 4);
    }
    const Shape out_shape = images(t);
    const i64 n = out_shape[0];
    Tensor order = device_indices(n, m, 5), out = device_empty(out_shape),
           out_labels = device_empty(Shape{n}, DType::I32);
    Augmentation aug;
    aug.enabled = true;
    aug.rng = g.ctx.rng(9);
    const Tensor images_u8 = g.dataset, labels = g.dataset_labels;
    return Case{[=] { gather_batch(ctx(), images_u8, labels, order, aug, out, out_labels); },
                nbytes(order) + n * kImage + n * 4 + nbytes(out) + nbytes(out_labels),
                out.str(),
                {}};
  });
}

void register_all() {
  add("Ceiling/Copy", copy_case, true);
  add_perturb();
  add_elementwise();
  add_pool_normalize();
  add_logits_ops();
  add_batchnorm();
  add_objectives();
  add_gather();
}

}  // namespace
}  // namespace rp

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  const rp::CudaRuntimeInfo info = rp::cuda_runtime_info();
  if (info.devices.empty()) {
    std::printf("bench_cuda_kernels: no usable CUDA device (%s); nothing to run\n",
                info.why_none.c_str());
    return 0;
  }
  rp::register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
