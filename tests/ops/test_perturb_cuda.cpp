// The CUDA perturbation kernels against the CPU reference, on fresh random inputs, outputs
// poisoned with NaN first: bit for bit for the Linf step, the Linf projection and update and
// the Linf random start; within 1e-6 relative for the L2 ones, whose per-example sums run in
// another order. Per-example sizes below, at, above and a multiple of the vector width (4
// floats, 2 doubles), odd, one-pixel and CIFAR-sized; batches that start off the 16-byte
// alignment (a row slice of an odd-sized batch) take the scalar path; in place where the API
// allows. Skipped, with the reason, where no GPU is present.
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "engine/core/cuda_runtime.h"
#include "engine/ops/perturb.h"
#include "tests/support/test_support.h"

namespace rp {
namespace {

Context& gpu() {
  return test::gpu_context();
}

// (examples, values per example): d = 1, 3, 4, 5, 8, 17, 3072 (CIFAR) and 3073.
const std::pair<std::int64_t, std::int64_t> kSizes[] = {
    {1, 1}, {3, 3}, {2, 4}, {4, 5}, {3, 8}, {5, 17}, {2, 3072}, {3, 3073}, {129, 12}};

Tensor on_gpu(const Tensor& t) {
  return t.to(Device::cuda(0));
}
Tensor poisoned_gpu(const Shape& s, DType dt) {
  return on_gpu(test::poisoned(s, dt));
}

struct Inputs {
  Tensor x, g, x0;  // CPU
};

Inputs inputs(const Shape& s, DType dt, std::uint64_t seed) {
  Inputs in{test::random_tensor(s, dt, seed, 0, 1), test::random_tensor(s, dt, seed + 1),
            test::random_tensor(s, dt, seed + 2, 0, 1)};
  for (std::int64_t i = 0; i < in.g.numel(); i += 5) test::set_value(in.g, i, 0.0);  // sign(0)
  return in;
}

// Runs `op` on the CPU and on the GPU (inputs copied), compares every element.
void compare(const std::string& what, DType dt, bool exact,
             const std::function<void(Context&, const Tensor&, const Tensor&, const Tensor&,
                                      const Tensor&)>& op) {
  std::uint64_t seed = 100;
  for (const auto& [n, d] : kSizes) {
    const Shape s{n, d};
    const Inputs in = inputs(s, dt, seed += 10);
    const Tensor cpu_out = test::poisoned(s, dt);
    op(test::cpu_context(), in.x, in.g, in.x0, cpu_out);
    const Tensor gpu_out = poisoned_gpu(s, dt);
    op(gpu(), on_gpu(in.x), on_gpu(in.g), on_gpu(in.x0), gpu_out);
    const Tensor back = gpu_out.to(Device::cpu());
    test::expect_all_finite(back, what + " (fully written)");
    const std::string where =
        what + " " + dtype_name(dt) + " (" + std::to_string(n) + ", " + std::to_string(d) + ")";
    if (exact) {
      test::expect_equal_exact(back, cpu_out, where);
    } else {
      test::expect_close(back, cpu_out, 1e-6, 1e-7, where);
    }
  }
}

const double kAlpha = 0.01, kEps = 0.03;

TEST(PerturbCuda, LinfStepIsBitExact) {
  RP_SKIP_WITHOUT_GPU();
  for (DType dt : {DType::F32, DType::F64}) {
    compare("pgd_step_linf", dt, true,
            [](Context& c, const Tensor& x, const Tensor& g, const Tensor&, const Tensor& out) {
              pgd_step_linf(c, x, g, kAlpha, out);
            });
  }
}

TEST(PerturbCuda, LinfProjectionAndUpdateAreBitExact) {
  RP_SKIP_WITHOUT_GPU();
  for (DType dt : {DType::F32, DType::F64}) {
    compare("project_linf", dt, true,
            [](Context& c, const Tensor& x, const Tensor&, const Tensor& x0, const Tensor& out) {
              project_linf(c, x, x0, kEps, out);
            });
    compare("pgd_update_linf", dt, true,
            [](Context& c, const Tensor& x, const Tensor& g, const Tensor& x0, const Tensor& out) {
              pgd_update_linf(c, x, g, x0, kAlpha, kEps, out);
            });
    compare("pgd_update_linf descending", dt, true,
            [](Context& c, const Tensor& x, const Tensor& g, const Tensor& x0, const Tensor& out) {
              pgd_update_linf(c, x, g, x0, -kAlpha, kEps, out);
            });
  }
}

TEST(PerturbCuda, L2StepProjectionAndUpdateMatchTheReference) {
  RP_SKIP_WITHOUT_GPU();
  for (DType dt : {DType::F32, DType::F64}) {
    compare("pgd_step_l2", dt, false,
            [](Context& c, const Tensor& x, const Tensor& g, const Tensor&, const Tensor& out) {
              pgd_step_l2(c, x, g, 0.5, out);
            });
    compare("project_l2", dt, false,
            [](Context& c, const Tensor& x, const Tensor&, const Tensor& x0, const Tensor& out) {
              project_l2(c, x, x0, 0.5, out);
            });
    compare("pgd_update_l2", dt, false,
            [](Context& c, const Tensor& x, const Tensor& g, const Tensor& x0, const Tensor& out) {
              pgd_update_l2(c, x, g, x0, 0.3, 0.5, out);
            });
    compare("pgd_update_l2 huge eps", dt, false,
            [](Context& c, const Tensor& x, const Tensor& g, const Tensor& x0, const Tensor& out) {
              pgd_update_l2(c, x, g, x0, 1.0, 1000, out);
            });
  }
}

TEST(PerturbCuda, RandomStartsDrawTheReferencesNumbers) {
  RP_SKIP_WITHOUT_GPU();
  const RngStream rng{42, 7, 1000};
  for (DType dt : {DType::F32, DType::F64}) {
    compare("random_start_linf", dt, true,
            [&](Context& c, const Tensor&, const Tensor&, const Tensor& x0, const Tensor& out) {
              random_start_linf(c, x0, kEps, rng, out);
            });
    compare("random_start_l2", dt, false,
            [&](Context& c, const Tensor&, const Tensor&, const Tensor& x0, const Tensor& out) {
              random_start_l2(c, x0, 0.5, rng, out);
            });
  }
}

TEST(PerturbCuda, PerExampleNormsMatchTheReference) {
  RP_SKIP_WITHOUT_GPU();
  for (DType dt : {DType::F32, DType::F64}) {
    for (const auto& [n, d] : kSizes) {
      const Tensor x = test::random_tensor(Shape{n, d}, dt, static_cast<std::uint64_t>(n * d));
      const Tensor cpu_norms = test::poisoned(Shape{n}, dt);
      l2_norm_per_example(test::cpu_context(), x, cpu_norms);
      const Tensor gpu_norms = poisoned_gpu(Shape{n}, dt);
      l2_norm_per_example(gpu(), on_gpu(x), gpu_norms);
      test::expect_close(gpu_norms.to(Device::cpu()), cpu_norms, 1e-6, 0, "l2_norm_per_example");
    }
  }
}

// In place (out = x), and on a batch whose rows start off the 16-byte alignment.
TEST(PerturbCuda, InPlaceAndUnalignedBatches) {
  RP_SKIP_WITHOUT_GPU();
  const Shape s{5, 7};
  const Inputs in = inputs(s, DType::F32, 9);
  for (bool l2 : {false, true}) {
    const Tensor expected = test::clone(in.x);
    if (l2) {
      pgd_update_l2(test::cpu_context(), expected, in.g, in.x0, 0.2, 0.4, expected);
    } else {
      pgd_update_linf(test::cpu_context(), expected, in.g, in.x0, kAlpha, kEps, expected);
    }
    const Tensor x = on_gpu(in.x), g = on_gpu(in.g), x0 = on_gpu(in.x0);
    if (l2) {
      pgd_update_l2(gpu(), x, g, x0, 0.2, 0.4, x);
    } else {
      pgd_update_linf(gpu(), x, g, x0, kAlpha, kEps, x);
    }
    test::expect_close(x.to(Device::cpu()), expected, l2 ? 1e-6 : 0.0, 0.0, "in place");
    // Rows 1..4: 7 floats past the allocation's start, off the 16-byte alignment.
    const Tensor rows = test::poisoned(Shape{4, 7}, DType::F32);
    pgd_update_linf(test::cpu_context(), in.x.slice(1, 5), in.g.slice(1, 5), in.x0.slice(1, 5),
                    kAlpha, kEps, rows);
    const Tensor out = poisoned_gpu(Shape{5, 7}, DType::F32);
    const Tensor xs = on_gpu(in.x), gs = on_gpu(in.g), x0s = on_gpu(in.x0);
    pgd_update_linf(gpu(), xs.slice(1, 5), gs.slice(1, 5), x0s.slice(1, 5), kAlpha, kEps,
                    out.slice(1, 5));
    test::expect_equal_exact(out.slice(1, 5).to(Device::cpu()), rows, "unaligned rows");
  }
}

}  // namespace
}  // namespace rp
