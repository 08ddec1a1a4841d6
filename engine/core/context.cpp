#include "engine/core/context.h"

#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "engine/core/error.h"

namespace rp {

int Context::default_threads() {
  if (const char* env = std::getenv("ROBUSTPRIOR_THREADS")) {
    char* end = nullptr;
    const long n = std::strtol(env, &end, 10);
    RP_CHECK(end != env && *end == '\0' && n >= 1 && n <= 4096, "Context",
             "ROBUSTPRIOR_THREADS must be an integer in [1, 4096], found '" << env << "'");
    return static_cast<int>(n);
  }
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}

Context::Context(ContextOptions options)
    : device_(options.device),
      seed_(options.seed),
      threads_(options.threads == 0 ? default_threads() : options.threads),
      tf32_(options.tf32) {
  RP_CHECK(
      options.threads >= 0 && options.threads <= kMaxThreads, "Context",
      "threads must be in [0, " << kMaxThreads << "] (0: all cores), found " << options.threads);
  if (device_.is_cuda()) {
    const CudaRuntimeInfo info = cuda_runtime_info();
    RP_CHECK(!info.devices.empty(), "Context",
             "device " << device_ << " requested but " << info.why_none);
    RP_CHECK(device_.index >= 0 && device_.index < static_cast<int>(info.devices.size()), "Context",
             "device " << device_ << " requested but only " << info.devices.size()
                       << " CUDA device(s) are visible");
  }
}

Context::~Context() = default;

void* Context::workspace(std::size_t bytes) {
  if (bytes > workspace_.nbytes()) {
    RP_CHECK(!frozen_, "Context::workspace",
             "the workspace would grow from " << workspace_.nbytes() << " to " << bytes
                                              << " bytes while allocations are frozen; reserve "
                                                 "it before the loop");
    workspace_ = Tensor();  // release first: peak memory stays at the new size
    workspace_ = Tensor::empty(Shape{static_cast<std::int64_t>(bytes)}, DType::U8, device_);
  }
  return workspace_.raw_data();
}

CudaHandles& Context::cuda() {
  RP_CHECK(device_.is_cuda(), "Context::cuda", "this context runs on " << device_);
  if (!cuda_) {
    RP_CHECK(!frozen_, "Context::cuda", "creating CUDA handles while allocations are frozen");
    cuda_.reset(cuda_handles_create(device_.index));
  }
  return *cuda_;
}

void Context::synchronize() {
  if (cuda_) cuda_handles_synchronize(cuda_.get());
}

namespace {

// A tensor an op on `ctx` may touch: on the CPU, or on the context's own CUDA device.
void check_reachable(const char* op, Device ctx_device, const Tensor& t, const char* name) {
  RP_CHECK(t.device().is_cpu() || t.device() == ctx_device, op,
           name << " " << t.str() << " is on neither the CPU nor this context's " << ctx_device);
}

}  // namespace

void Context::copy(const Tensor& dst, const Tensor& src) {
  RP_CHECK(dst.defined() && src.defined() && dst.shape() == src.shape() &&
               dst.dtype() == src.dtype() && dst.layout() == src.layout(),
           "Context::copy", "destination " << dst.str() << " differs from source " << src.str());
  if (dst.same_memory(src)) return;
  RP_CHECK(!dst.overlaps(src), "Context::copy", "source and destination partially overlap");
  if (dst.device().is_cpu() && src.device().is_cpu()) {
    dst.copy_from(src);
    return;
  }
  RP_CHECK(device_.is_cuda(), "Context::copy",
           "a copy involving " << dst.device() << " and " << src.device() << " on a " << device_
                               << " context");
  check_reachable("Context::copy", device_, dst, "destination");
  check_reachable("Context::copy", device_, src, "source");
  if (dst.device().is_cpu()) {
    cuda_download(&cuda(), dst.raw_data(), src.raw_data(), dst.nbytes());
  } else if (src.device().is_cpu()) {
    cuda_upload(&cuda(), dst.raw_data(), src.raw_data(), dst.nbytes());
  } else {
    cuda_copy_async(&cuda(), dst.raw_data(), src.raw_data(), dst.nbytes());
  }
}

void Context::zero(const Tensor& t) {
  RP_CHECK(t.defined(), "Context::zero", "undefined tensor");
  RP_CHECK(t.device() == device_, "Context::zero",
           t.str() << " is not on this context's " << device_);
  if (device_.is_cpu()) {
    if (t.nbytes() > 0) std::memset(t.raw_data(), 0, t.nbytes());
  } else {
    cuda_zero_async(&cuda(), t.raw_data(), t.nbytes());
  }
}

}  // namespace rp
