// CUDA entry points of a build with the CUDA backend.
#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>

#include <algorithm>
#include <cstring>
#include <string>

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
  int major = 0, minor = 0, patch = 0;
  if (cublasGetProperty(MAJOR_VERSION, &major) == CUBLAS_STATUS_SUCCESS &&
      cublasGetProperty(MINOR_VERSION, &minor) == CUBLAS_STATUS_SUCCESS &&
      cublasGetProperty(PATCH_LEVEL, &patch) == CUBLAS_STATUS_SUCCESS) {
    info.cublas_version =
        std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
  }
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
  // Contexts use non-blocking streams, which the legacy default stream (cudaMemcpy's) neither
  // waits for nor blocks: synchronize the whole device on both sides instead.
  RP_CUDA_CHECK(cudaDeviceSynchronize());
  RP_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyDefault));
  // A pageable host-to-device copy and a device-to-device copy may return before the data
  // has landed.
  RP_CUDA_CHECK(cudaDeviceSynchronize());
}

void cuda_zero(int ordinal, void* ptr, std::size_t bytes) {
  RP_CUDA_CHECK(cudaSetDevice(ordinal));
  RP_CUDA_CHECK(cudaDeviceSynchronize());
  RP_CUDA_CHECK(cudaMemset(ptr, 0, bytes));  // asynchronous with respect to the host
  RP_CUDA_CHECK(cudaDeviceSynchronize());
}

CudaHandles* cuda_handles_create(int ordinal) {
  auto* h = new CudaHandles();
  h->ordinal = ordinal;
  try {
    RP_CUDA_CHECK(cudaSetDevice(ordinal));
    RP_CUDA_CHECK(cudaStreamCreateWithFlags(&h->stream, cudaStreamNonBlocking));
    RP_CUBLAS_CHECK(cublasCreate(&h->cublas));
    RP_CUBLAS_CHECK(cublasSetStream(h->cublas, h->stream));
    // cuBLAS's recommendation for Hopper is 32 MiB; smaller workspaces only limit its choice.
    h->cublas_workspace_bytes = std::size_t{32} << 20;
    RP_CUDA_CHECK(cudaMalloc(&h->cublas_workspace, h->cublas_workspace_bytes));
    RP_CUBLAS_CHECK(cublasSetWorkspace(h->cublas, h->cublas_workspace, h->cublas_workspace_bytes));
    RP_CUDNN_CHECK(cudnnCreate(&h->cudnn));
    RP_CUDNN_CHECK(cudnnSetStream(h->cudnn, h->stream));
    for (int i = 0; i < CudaHandles::kStagingBuffers; ++i) {
      RP_CUDA_CHECK(cudaMallocHost(&h->staging[i], CudaHandles::kStagingBytes));
      RP_CUDA_CHECK(cudaEventCreateWithFlags(&h->staged[i], cudaEventDisableTiming));
    }
  } catch (...) {
    cuda_handles_destroy(h);  // releases whatever was created before the failure
    throw;
  }
  return h;
}

void cuda_handles_destroy(CudaHandles* h) noexcept {
  if (h == nullptr) return;
  cudaSetDevice(h->ordinal);
  // Queued work may still read the staging buffers or the workspaces.
  if (h->stream) cudaStreamSynchronize(h->stream);
  h->conv_plans.reset();  // plans refer to the cuDNN handle: release them first
  if (h->cudnn) cudnnDestroy(h->cudnn);
  if (h->cublas) cublasDestroy(h->cublas);
  if (h->cublas_workspace) cudaFree(h->cublas_workspace);
  for (int i = 0; i < CudaHandles::kStagingBuffers; ++i) {
    if (h->staged[i]) cudaEventDestroy(h->staged[i]);
    if (h->staging[i]) cudaFreeHost(h->staging[i]);
  }
  if (h->stream) cudaStreamDestroy(h->stream);
  delete h;
}

void cuda_handles_synchronize(CudaHandles* h) {
  RP_CUDA_CHECK(cudaStreamSynchronize(h->stream));
}

void cuda_copy_async(CudaHandles* h, void* dst, const void* src, std::size_t bytes) {
  if (bytes == 0) return;
  RP_CUDA_CHECK(cudaSetDevice(h->ordinal));
  RP_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, h->stream));
}

