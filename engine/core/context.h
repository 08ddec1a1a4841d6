// Context: where ops run and with what. One per device and thread of control; ops take it as
// their first argument.
//
//   device    the CPU or a CUDA device; every tensor an op touches must live there
//   seed      the root of every random draw (see philox.h): rng(stream) names a draw
//   threads   CPU threads the reference kernels may use (0 at construction: all hardware
//             threads, or ROBUSTPRIOR_THREADS from the environment)
//   workspace scratch device memory shared by all ops, grown on demand; callers that must not
//             allocate inside a loop reserve the largest size up front
//   cuda()    stream and cuBLAS/cuDNN handles, created on first use (CUDA devices only)
//   freeze    while allocations are frozen, anything that would allocate (workspace growth,
//             creating the CUDA handles) throws instead: a loop that runs frozen is known to
//             be capturable as a CUDA graph
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "engine/core/cuda_runtime.h"
#include "engine/core/device.h"
#include "engine/core/philox.h"
#include "engine/core/tensor.h"

namespace rp {

struct ContextOptions {
  Device device = Device::cpu();
  std::uint64_t seed = 0;
  int threads = 0;  // 0: default (see above)
};

class Context {
 public:
  explicit Context(ContextOptions options = {});
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  Device device() const { return device_; }
  std::uint64_t seed() const { return seed_; }
  int threads() const { return threads_; }
  RngStream rng(std::uint64_t stream) const { return RngStream{seed_, stream, 0}; }

  // At least `bytes` of scratch memory on the context's device, valid until the next call.
  void* workspace(std::size_t bytes);
  void reserve_workspace(std::size_t bytes) { workspace(bytes); }
  std::size_t workspace_bytes() const { return workspace_.nbytes(); }

  CudaHandles& cuda();  // throws rp::Error on a CPU context or a build without CUDA
  void synchronize();   // waits for queued GPU work; no-op on the CPU
  // dst = src, ordered on this context's stream without host synchronization (plain memcpy on
  // the CPU). Before the host reads a CPU destination of a GPU source, synchronize().
  void copy(const Tensor& dst, const Tensor& src);

  void freeze_allocations(bool frozen) { frozen_ = frozen; }
  bool allocations_frozen() const { return frozen_; }

  static int default_threads();

 private:
  struct CudaHandlesDeleter {
    void operator()(CudaHandles* h) const noexcept { cuda_handles_destroy(h); }
  };

  Device device_;
  std::uint64_t seed_;
  int threads_;
  Tensor workspace_;
  std::unique_ptr<CudaHandles, CudaHandlesDeleter> cuda_;
  bool frozen_ = false;
};

}  // namespace rp
