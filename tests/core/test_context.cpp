#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "engine/core/context.h"
#include "engine/core/cuda_runtime.h"
#include "engine/core/error.h"

namespace rp {
namespace {

TEST(Context, DefaultsToTheCpuWithAllThreads) {
  Context ctx;
  EXPECT_EQ(ctx.device(), Device::cpu());
  EXPECT_GE(ctx.threads(), 1);
  EXPECT_EQ(ctx.seed(), 0u);
}

TEST(Context, ThreadsFromTheEnvironmentAreValidated) {
  ::setenv("ROBUSTPRIOR_THREADS", "3", 1);
  EXPECT_EQ(Context().threads(), 3);
  for (const char* bad : {"0", "-2", "two", "3x", ""}) {
    ::setenv("ROBUSTPRIOR_THREADS", bad, 1);
    EXPECT_THROW(Context{}, Error) << bad;
  }
  ::unsetenv("ROBUSTPRIOR_THREADS");
  EXPECT_EQ(Context(ContextOptions{Device::cpu(), 0, 5}).threads(), 5);
  EXPECT_THROW(Context(ContextOptions{Device::cpu(), 0, -1}), Error);
}

TEST(Context, RngStreamsCarryTheSeed) {
  Context ctx(ContextOptions{Device::cpu(), 77, 1});
  const RngStream s = ctx.rng(5);
  EXPECT_EQ(s.seed, 77u);
  EXPECT_EQ(s.stream, 5u);
}

TEST(Context, WorkspaceGrowsAndIsReusedOtherwise) {
  Context ctx;
  EXPECT_EQ(ctx.workspace_bytes(), 0u);
  void* a = ctx.workspace(1000);
  EXPECT_NE(a, nullptr);
  EXPECT_GE(ctx.workspace_bytes(), 1000u);
  EXPECT_EQ(ctx.workspace(10), a);  // smaller: no reallocation
  ctx.reserve_workspace(1 << 20);
  EXPECT_GE(ctx.workspace_bytes(), static_cast<std::size_t>(1 << 20));
}

TEST(Context, FrozenAllocationsThrowInsteadOfGrowing) {
  Context ctx;
  ctx.reserve_workspace(4096);
  ctx.freeze_allocations(true);
  EXPECT_NO_THROW(ctx.workspace(4096));
  EXPECT_THROW(ctx.workspace(8192), Error);
  ctx.freeze_allocations(false);
  EXPECT_NO_THROW(ctx.workspace(8192));
}

TEST(Context, CopyIsOrderedOnTheContext) {
  Context ctx;
  Tensor src = Tensor::from_vector(std::vector<float>{1, 2, 3}, Shape{3});
  Tensor dst = Tensor::zeros(Shape{3});
  ctx.copy(dst, src);
  EXPECT_EQ(dst.to_vector<float>(), src.to_vector<float>());
  EXPECT_THROW(ctx.copy(Tensor::zeros(Shape{4}), src), Error);
}

TEST(Context, CudaHandlesOnlyOnCudaContexts) {
  Context ctx;
  EXPECT_THROW(ctx.cuda(), Error);
  EXPECT_NO_THROW(ctx.synchronize());
}

TEST(Context, CudaContextWithoutAGpuSaysWhy) {
  if (cuda_available()) GTEST_SKIP() << "a CUDA device is present; this checks the no-GPU path";
  try {
    Context ctx(ContextOptions{Device::cuda(0), 0, 1});
    FAIL() << "expected rp::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cuda:0 requested but"), std::string::npos) << e.what();
  }
}

TEST(Context, CudaContextOnAGpuCreatesHandles) {
  if (!cuda_available()) {
    GTEST_SKIP() << "no usable CUDA device: " << cuda_runtime_info().why_none;
  }
  Context ctx(ContextOptions{Device::cuda(0), 0, 1});
  EXPECT_NO_THROW(ctx.cuda());
  EXPECT_NO_THROW(ctx.synchronize());
  void* ws = ctx.workspace(4096);
  EXPECT_NE(ws, nullptr);
}

TEST(CudaRuntimeInfo, ExplainsAnEmptyDeviceList) {
  const CudaRuntimeInfo info = cuda_runtime_info();
  if (info.devices.empty()) {
    EXPECT_FALSE(info.why_none.empty());
  } else {
    EXPECT_TRUE(info.compiled);
    EXPECT_FALSE(info.devices[0].name.empty());
  }
}

}  // namespace
}  // namespace rp
