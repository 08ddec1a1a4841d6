// CPU reference ops on the shapes of a CIFAR ResNet-18: how fast the ground truth is, and
// what a CPU-only run (tests, the demo) can afford. Threads: ROBUSTPRIOR_THREADS or all.
//
//   build/release/bin/bench_cpu_ops --benchmark_filter=Conv
//
// Every row reads against a ceiling measured on this machine, and the ceilings run first:
//   Ceiling/Copy       memcpy, bytes/s = 2 x bytes copied (read + write), on 1 thread and on
//                      the ops' thread count (split as the ops split their work)
//   Ceiling/EigenGemm  Eigen's float GEMM at each convolution's im2col product (C_out x K) *
//                      (K x H_out W_out), one per image, images split over threads as the
//                      convolutions split them: FLOP/s = 2 x multiply-adds
// Counters:
//   FLOP/s    convolutions and the linear layer (2 x multiply-adds)
//   of_gemm   a convolution's FLOP/s over the Eigen GEMM ceiling at its shape and thread count
//   bytes/s   memory-bound ops: each input read once plus each output written once (the
//             count is in a comment on each benchmark); an op that reads an input twice still
//             counts it once, so this is the traffic the op needs, not what it issues
//   of_copy   bytes/s over a copy of the same traffic (bytes / 2 copied) on the same thread
//             count: 1.0 means the op runs as fast as moving its data can
// Rows report their mean time (Google Benchmark's); the ceilings behind of_copy and of_gemm
// are the fastest of several runs, so on a loaded machine those fractions read low, and a
// ceiling that was itself disturbed on every run can push one above 1.
#define EIGEN_DONT_PARALLELIZE  // all parallelism is ours (kernels/cpu/parallel.h), as in kernels/

#include <benchmark/benchmark.h>

#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <map>
#include <random>
#include <tuple>
#include <utility>
#include <vector>

#include "engine/core/context.h"
#include "engine/ops/activation.h"
#include "engine/ops/batchnorm.h"
#include "engine/ops/conv2d.h"
#include "engine/ops/cross_entropy.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/linear.h"
#include "engine/ops/normalize.h"
#include "engine/ops/perturb.h"
#include "engine/ops/pool.h"
#include "engine/ops/sgd.h"
#include "kernels/conv2d_geometry.h"
#include "kernels/cpu/parallel.h"

