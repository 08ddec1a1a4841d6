// CUDA entry points of a build with the CUDA backend.
#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>

#include "engine/core/cuda_check.h"
#include "engine/core/cuda_handles.h"
#include "engine/core/cuda_runtime.h"

namespace rp {

CudaRuntimeInfo cuda_runtime_info() {
  CudaRuntimeInfo info;
  info.compiled = true;
  cudaRuntimeGetVersion(&info.runtime_version);
  cudaDriverGetVersion(&info.driver_version);
  info.cudnn_version = cudnnGetVersion();
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    info.why_none = std::string("cudaGetDeviceCount: ") + cudaGetErrorName(status) + ": " +
                    cudaGetErrorString(status);
    if (info.driver_version == 0) info.why_none += " (no NVIDIA driver is installed)";
    cudaGetLastError();  // clear the sticky error so later queries start clean
    return info;
  }
  if (count == 0) {
    info.why_none = "the driver reports no CUDA device";
    return info;
  }
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, i) != cudaSuccess) continue;
    CudaDeviceInfo d;
    d.ordinal = i;
    d.name = prop.name;
    d.compute_major = prop.major;
    d.compute_minor = prop.minor;
    d.total_memory = prop.totalGlobalMem;
    d.multiprocessors = prop.multiProcessorCount;
    info.devices.push_back(d);
  }
  if (info.devices.empty()) info.why_none = "no device answered cudaGetDeviceProperties";
  return info;
}

bool cuda_available() {
  int count = 0;
  const bool ok = cudaGetDeviceCount(&count) == cudaSuccess && count > 0;
  cudaGetLastError();
  return ok;
}

void* cuda_allocate(int ordinal, std::size_t bytes) {
  RP_CUDA_CHECK(cudaSetDevice(ordinal));
  void* p = nullptr;
  RP_CUDA_CHECK(cudaMalloc(&p, bytes));
  return p;
}

void cuda_free(int ordinal, void* ptr) noexcept {
  // Errors here cannot be reported (destructors); a failing free means the context is already
  // broken and the next checked call will say so.
  cudaSetDevice(ordinal);
  cudaFree(ptr);
}

void cuda_copy(void* dst, const void* src, std::size_t bytes) {
  // Contexts use non-blocking streams, which the legacy default stream does not wait for.
  RP_CUDA_CHECK(cudaDeviceSynchronize());
  RP_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyDefault));
}

void cuda_zero(int ordinal, void* ptr, std::size_t bytes) {
  RP_CUDA_CHECK(cudaSetDevice(ordinal));
  RP_CUDA_CHECK(cudaMemset(ptr, 0, bytes));
}

CudaHandles* cuda_handles_create(int ordinal) {
  auto* h = new CudaHandles();
  h->ordinal = ordinal;
  try {
    RP_CUDA_CHECK(cudaSetDevice(ordinal));
    RP_CUDA_CHECK(cudaStreamCreateWithFlags(&h->stream, cudaStreamNonBlocking));
    RP_CUBLAS_CHECK(cublasCreate(&h->cublas));
    RP_CUBLAS_CHECK(cublasSetStream(h->cublas, h->stream));
    RP_CUDNN_CHECK(cudnnCreate(&h->cudnn));
    RP_CUDNN_CHECK(cudnnSetStream(h->cudnn, h->stream));
  } catch (...) {
    cuda_handles_destroy(h);  // releases whatever was created before the failure
    throw;
  }
  return h;
}

void cuda_handles_destroy(CudaHandles* h) noexcept {
  if (h == nullptr) return;
  cudaSetDevice(h->ordinal);
  if (h->cudnn) cudnnDestroy(h->cudnn);
  if (h->cublas) cublasDestroy(h->cublas);
  if (h->stream) cudaStreamDestroy(h->stream);
  delete h;
}

void cuda_handles_synchronize(CudaHandles* h) {
  RP_CUDA_CHECK(cudaStreamSynchronize(h->stream));
}

void cuda_copy_async(CudaHandles* h, void* dst, const void* src, std::size_t bytes) {
  RP_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDefault, h->stream));
}

}  // namespace rp
