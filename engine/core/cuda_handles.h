// The stream and library handles a Context owns when it runs on a GPU. Include only from code
// built with CUDA; everything else sees the forward declaration in cuda_runtime.h.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>

namespace rp {

struct CudaHandles {
  int ordinal = 0;
  // Non-blocking (no implicit ordering with the legacy default stream, which graph capture and
  // overlapping copy streams need); plain Tensor copies synchronize the device instead.
  cudaStream_t stream = nullptr;
  cublasHandle_t cublas = nullptr;
  cudnnHandle_t cudnn = nullptr;
};

}  // namespace rp
