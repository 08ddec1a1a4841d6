#include "engine/bench/workloads.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>

#include "engine/adv/objective.h"
#include "engine/adv/pgd.h"
#include "engine/core/cuda_runtime.h"
#include "engine/core/error.h"
#include "engine/core/rng_streams.h"
#include "engine/train/train_step.h"

namespace rp {
namespace {

bool is_attack(const std::string& w) {
  return w == "pgd-train-step" || w == "fgsm-rs-step" || w == "pgd-eval";
}

// Uniform [0, 1) pixels and labels in [0, classes), drawn once from the seed.
Tensor random_images(const NetworkSpec& s, std::int64_t n, RngStream rng, Device device) {
  const Shape shape{n, s.channels, s.image_h, s.image_w};
  std::vector<double> v(static_cast<std::size_t>(shape.numel()));
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(rng_uniform(rng, i));
  if (s.dtype == DType::F64) return Tensor::from_vector(v, shape, device);
  return Tensor::from_vector(std::vector<float>(v.begin(), v.end()), shape, device);
}

Tensor random_labels(std::int64_t n, std::int64_t classes, RngStream rng, Device device) {
  std::vector<std::int32_t> v(static_cast<std::size_t>(n));
  for (std::size_t i = 0; i < v.size(); ++i) {
    v[i] = static_cast<std::int32_t>(static_cast<double>(rng_uniform(rng, i)) *
                                     static_cast<double>(classes));
  }
  return Tensor::from_vector(v, Shape{n}, device);
}

// Wall time of `iters` calls of `step`: CUDA events around them on a GPU (waiting only at the
// end), the host clock on the CPU.
double time_run(Context& ctx, std::int64_t iters, const std::function<void()>& step) {
  if (ctx.device().is_cuda()) {
    CudaHandles* h = &ctx.cuda();
    const CudaEventPtr start(cuda_event_create(h)), stop(cuda_event_create(h));
    cuda_event_record(h, start.get());
    for (std::int64_t i = 0; i < iters; ++i) step();
    cuda_event_record(h, stop.get());
    return static_cast<double>(cuda_event_elapsed_ms(start.get(), stop.get())) / 1000.0;
  }
  const auto t0 = std::chrono::steady_clock::now();
  for (std::int64_t i = 0; i < iters; ++i) step();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Restores the context's freeze and detaches the profiler on every exit.
class TimedRegion {
 public:
  explicit TimedRegion(Context& ctx) : ctx_(ctx), was_(ctx.allocations_frozen()) {}
  ~TimedRegion() {
    ctx_.freeze_allocations(was_);
    ctx_.set_profiler(nullptr);
  }
  TimedRegion(const TimedRegion&) = delete;
  TimedRegion& operator=(const TimedRegion&) = delete;

 private:
  Context& ctx_;
  bool was_;
};

}  // namespace

const std::vector<std::string>& bench_workloads() {
  static const std::vector<std::string> w = {"train-step", "pgd-train-step", "fgsm-rs-step",
                                             "pgd-eval", "invert-iter"};
  return w;
}

BenchOptions resolve(const BenchOptions& o) {
  BenchOptions r = o;
  const auto& all = bench_workloads();
  RP_CHECK(std::find(all.begin(), all.end(), o.workload) != all.end(), "bench",
           "unknown workload '" << o.workload
                                << "' (train-step, pgd-train-step, fgsm-rs-step, pgd-eval, "
                                   "invert-iter)");
  RP_CHECK(o.batch >= 0 && o.batch <= 4096, "bench",
           "batch must be in [1, 4096] (0: the workload's default), found " << o.batch);
  RP_CHECK(
      o.attack_steps >= 0 && o.attack_steps <= 1000, "bench",
      "attack steps must be in [1, 1000] (0: the workload's default), found " << o.attack_steps);
  RP_CHECK(o.attack_steps == 0 || o.workload == "pgd-train-step" || o.workload == "pgd-eval",
           "bench", "--attack-steps applies to pgd-train-step and pgd-eval, not " << o.workload);
  RP_CHECK(o.warmup >= 0 && o.warmup <= 100000, "bench", "warmup must be >= 0, found " << o.warmup);
  RP_CHECK(o.iters >= 1 && o.iters <= 100000, "bench", "iters must be >= 1, found " << o.iters);
  RP_CHECK(o.repeats >= 1 && o.repeats <= 1000, "bench",
           "repeats must be >= 1, found " << o.repeats);
  if (r.batch == 0) r.batch = o.workload == "invert-iter" ? 10 : 128;
  // Only the PGD workloads have a step count (resolving twice changes nothing).
  if (r.attack_steps == 0 && o.workload == "pgd-eval") r.attack_steps = 20;
  if (r.attack_steps == 0 && o.workload == "pgd-train-step") r.attack_steps = 7;
  return r;
}

BenchResult run_benchmark(Context& ctx, Network& net, const BenchOptions& options,
                          Profiler* profiler) {
  const BenchOptions o = resolve(options);
  const NetworkSpec& s = net.spec();
  const Device dev = ctx.device();
  const std::int64_t n = o.batch;
  net.prepare(ctx, std::max(net.max_batch(), n));
  const Tensor x =
      random_images(s, n, RngStream{o.seed, rng_stream(RngPurpose::Experiment, 1)}, dev);
  const Tensor y = random_labels(n, s.num_classes,
                                 RngStream{o.seed, rng_stream(RngPurpose::Experiment, 2)}, dev);

  TrainStep train(net, dev, n);
  const Tensor momentum = Tensor::zeros(net.parameters().flat_params().shape(), s.dtype, dev);
  const Tensor stats = Tensor::empty(Shape{2}, s.dtype, dev);
  const SgdParams sgd{0.1, 0.9, 5e-4, false};
  PgdAttack attack(net, dev, n);
  CrossEntropyObjective untargeted(y, false);
  const double l2_eps = 0.5, linf_eps = 8.0 / 255;
  const std::int64_t k = std::max<std::int64_t>(o.attack_steps, 1);  // PGD workloads only
  const AttackParams pgd{ThreatModel::L2, l2_eps, default_step(l2_eps, k), k, false, 1, false};
  const AttackParams fgsm{ThreatModel::Linf, linf_eps, 1.25 * linf_eps, 1, true, 1, false};
  const AttackParams inversion{ThreatModel::L2, 1000, 1.0, 1, false, 1, false};
  std::unique_ptr<RepresentationDistance> distance;
  if (o.workload == "invert-iter") {
    // Targets: the representations of other random images.
    const Tensor targets_x =
        random_images(s, n, RngStream{o.seed, rng_stream(RngPurpose::Experiment, 3)}, dev);
    net.forward(ctx, targets_x, ForwardOptions{BnMode::Eval, false, false});
    Tensor targets = Tensor::empty(Shape{n, net.representation_size()}, s.dtype, dev);
    ctx.copy(targets, net.representation());
    distance = std::make_unique<RepresentationDistance>(targets);
  }
  std::uint64_t draw = 0;  // a fresh random start each call
  const std::function<void()> step = [&] {
    const RngStream rng{o.seed, rng_stream(RngPurpose::RandomStart, 7), draw};
    draw += static_cast<std::uint64_t>(x.numel());
    if (o.workload == "train-step") {
      train.run(ctx, x, y, sgd, momentum, stats);
    } else if (o.workload == "pgd-train-step") {
      train.run(ctx, attack.run(ctx, x, untargeted, pgd, rng), y, sgd, momentum, stats);
    } else if (o.workload == "fgsm-rs-step") {
      train.run(ctx, attack.run(ctx, x, untargeted, fgsm, rng), y, sgd, momentum, stats);
    } else if (o.workload == "pgd-eval") {
      attack.run(ctx, x, untargeted, pgd, rng);
    } else {
      attack.run(ctx, x, *distance, inversion, rng);
    }
  };

  for (std::int64_t i = 0; i < o.warmup; ++i) step();
  TimedRegion region(ctx);
  if (profiler != nullptr) {
    // One profiled run before the timed ones fills the profiler's event pool, which cannot
    // grow while allocations are frozen; its totals are dropped.
    ctx.set_profiler(profiler);
    time_run(ctx, o.iters, step);
    profiler->collect(ctx);
    profiler->reset();
  }
  ctx.freeze_allocations(true);
  BenchResult r;
  r.workload = o.workload;
  r.batch = n;
  for (std::int64_t run = 0; run < o.repeats; ++run) {
    r.repeat_seconds.push_back(time_run(ctx, o.iters, step));
    if (profiler != nullptr) profiler->collect(ctx);
  }
  std::vector<double> sorted = r.repeat_seconds;
  std::sort(sorted.begin(), sorted.end());
  const std::size_t mid = sorted.size() / 2;
  const double median =
      sorted.size() % 2 == 1 ? sorted[mid] : 0.5 * (sorted[mid - 1] + sorted[mid]);
  r.seconds_per_iter = median / static_cast<double>(o.iters);
  r.images_per_s = static_cast<double>(n) / r.seconds_per_iter;
  if (is_attack(o.workload)) {
    r.attack_steps = o.workload == "fgsm-rs-step" ? 1 : k;
    r.image_iterations_per_s = static_cast<double>(n * *r.attack_steps) / r.seconds_per_iter;
  } else if (o.workload == "invert-iter") {
    r.image_iterations_per_s = r.images_per_s;
  }
  return r;
}

}  // namespace rp
