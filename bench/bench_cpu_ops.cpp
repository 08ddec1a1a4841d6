// CPU reference ops on the shapes of a CIFAR ResNet-18: how fast the ground truth is, and
// what a CPU-only run (tests, the demo) can afford. Convolutions report FLOP/s (2 x
// multiply-adds); memory-bound ops report bytes/s. Threads: ROBUSTPRIOR_THREADS or all.
//
//   build/release/bin/bench_cpu_ops --benchmark_filter=Conv
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>

#include "engine/core/context.h"
#include "engine/ops/batchnorm.h"
#include "engine/ops/conv2d.h"
#include "engine/ops/perturb.h"
#include "engine/ops/sgd.h"
#include "kernels/conv2d_geometry.h"

namespace rp {
namespace {

Context& context() {
  static Context ctx(ContextOptions{Device::cpu(), 0, 0});
  return ctx;
}

Tensor filled(const Shape& s, std::uint64_t seed, float lo = -1.f, float hi = 1.f) {
  Tensor t = Tensor::empty(s);
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  float* p = t.data<float>();
  for (std::int64_t i = 0; i < t.numel(); ++i) p[i] = dist(gen);
  return t;
}

// Args: batch, C_in, H(=W), C_out, kernel, stride.
struct ConvArgs {
  Shape x, w, y;
  Conv2dParams p;
  double flops;
};
ConvArgs conv_args(const benchmark::State& st) {
  const std::int64_t n = st.range(0), c = st.range(1), h = st.range(2), k = st.range(3);
  const std::int64_t kernel = st.range(4), stride = st.range(5), pad = kernel / 2;
  const Conv2dParams p = Conv2dParams::square(stride, pad);
  const Shape x{n, c, h, h}, w{k, c, kernel, kernel};
  const Shape y = conv2d_output_shape(x, w, p);
  return {x, w, y, p, 2.0 * static_cast<double>(y.numel() * c * kernel * kernel)};
}

void report_flops(benchmark::State& st, double flops_per_iter) {
  st.counters["FLOP/s"] = benchmark::Counter(flops_per_iter * static_cast<double>(st.iterations()),
                                             benchmark::Counter::kIsRate);
}

void BM_Conv2dForward(benchmark::State& st) {
  const ConvArgs a = conv_args(st);
  Tensor x = filled(a.x, 1), w = filled(a.w, 2), y = Tensor::empty(a.y);
  for (auto _ : st) conv2d_forward(context(), x, w, y, a.p);
  report_flops(st, a.flops);
}

void BM_Conv2dBackwardData(benchmark::State& st) {
  const ConvArgs a = conv_args(st);
  Tensor dy = filled(a.y, 1), w = filled(a.w, 2), dx = Tensor::empty(a.x);
  for (auto _ : st) conv2d_backward_data(context(), dy, w, dx, a.p, GradMode::Assign);
  report_flops(st, a.flops);
}

void BM_Conv2dBackwardFilter(benchmark::State& st) {
  const ConvArgs a = conv_args(st);
  Tensor x = filled(a.x, 1), dy = filled(a.y, 2), dw = Tensor::empty(a.w);
  for (auto _ : st) conv2d_backward_filter(context(), x, dy, dw, a.p, GradMode::Assign);
  report_flops(st, a.flops);
}

// ResNet-18 on CIFAR at batch 8: stem, layer1, layer2 entry (stride 2), its 1x1 shortcut, layer4.
void resnet18_shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"N", "Cin", "H", "Cout", "k", "s"});
  b->Args({8, 3, 32, 64, 3, 1});
  b->Args({8, 64, 32, 64, 3, 1});
  b->Args({8, 64, 32, 128, 3, 2});
  b->Args({8, 64, 32, 128, 1, 2});
  b->Args({8, 512, 4, 512, 3, 1});
  b->Unit(benchmark::kMillisecond)->UseRealTime();
}
BENCHMARK(BM_Conv2dForward)->Apply(resnet18_shapes);
BENCHMARK(BM_Conv2dBackwardData)->Apply(resnet18_shapes);
BENCHMARK(BM_Conv2dBackwardFilter)->Apply(resnet18_shapes);

void BM_BatchNormTrainForward(benchmark::State& st) {
  const Shape x{st.range(0), 64, 32, 32}, c{64};
  Tensor in = filled(x, 1), y = Tensor::empty(x), g = filled(c, 2), b = filled(c, 3);
  Tensor rm = filled(c, 4), rv = filled(c, 5, 0.5f, 1.5f), sm = Tensor::empty(c),
         si = Tensor::empty(c);
  for (auto _ : st) batchnorm2d_forward_train(context(), in, g, b, rm, rv, y, sm, si, {});
  st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations()) * 2 *
                       static_cast<std::int64_t>(in.nbytes()));
}
BENCHMARK(BM_BatchNormTrainForward)->Arg(8)->Arg(128)->Unit(benchmark::kMillisecond)->UseRealTime();

// One PGD iteration's update on a batch of CIFAR images (reads x, g, x0; writes x).
void BM_PgdUpdate(benchmark::State& st) {
  const bool l2 = st.range(1) != 0;
  const Shape s{st.range(0), 3, 32, 32};
  Tensor x0 = filled(s, 1, 0.f, 1.f), g = filled(s, 2), x = filled(s, 3, 0.f, 1.f);
  for (auto _ : st) {
    if (l2) {
      pgd_update_l2(context(), x, g, x0, 0.1, 0.5, x);
    } else {
      pgd_update_linf(context(), x, g, x0, 2.0 / 255, 8.0 / 255, x);
    }
  }
  st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations()) * 4 *
                       static_cast<std::int64_t>(x.nbytes()));
  st.SetLabel(l2 ? "L2" : "Linf");
}
BENCHMARK(BM_PgdUpdate)->ArgsProduct({{10, 128, 512}, {0, 1}})->UseRealTime();

// The optimizer over all of ResNet-18's 11.17 M parameters.
void BM_SgdStep(benchmark::State& st) {
  const Shape s{11173962};
  Tensor p = filled(s, 1), g = filled(s, 2), buf = filled(s, 3);
  for (auto _ : st) sgd_step(context(), p, g, buf, {});
  st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations()) * 5 *
                       static_cast<std::int64_t>(p.nbytes()));
}
BENCHMARK(BM_SgdStep)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace rp

BENCHMARK_MAIN();
