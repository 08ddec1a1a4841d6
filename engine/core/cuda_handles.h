// The stream and library handles a Context owns when it runs on a GPU. Include only from code
// built with CUDA; everything else sees the forward declaration in cuda_runtime.h.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>

namespace rp {

struct CudaHandles {
  int ordinal = 0;
  // A blocking stream: synchronous cudaMemcpy at API boundaries orders itself after the work
  // queued here, which keeps Tensor copies correct without passing streams around.
  cudaStream_t stream = nullptr;
  cublasHandle_t cublas = nullptr;
  cudnnHandle_t cudnn = nullptr;
};

}  // namespace rp