namespace rp {
namespace {

using i64 = std::int64_t;
using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

Context& context() {
  static Context ctx(ContextOptions{Device::cpu(), 0, 0});
  return ctx;
}

Tensor filled(const Shape& s, std::uint64_t seed, float lo = -1.f, float hi = 1.f) {
  Tensor t = Tensor::empty(s);
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  float* p = t.data<float>();
  for (i64 i = 0; i < t.numel(); ++i) p[i] = dist(gen);
  return t;
}

Tensor labels_for(i64 n, i64 k, std::uint64_t seed) {
  Tensor t = Tensor::empty(Shape{n}, DType::I32);
  std::mt19937_64 gen(seed);
  std::uniform_int_distribution<std::int32_t> dist(0, static_cast<std::int32_t>(k - 1));
  auto* p = t.data<std::int32_t>();
  for (i64 i = 0; i < n; ++i) p[i] = dist(gen);
  return t;
}

i64 bytes_of(std::initializer_list<const Tensor*> tensors) {
  i64 sum = 0;
  for (const Tensor* t : tensors) sum += static_cast<i64>(t->nbytes());
  return sum;
}

// Seconds per call of f at its best: the fastest of repeated runs (at least 5, for at least
// ~50 ms) after one warm-up. A ceiling is what the machine can do, so the fastest run counts:
// on a loaded machine a median would include other work's interference.
template <typename F>
double best_seconds(F&& f) {
  using clock = std::chrono::steady_clock;
  f();
  std::vector<double> times;
  const auto start = clock::now();
  while (times.size() < 5 ||
         (clock::now() - start < std::chrono::milliseconds(50) && times.size() < 10000)) {
    const auto t0 = clock::now();
    f();
    times.push_back(std::chrono::duration<double>(clock::now() - t0).count());
  }
  return *std::min_element(times.begin(), times.end());
}

// ---- Ceilings ---------------------------------------------------------------------------------

// Copies src to dst on `threads` threads, split into contiguous chunks as parallel_for splits
// the ops' work (at least 64 KiB per thread).
void parallel_copy(char* dst, const char* src, i64 bytes, int threads) {
  cpu::parallel_for(threads, bytes, i64{1} << 16, [&](i64 begin, i64 end, int) {
    std::memcpy(dst + begin, src + begin, static_cast<std::size_t>(end - begin));
  });
}

// bytes/s of a copy whose traffic (read + write) is `traffic` bytes, on `threads` threads;
// measured once per size and thread count.
double copy_ceiling(i64 traffic, int threads) {
  static std::map<std::pair<i64, int>, double> cache;
  const i64 bytes = std::max<i64>(traffic / 2, 1);
  auto [it, fresh] = cache.try_emplace({bytes, threads}, 0.0);
  if (fresh) {
    std::vector<char> src(static_cast<std::size_t>(bytes), 1), dst(src.size(), 0);
    const double s = best_seconds([&] { parallel_copy(dst.data(), src.data(), bytes, threads); });
    benchmark::DoNotOptimize(dst.data());
    it->second = 2.0 * static_cast<double>(bytes) / s;
  }
  return it->second;
}

// bytes/s for an op whose one call moves `bytes` (inputs read once + outputs written once), and
// of_copy: that over the copy ceiling at the same traffic and the context's threads. Both are
// rates over the run's real time (kIsRate divides the sum by it when the run ends).
// Real seconds since construction: built just before a benchmark's loop, read just after it,
// it times the loop as the real-time column does.
class LoopClock {
 public:
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

// bytes/s for an op whose one call moves `bytes` (inputs read once + outputs written once), and
// of_copy: that over the copy ceiling at the same traffic on the context's threads.
void report_bytes(benchmark::State& st, const LoopClock& timer, i64 bytes,
                  bool with_ceiling = true) {
  const double seconds = timer.seconds();
  const double moved = static_cast<double>(bytes) * static_cast<double>(st.iterations());
  st.counters["bytes/s"] = benchmark::Counter(moved, benchmark::Counter::kIsRate);
  if (with_ceiling && seconds > 0) {
    st.counters["of_copy"] = moved / seconds / copy_ceiling(bytes, context().threads());
  }
}

void BM_CeilingCopy(benchmark::State& st) {
  const i64 bytes = st.range(0);
  const int threads = st.range(1) == 0 ? context().threads() : static_cast<int>(st.range(1));
  std::vector<char> src(static_cast<std::size_t>(bytes), 1), dst(src.size(), 0);
  const LoopClock timer;
  for (auto _ : st) {
    parallel_copy(dst.data(), src.data(), bytes, threads);
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  report_bytes(st, timer, 2 * bytes, false);
  st.SetLabel(std::to_string(threads) + " thread(s)");
}

// Args: batch, C_in, H(=W), C_out, kernel, stride - the convolutions' shapes.
Conv2dGeometry geometry(const benchmark::State& st) {
  Conv2dGeometry g;
  g.n = st.range(0);
  g.c_in = st.range(1);
  g.h = g.w = st.range(2);
  g.c_out = st.range(3);
  g.kh = g.kw = st.range(4);
  g.stride_h = g.stride_w = st.range(5);
  g.pad_h = g.pad_w = g.kh / 2;
  return g;
}

// The forward im2col GEMM of g, one per image: (C_out x K) * (K x P) into (C_out x P), images
// split over threads with the convolutions' grain (>= 256k multiply-adds per thread).
struct GemmCeiling {
  explicit GemmCeiling(const Conv2dGeometry& geom) : g(geom) {
    std::mt19937_64 gen(7);
    std::uniform_real_distribution<float> dist(-1.f, 1.f);
    auto fill = [&](RowMajor& m, i64 r, i64 c) {
      m.resize(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(c));
      for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = dist(gen);
    };
    fill(w, g.c_out, g.patch_size());
    cols.resize(static_cast<std::size_t>(g.n));
    out.resize(static_cast<std::size_t>(g.n));
    for (i64 n = 0; n < g.n; ++n) {
      fill(cols[static_cast<std::size_t>(n)], g.patch_size(), g.out_pixels());
      fill(out[static_cast<std::size_t>(n)], g.c_out, g.out_pixels());
    }
  }
  void run(int threads) {
    const i64 per_image = std::max<i64>(1, g.c_out * g.patch_size() * g.out_pixels());
    const i64 grain = std::max<i64>(1, (i64{1} << 18) / per_image);
    cpu::parallel_for(threads, g.n, grain, [&](i64 begin, i64 end, int) {
      for (i64 n = begin; n < end; ++n) {
        const auto i = static_cast<std::size_t>(n);
        out[i].noalias() = w * cols[i];
      }
    });
  }
  Conv2dGeometry g;
  RowMajor w;
  std::vector<RowMajor> cols, out;
};

// FLOP/s of the GEMM ceiling at g's shape on `threads` threads; measured once per shape.
double gemm_ceiling(const Conv2dGeometry& g, int threads) {
  static std::map<std::tuple<i64, i64, i64, i64, i64, i64, int>, double> cache;
  auto [it, fresh] = cache.try_emplace({g.n, g.c_in, g.h, g.c_out, g.kh, g.stride_h, threads}, 0.0);
  if (fresh) {
    GemmCeiling gemm(g);
    it->second = g.flops() / best_seconds([&] { gemm.run(threads); });
  }
  return it->second;
}

void report_flops(benchmark::State& st, double flops_per_iter) {
  st.counters["FLOP/s"] = benchmark::Counter(flops_per_iter * static_cast<double>(st.iterations()),
                                             benchmark::Counter::kIsRate);
}

void BM_CeilingEigenGemm(benchmark::State& st) {
  const Conv2dGeometry g = geometry(st);
  const int threads = st.range(6) == 0 ? context().threads() : static_cast<int>(st.range(6));
  GemmCeiling gemm(g);
  for (auto _ : st) {
    gemm.run(threads);
    benchmark::ClobberMemory();
  }
  report_flops(st, g.flops());
  st.SetLabel(std::to_string(threads) + " thread(s)");
}

// ResNet-18 on CIFAR at batch 8: stem, layer1, layer2 entry (stride 2), its 1x1 shortcut, layer4.
const std::vector<std::vector<i64>> kResnet18Convs = {{8, 3, 32, 64, 3, 1},
                                                      {8, 64, 32, 64, 3, 1},
                                                      {8, 64, 32, 128, 3, 2},
                                                      {8, 64, 32, 128, 1, 2},
                                                      {8, 512, 4, 512, 3, 1}};

// Registered before every op so that the table prints the ceilings first. Threads 0: the ops'
// thread count (ROBUSTPRIOR_THREADS or all).
const bool kCeilingsRegistered = [] {
  auto* copy = benchmark::RegisterBenchmark("Ceiling/Copy", BM_CeilingCopy);
  copy->ArgNames({"bytes", "threads"});
  for (i64 bytes : {i64{256} << 10, i64{4} << 20, i64{32} << 20, i64{128} << 20}) {
    for (i64 threads : {1, 0}) copy->Args({bytes, threads});
  }
  copy->UseRealTime();
  auto* gemm = benchmark::RegisterBenchmark("Ceiling/EigenGemm", BM_CeilingEigenGemm);
  gemm->ArgNames({"N", "Cin", "H", "Cout", "k", "s", "threads"});
  for (const auto& shape : kResnet18Convs) {
    for (i64 threads : {1, 0}) {
      std::vector<i64> args = shape;
      args.push_back(threads);
      gemm->Args(args);
    }
  }
  gemm->Unit(benchmark::kMillisecond)->UseRealTime();
  return true;
}();

// ---- Convolutions -----------------------------------------------------------------------------

struct ConvArgs {
  Shape x, w, y;
  Conv2dParams p;
  Conv2dGeometry g;
};
ConvArgs conv_args(const benchmark::State& st) {
  const Conv2dGeometry g = geometry(st);
  const Conv2dParams p = Conv2dParams::square(g.stride_h, g.pad_h);
  const Shape x{g.n, g.c_in, g.h, g.w}, w{g.c_out, g.c_in, g.kh, g.kw};
  return {x, w, conv2d_output_shape(x, w, p), p, g};
}

// FLOP/s, and of_gemm: that over the GEMM ceiling of the forward shape at the context's threads
// (the backward products have the same multiply-adds in transposed shapes).
void report_conv(benchmark::State& st, const LoopClock& timer, const Conv2dGeometry& g) {
  const double seconds = timer.seconds();
  report_flops(st, g.flops());
  if (seconds > 0) {
    st.counters["of_gemm"] = g.flops() * static_cast<double>(st.iterations()) / seconds /
                             gemm_ceiling(g, context().threads());
  }
}

void BM_Conv2dForward(benchmark::State& st) {
  const ConvArgs a = conv_args(st);
  Tensor x = filled(a.x, 1), w = filled(a.w, 2), y = Tensor::empty(a.y);
  const LoopClock timer;
  for (auto _ : st) conv2d_forward(context(), x, w, y, a.p);
  report_conv(st, timer, a.g);
}

void BM_Conv2dBackwardData(benchmark::State& st) {
  const ConvArgs a = conv_args(st);
  Tensor dy = filled(a.y, 1), w = filled(a.w, 2), dx = Tensor::empty(a.x);
  const LoopClock timer;
  for (auto _ : st) conv2d_backward_data(context(), dy, w, dx, a.p, GradMode::Assign);
  report_conv(st, timer, a.g);
}

void BM_Conv2dBackwardFilter(benchmark::State& st) {
  const ConvArgs a = conv_args(st);
  Tensor x = filled(a.x, 1), dy = filled(a.y, 2), dw = Tensor::empty(a.w);
  const LoopClock timer;
  for (auto _ : st) conv2d_backward_filter(context(), x, dy, dw, a.p, GradMode::Assign);
  report_conv(st, timer, a.g);
}

void resnet18_shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"N", "Cin", "H", "Cout", "k", "s"});
  for (const auto& shape : kResnet18Convs) b->Args(shape);
  b->Unit(benchmark::kMillisecond)->UseRealTime();
}
BENCHMARK(BM_Conv2dForward)->Apply(resnet18_shapes);
BENCHMARK(BM_Conv2dBackwardData)->Apply(resnet18_shapes);
BENCHMARK(BM_Conv2dBackwardFilter)->Apply(resnet18_shapes);

// ---- Memory-bound ops -------------------------------------------------------------------------
// Activations at ResNet-18's layer1 shape (N, 64, 32, 32), N = 8 and 128 unless stated.

void batch_sizes(benchmark::internal::Benchmark* b) {
  b->ArgName("N")->Arg(8)->Arg(128)->UseRealTime();
}
Shape layer1(const benchmark::State& st) {
  return Shape{st.range(0), 64, 32, 32};
}

// Reads x, writes y (the per-channel statistics and parameters are negligible). The reference
// reads x more than once (statistics, then normalization): the count is what it must move.
void BM_BatchNormTrainForward(benchmark::State& st) {
  const Shape x = layer1(st), c{64};
  Tensor in = filled(x, 1), y = Tensor::empty(x), g = filled(c, 2), b = filled(c, 3);
  Tensor rm = filled(c, 4), rv = filled(c, 5, 0.5f, 1.5f), sm = Tensor::empty(c),
         si = Tensor::empty(c);
  const LoopClock timer;
  for (auto _ : st) batchnorm2d_forward_train(context(), in, g, b, rm, rv, y, sm, si, {});
  report_bytes(st, timer, bytes_of({&in, &y}));
}
BENCHMARK(BM_BatchNormTrainForward)->Apply(batch_sizes)->Unit(benchmark::kMillisecond);

// Reads x, writes y.
void BM_ReluForward(benchmark::State& st) {
  Tensor x = filled(layer1(st), 1), y = Tensor::empty(layer1(st));
  const LoopClock timer;
  for (auto _ : st) relu_forward(context(), x, y);
  report_bytes(st, timer, bytes_of({&x, &y}));
}
BENCHMARK(BM_ReluForward)->Apply(batch_sizes);

// Reads y and dy, writes dx.
void BM_ReluBackward(benchmark::State& st) {
  Tensor y = filled(layer1(st), 1, 0.f, 1.f), dy = filled(layer1(st), 2),
         dx = Tensor::empty(layer1(st));
  const LoopClock timer;
  for (auto _ : st) relu_backward(context(), y, dy, dx, GradMode::Assign);
  report_bytes(st, timer, bytes_of({&y, &dy, &dx}));
}
BENCHMARK(BM_ReluBackward)->Apply(batch_sizes);

// The residual join: reads a and b, writes y.
void BM_AddForward(benchmark::State& st) {
  Tensor a = filled(layer1(st), 1), b = filled(layer1(st), 2), y = Tensor::empty(layer1(st));
  const LoopClock timer;
  for (auto _ : st) add_forward(context(), a, b, y);
  report_bytes(st, timer, bytes_of({&a, &b, &y}));
}
BENCHMARK(BM_AddForward)->Apply(batch_sizes);

// Reads dy, writes da and db.
void BM_AddBackward(benchmark::State& st) {
  Tensor dy = filled(layer1(st), 1), da = Tensor::empty(layer1(st)), db = Tensor::empty(layer1(st));
  const LoopClock timer;
  for (auto _ : st) add_backward(context(), dy, da, db, GradMode::Assign);
  report_bytes(st, timer, bytes_of({&dy, &da, &db}));
}
BENCHMARK(BM_AddBackward)->Apply(batch_sizes);

// Global average pooling of the last stage, (N, 512, 4, 4) -> (N, 512): reads x, writes y.
void BM_PoolForward(benchmark::State& st) {
  const Shape xs{st.range(0), 512, 4, 4}, ys{st.range(0), 512};
  Tensor x = filled(xs, 1), y = Tensor::empty(ys);
  const LoopClock timer;
  for (auto _ : st) global_avg_pool_forward(context(), x, y);
  report_bytes(st, timer, bytes_of({&x, &y}));
}
BENCHMARK(BM_PoolForward)->Apply(batch_sizes);

// Reads dy (N, 512), writes dx (N, 512, 4, 4).
void BM_PoolBackward(benchmark::State& st) {
  const Shape xs{st.range(0), 512, 4, 4}, ys{st.range(0), 512};
  Tensor dy = filled(ys, 1), dx = Tensor::empty(xs);
  const LoopClock timer;
  for (auto _ : st) global_avg_pool_backward(context(), dy, dx, GradMode::Assign);
  report_bytes(st, timer, bytes_of({&dy, &dx}));
}
BENCHMARK(BM_PoolBackward)->Apply(batch_sizes);

// The model's first op on CIFAR images (N, 3, 32, 32): reads x, writes y (mean, std: 3 each).
void BM_NormalizeForward(benchmark::State& st) {
  const Shape s{st.range(0), 3, 32, 32}, c{3};
  Tensor x = filled(s, 1, 0.f, 1.f), y = Tensor::empty(s), mean = filled(c, 2, 0.4f, 0.5f),
         stdev = filled(c, 3, 0.2f, 0.3f);
  const LoopClock timer;
  for (auto _ : st) normalize_forward(context(), x, mean, stdev, y);
  report_bytes(st, timer, bytes_of({&x, &y}));
}
BENCHMARK(BM_NormalizeForward)->Apply(batch_sizes);

// Reads x and dy, writes dx.
void BM_NormalizeBackward(benchmark::State& st) {
  const Shape s{st.range(0), 3, 32, 32}, c{3};
  Tensor x = filled(s, 1, 0.f, 1.f), dy = filled(s, 2), dx = Tensor::empty(s),
         stdev = filled(c, 3, 0.2f, 0.3f);
  const LoopClock timer;
  for (auto _ : st) normalize_backward(context(), x, dy, stdev, dx, GradMode::Assign);
  report_bytes(st, timer, bytes_of({&x, &dy, &dx}));
}
BENCHMARK(BM_NormalizeBackward)->Apply(batch_sizes);

// CIFAR logits (N, 10): reads logits and labels, writes losses and the mean.
void BM_CrossEntropyForward(benchmark::State& st) {
  const i64 n = st.range(0), k = 10;
  Tensor logits = filled(Shape{n, k}, 1, -5.f, 5.f), labels = labels_for(n, k, 2),
         losses = Tensor::empty(Shape{n}), mean = Tensor::empty(Shape{1});
  const LoopClock timer;
  for (auto _ : st) cross_entropy_forward(context(), logits, labels, losses, mean);
  report_bytes(st, timer, bytes_of({&logits, &labels, &losses, &mean}));
}
BENCHMARK(BM_CrossEntropyForward)->Apply(batch_sizes);

// Reads logits, labels and dlosses, writes dlogits.
void BM_CrossEntropyBackward(benchmark::State& st) {
  const i64 n = st.range(0), k = 10;
  Tensor logits = filled(Shape{n, k}, 1, -5.f, 5.f), labels = labels_for(n, k, 2),
         dlosses = filled(Shape{n}, 3, 0.f, 1.f), dlogits = Tensor::empty(Shape{n, k});
  const LoopClock timer;
  for (auto _ : st)
    cross_entropy_backward(context(), logits, labels, dlosses, dlogits, GradMode::Assign);
  report_bytes(st, timer, bytes_of({&logits, &labels, &dlosses, &dlogits}));
}
BENCHMARK(BM_CrossEntropyBackward)->Apply(batch_sizes);

// The classifier, 512 -> 10, with bias. FLOP/s = 2 x multiply-adds of the product; bytes/s
// counts x, w, b read and y written (forward), dy, w read and dx written (backward data), x, dy
// read and dw, db written (backward weight).
enum class LinearPass { Forward, BackwardData, BackwardWeight };
void BM_Linear(benchmark::State& st, LinearPass pass) {
  const i64 n = st.range(0), in = 512, out = 10;
  Tensor x = filled(Shape{n, in}, 1), w = filled(Shape{out, in}, 2), b = filled(Shape{out}, 3);
  Tensor y = Tensor::empty(Shape{n, out}), dy = filled(Shape{n, out}, 4);
  Tensor dx = Tensor::empty(Shape{n, in}), dw = Tensor::empty(Shape{out, in}),
         db = Tensor::empty(Shape{out});
  i64 bytes = 0;
  const LoopClock timer;
  for (auto _ : st) {
    switch (pass) {
      case LinearPass::Forward:
        linear_forward(context(), x, w, b, y);
        break;
      case LinearPass::BackwardData:
        linear_backward_data(context(), dy, w, dx, GradMode::Assign);
        break;
      case LinearPass::BackwardWeight:
        linear_backward_weight(context(), x, dy, dw, db, GradMode::Assign);
        break;
    }
  }
  switch (pass) {
    case LinearPass::Forward:
      bytes = bytes_of({&x, &w, &b, &y});
      break;
    case LinearPass::BackwardData:
      bytes = bytes_of({&dy, &w, &dx});
      break;
    case LinearPass::BackwardWeight:
      bytes = bytes_of({&x, &dy, &dw, &db});
      break;
  }
  report_flops(st, 2.0 * static_cast<double>(n * in * out));
  report_bytes(st, timer, bytes);
}
BENCHMARK_CAPTURE(BM_Linear, forward, LinearPass::Forward)->Apply(batch_sizes);
BENCHMARK_CAPTURE(BM_Linear, backward_data, LinearPass::BackwardData)->Apply(batch_sizes);
BENCHMARK_CAPTURE(BM_Linear, backward_weight, LinearPass::BackwardWeight)->Apply(batch_sizes);

// One PGD iteration's update on a batch of CIFAR images: reads x, g, x0, writes x (in place).
void BM_PgdUpdate(benchmark::State& st) {
  const bool l2 = st.range(1) != 0;
  const Shape s{st.range(0), 3, 32, 32};
  Tensor x0 = filled(s, 1, 0.f, 1.f), g = filled(s, 2), x = filled(s, 3, 0.f, 1.f);
  const LoopClock timer;
  for (auto _ : st) {
    if (l2) {
      pgd_update_l2(context(), x, g, x0, 0.1, 0.5, x);
    } else {
      pgd_update_linf(context(), x, g, x0, 2.0 / 255, 8.0 / 255, x);
    }
  }
  report_bytes(st, timer, 4 * static_cast<i64>(x.nbytes()));
  st.SetLabel(l2 ? "L2" : "Linf");
}
BENCHMARK(BM_PgdUpdate)->ArgsProduct({{10, 128, 512}, {0, 1}})->UseRealTime();

// The optimizer over all of ResNet-18's 11.17 M parameters: reads params, grads and the
// momentum buffer, writes params and the momentum buffer.
void BM_SgdStep(benchmark::State& st) {
  const Shape s{11173962};
  Tensor p = filled(s, 1), g = filled(s, 2), buf = filled(s, 3);
  const LoopClock timer;
  for (auto _ : st) sgd_step(context(), p, g, buf, {});
  report_bytes(st, timer, 5 * static_cast<i64>(p.nbytes()));
}
BENCHMARK(BM_SgdStep)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace rp

BENCHMARK_MAIN();