void cuda_zero_async(CudaHandles* h, void* ptr, std::size_t bytes) {
  if (bytes == 0) return;
  RP_CUDA_CHECK(cudaSetDevice(h->ordinal));
  RP_CUDA_CHECK(cudaMemsetAsync(ptr, 0, bytes, h->stream));
}

void cuda_upload(CudaHandles* h, void* dst, const void* host_src, std::size_t bytes) {
  RP_CUDA_CHECK(cudaSetDevice(h->ordinal));
  auto* out = static_cast<char*>(dst);
  const auto* in = static_cast<const char*>(host_src);
  int next = 0;
  for (std::size_t done = 0; done < bytes; done += CudaHandles::kStagingBytes) {
    const std::size_t n = std::min(CudaHandles::kStagingBytes, bytes - done);
    // The buffer's previous copy to the device must have read it before it is refilled.
    RP_CUDA_CHECK(cudaEventSynchronize(h->staged[next]));
    std::memcpy(h->staging[next], in + done, n);
    RP_CUDA_CHECK(
        cudaMemcpyAsync(out + done, h->staging[next], n, cudaMemcpyHostToDevice, h->stream));
    RP_CUDA_CHECK(cudaEventRecord(h->staged[next], h->stream));
    next = (next + 1) % CudaHandles::kStagingBuffers;
  }
}

void cuda_download(CudaHandles* h, void* host_dst, const void* src, std::size_t bytes) {
  static_assert(CudaHandles::kStagingBuffers == 2, "the download alternates two buffers");
  RP_CUDA_CHECK(cudaSetDevice(h->ordinal));
  auto* out = static_cast<char*>(host_dst);
  const auto* in = static_cast<const char*>(src);
  // Chunk i is copied into buffer i % 2 while the host drains chunk i - 1 from the other.
  std::size_t pending = 0, pending_bytes = 0;
  int buffer = 0;
  bool have_pending = false;
  auto drain = [&](int b) {
    RP_CUDA_CHECK(cudaEventSynchronize(h->staged[b]));
    std::memcpy(out + pending, h->staging[b], pending_bytes);
  };
  for (std::size_t done = 0; done < bytes; done += CudaHandles::kStagingBytes) {
    const std::size_t n = std::min(CudaHandles::kStagingBytes, bytes - done);
    RP_CUDA_CHECK(
        cudaMemcpyAsync(h->staging[buffer], in + done, n, cudaMemcpyDeviceToHost, h->stream));
    RP_CUDA_CHECK(cudaEventRecord(h->staged[buffer], h->stream));
    if (have_pending) drain(1 - buffer);
    pending = done;
    pending_bytes = n;
    have_pending = true;
    buffer = 1 - buffer;
  }
  if (have_pending) drain(1 - buffer);
}

// ---- Timing events (benchmarks) -------------------------------------------------------------

struct CudaEvent {
  int ordinal = 0;
  cudaEvent_t event = nullptr;
};

CudaEvent* cuda_event_create(CudaHandles* h) {
  auto* e = new CudaEvent();
  e->ordinal = h->ordinal;
  try {
    RP_CUDA_CHECK(cudaSetDevice(h->ordinal));
    RP_CUDA_CHECK(cudaEventCreate(&e->event));  // default flags: timing enabled
  } catch (...) {
    delete e;
    throw;
  }
  return e;
}

void cuda_event_destroy(CudaEvent* e) noexcept {
  if (e == nullptr) return;
  cudaSetDevice(e->ordinal);
  if (e->event) cudaEventDestroy(e->event);
  delete e;
}

void cuda_event_record(CudaHandles* h, CudaEvent* e) {
  RP_CUDA_CHECK(cudaSetDevice(h->ordinal));
  RP_CUDA_CHECK(cudaEventRecord(e->event, h->stream));
}

float cuda_event_elapsed_ms(CudaEvent* start, CudaEvent* stop) {
  RP_CUDA_CHECK(cudaSetDevice(stop->ordinal));
  RP_CUDA_CHECK(cudaEventSynchronize(stop->event));
  float ms = 0.f;
  RP_CUDA_CHECK(cudaEventElapsedTime(&ms, start->event, stop->event));
  return ms;
}

// ---- end of timing events -------------------------------------------------------------------

}  // namespace rp
