// Context: where ops run and with what. One per device and thread of control; ops take it as
// their first argument.
//
//   device    the CPU or a CUDA device; every tensor an op touches must live there
//   seed      the root of every random draw (see philox.h): rng(stream) names a draw
//   threads   CPU threads the reference kernels may use (0 at construction: all hardware
//             threads, or ROBUSTPRIOR_THREADS from the environment)
//   tf32      whether cuDNN convolutions may use TF32 tensor cores (see ContextOptions)
//   workspace scratch device memory shared by all ops, grown on demand; callers that must not
//             allocate inside a loop reserve the largest size up front
//   cuda()    stream and cuBLAS/cuDNN handles, created on first use (CUDA devices only)
//   freeze    while allocations are frozen, anything that would allocate (workspace growth,
//             creating the CUDA handles, building a convolution plan) throws instead: a loop
//             that runs frozen is known to be capturable as a CUDA graph
//
// What is ordered with what on a CUDA context:
//   - Every op, and copy() / zero() below, is queued on the context's one stream, in call
//     order: each sees the results of the ones before it. None waits for the GPU, except
//     copy() into host memory (the host reads the result there).
//   - copy() from host memory returns once the source has been read into pinned staging
//     buffers: the caller may overwrite or free it at once.
//   - The context-free Tensor copies (copy_from, to, to_vector, from_vector, zeros)
//     synchronize the whole device before and after: correct with any stream, for API
//     boundaries only (never inside a training step, an attack or an experiment iteration).
//   - synchronize() waits for everything queued on the stream; the host needs it only before
//     reading memory it did not download with copy().
//   - Two contexts' streams are not ordered with each other: hand data across with a
//     context-free copy or synchronize() the producer first.
//   - Releasing device memory (a tensor's last handle, the workspace growing) relies on
//     cudaFree waiting for the device's queued work, so memory may be released right after
//     the op that reads it is queued. A stream-ordered or caching allocator must keep that
//     promise (free on the stream, or synchronize it first).
//   - One device per process is what has run; the stream-ordered calls select their
//     context's device, the kernel launchers do not yet (several GPUs in one process need a
//     device guard at the dispatch seam).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "engine/core/cuda_runtime.h"
#include "engine/core/device.h"
#include "engine/core/philox.h"
#include "engine/core/tensor.h"

namespace rp {

class Profiler;

struct ContextOptions {
  Device device = Device::cpu();
  std::uint64_t seed = 0;
  int threads = 0;  // 0: default (see above)
  // Let cuDNN convolutions use TF32 tensor-core engines (faster, ~1e-3 relative error). Off by
  // default: results are deterministic and fp32-accurate.
  bool tf32 = false;
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
  bool tf32() const { return tf32_; }
  RngStream rng(std::uint64_t stream) const { return RngStream{seed_, stream, 0}; }

  // At least `bytes` of scratch memory on the context's device, valid until the next call.
  void* workspace(std::size_t bytes);
  void reserve_workspace(std::size_t bytes) { workspace(bytes); }
  std::size_t workspace_bytes() const { return workspace_.nbytes(); }

  CudaHandles& cuda();  // throws rp::Error on a CPU context or a build without CUDA
  void synchronize();   // waits for queued GPU work; no-op on the CPU
  // dst = src on this context's stream (plain memcpy on the CPU): device to device and host to
  // device queue and return; device to host waits until the data is in dst.
  void copy(const Tensor& dst, const Tensor& src);
  // Every byte of t set to zero, queued on this context's stream.
  void zero(const Tensor& t);

  // The profiler that ProfileScopes on this context report to (profiler.h); null: none. The
  // caller owns it and keeps it alive while attached.
  void set_profiler(Profiler* profiler) { profiler_ = profiler; }
  Profiler* profiler() const { return profiler_; }

  void freeze_allocations(bool frozen) { frozen_ = frozen; }
  bool allocations_frozen() const { return frozen_; }

  static int default_threads();
  static constexpr int kMaxThreads = 4096;  // more is a typo, not a machine

 private:
  struct CudaHandlesDeleter {
    void operator()(CudaHandles* h) const noexcept { cuda_handles_destroy(h); }
  };

  Device device_;
  std::uint64_t seed_;
  int threads_;
  bool tf32_;
  Tensor workspace_;
  std::unique_ptr<CudaHandles, CudaHandlesDeleter> cuda_;
  bool frozen_ = false;
  Profiler* profiler_ = nullptr;
};

}  // namespace rp
