// Ordering of copies and fills with the kernels of a context's stream. Each test hands a kernel
// data that a copy or fill has just produced, many times over, with buffers large enough
// (32 MiB and a bit: more than two of the 4 MiB staging buffers, and a short last one) that a
// copy still in flight when the kernel starts would be caught: with copies on
// the legacy default stream and kernels on the context's non-blocking stream, the kernel could
// read memory the copy had not written yet. Expected values are computed on the host from the
// host data, never by the GPU. Skipped, with the reason, where no GPU is present.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "engine/core/context.h"
#include "engine/ops/elementwise.h"
#include "tests/support/test_support.h"

namespace rp {
namespace {

constexpr std::int64_t kElements = (std::int64_t{8} << 20) + 12345;  // f32
constexpr int kRounds = 12;

// Round r's data: distinct in every round and element, exactly representable.
std::vector<float> pattern(int round, float scale) {
  std::vector<float> v(static_cast<std::size_t>(kElements));
  for (std::size_t i = 0; i < v.size(); ++i) {
    v[i] = scale * static_cast<float>((i * 7 + static_cast<std::size_t>(round) * 131) % 4093);
  }
  return v;
}

// The first mismatch of got against a + b, or "" when all match.
std::string first_mismatch(const std::vector<float>& got, const std::vector<float>& a,
                           const std::vector<float>& b) {
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (got[i] != a[i] + b[i]) {
      return "element " + std::to_string(i) + ": " + std::to_string(got[i]) + ", expected " +
             std::to_string(a[i] + b[i]);
    }
  }
  return "";
}

Context& gpu() {
  return test::gpu_context();
}

TEST(CudaOrdering, ContextFreeUploadsAreSeenByTheNextKernel) {
  RP_SKIP_WITHOUT_GPU();
  const Shape s{kElements};
  const Tensor y = Tensor::empty(s, DType::F32, Device::cuda(0));
  for (int r = 0; r < kRounds; ++r) {
    const std::vector<float> a = pattern(r, 1.0f), b = pattern(r + 1, 0.5f);
    const Tensor ga = Tensor::from_vector(a, s, Device::cuda(0));
    const Tensor gb = Tensor::from_vector(b, s, Device::cuda(0));
    add_forward(gpu(), ga, gb, y);
    const std::string bad = first_mismatch(y.to_vector<float>(), a, b);
    EXPECT_EQ(bad, "") << "round " << r;
  }
}

TEST(CudaOrdering, StagedUploadsFreeTheSourceAndFeedTheNextKernel) {
  RP_SKIP_WITHOUT_GPU();
  const Shape s{kElements};
  const Tensor ga = Tensor::empty(s, DType::F32, Device::cuda(0));
  const Tensor gb = Tensor::empty(s, DType::F32, Device::cuda(0));
  const Tensor y = Tensor::empty(s, DType::F32, Device::cuda(0));
  std::vector<float> host_a, host_b;  // reused: overwritten right after each copy returns
  std::vector<float> out(static_cast<std::size_t>(kElements));
  const Tensor host_out = Tensor::wrap(out.data(), s, DType::F32, Device::cpu());
  for (int r = 0; r < kRounds; ++r) {
    const std::vector<float> a = pattern(r, 1.0f), b = pattern(r + 3, 0.25f);
    host_a = a;
    host_b = b;
    gpu().copy(ga, Tensor::wrap(host_a.data(), s, DType::F32, Device::cpu()));
    gpu().copy(gb, Tensor::wrap(host_b.data(), s, DType::F32, Device::cpu()));
    host_a.assign(host_a.size(), -1.0f);  // the copies must have read the sources already
    host_b.assign(host_b.size(), -1.0f);
    add_forward(gpu(), ga, gb, y);
    gpu().copy(host_out, y);  // waits: the host reads out next
    EXPECT_EQ(first_mismatch(out, a, b), "") << "round " << r;
  }
}

TEST(CudaOrdering, DeviceCopiesAndFillsAreOrderedWithKernels) {
  RP_SKIP_WITHOUT_GPU();
  const Shape s{kElements};
  const Tensor src = Tensor::empty(s, DType::F32, Device::cuda(0));
  const Tensor dst = Tensor::empty(s, DType::F32, Device::cuda(0));
  const Tensor y = Tensor::empty(s, DType::F32, Device::cuda(0));
  const std::vector<float> zeros(static_cast<std::size_t>(kElements), 0.0f);
  for (int r = 0; r < kRounds; ++r) {
    const std::vector<float> a = pattern(r, 2.0f), b = pattern(r + 5, 1.0f);
    src.copy_from(Tensor::wrap(const_cast<float*>(a.data()), s, DType::F32, Device::cpu()));
    fill(gpu(), dst, 3.0);  // queued before the copy that must overwrite it
    gpu().copy(dst, src);   // device to device on the stream
    add_forward(gpu(), dst, Tensor::from_vector(b, s, Device::cuda(0)), y);
    EXPECT_EQ(first_mismatch(y.to_vector<float>(), a, b), "") << "copy, round " << r;

    fill(gpu(), dst, 5.0);
    gpu().zero(dst);  // queued after the fill: the sum must see zeros
    add_forward(gpu(), dst, src, y);
    EXPECT_EQ(first_mismatch(y.to_vector<float>(), zeros, a), "") << "zero, round " << r;

    const Tensor fresh = Tensor::zeros(s, DType::F32, Device::cuda(0));  // context-free fill
    add_forward(gpu(), fresh, src, y);
    EXPECT_EQ(first_mismatch(y.to_vector<float>(), zeros, a), "") << "zeros(), round " << r;
  }
}

TEST(CudaOrdering, ContextCopiesRefuseTensorsOfAnotherDevice) {
  Context cpu(ContextOptions{Device::cpu(), 0, 1});
  const Tensor a = Tensor::zeros(Shape{4});
  EXPECT_NO_THROW(cpu.zero(a));
  RP_SKIP_WITHOUT_GPU();
  const Tensor g = Tensor::zeros(Shape{4}, DType::F32, Device::cuda(0));
  EXPECT_THROW(cpu.copy(a, g), Error);
  EXPECT_THROW(cpu.zero(g), Error);
  EXPECT_THROW(gpu().zero(a), Error);
}

}  // namespace
}  // namespace rp
