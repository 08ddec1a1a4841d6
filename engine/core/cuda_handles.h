// The stream and library handles a Context owns when it runs on a GPU. Include only from code
// built with CUDA; everything else sees the forward declaration in cuda_runtime.h.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>

#include <cstddef>
#include <memory>

namespace rp {

struct CudaHandles {
  int ordinal = 0;
  // Non-blocking (no implicit ordering with the legacy default stream, which graph capture and
  // overlapping copy streams need); plain Tensor copies synchronize the device instead.
  cudaStream_t stream = nullptr;
  cublasHandle_t cublas = nullptr;
  cudnnHandle_t cudnn = nullptr;
  // cuBLAS's workspace, owned here so no GEMM allocates (cublasSetWorkspace): a step that
  // calls cuBLAS can then be captured in a CUDA graph.
  void* cublas_workspace = nullptr;
  std::size_t cublas_workspace_bytes = 0;
  // Pinned host buffers that stage uploads and downloads, used in turn; staged_[i] is
  // recorded on the stream after the copy that reads or fills buffer i.
  static constexpr int kStagingBuffers = 2;
  static constexpr std::size_t kStagingBytes = std::size_t{4} << 20;
  void* staging[kStagingBuffers] = {};
  cudaEvent_t staged[kStagingBuffers] = {};
  // Caches of the layers above core (cuDNN execution plans), type-erased so that core does
  // not depend on them; created on first use by their owner, destroyed with the handles.
  std::shared_ptr<void> conv_plans;
};

}  // namespace rp
