// CUDA entry points of a build without the CUDA backend.
#include "engine/core/cuda_runtime.h"
#include "engine/core/error.h"

namespace rp {
namespace {

[[noreturn]] void no_cuda(const char* op) {
  RP_FAIL(op,
          "this build has no CUDA backend (configure with -DROBUSTPRIOR_CUDA=ON on a machine "
          "with nvcc and cuDNN)");
}

}  // namespace

CudaRuntimeInfo cuda_runtime_info() {
  CudaRuntimeInfo info;
  info.why_none =
      "this build has no CUDA backend (ROBUSTPRIOR_CUDA was OFF, or nvcc/cuDNN were "
      "not found at configure time)";
  return info;
}

bool cuda_available() {
  return false;
}

void* cuda_allocate(int, std::size_t) {
  no_cuda("cuda_allocate");
}
void cuda_free(int, void*) noexcept {}
void cuda_copy(void*, const void*, std::size_t) {
  no_cuda("cuda_copy");
}
void cuda_zero(int, void*, std::size_t) {
  no_cuda("cuda_zero");
}
CudaHandles* cuda_handles_create(int) {
  no_cuda("cuda_handles_create");
}
void cuda_handles_destroy(CudaHandles*) noexcept {}
void cuda_handles_synchronize(CudaHandles*) {
  no_cuda("cuda_handles_synchronize");
}
void cuda_copy_async(CudaHandles*, void*, const void*, std::size_t) {
  no_cuda("cuda_copy_async");
}
void cuda_zero_async(CudaHandles*, void*, std::size_t) {
  no_cuda("cuda_zero_async");
}
void cuda_upload(CudaHandles*, void*, const void*, std::size_t) {
  no_cuda("cuda_upload");
}
void cuda_download(CudaHandles*, void*, const void*, std::size_t) {
  no_cuda("cuda_download");
}

// ---- Timing events (benchmarks) -------------------------------------------------------------
CudaEvent* cuda_event_create(CudaHandles*) {
  no_cuda("cuda_event_create");
}
void cuda_event_destroy(CudaEvent*) noexcept {}
void cuda_event_record(CudaHandles*, CudaEvent*) {
  no_cuda("cuda_event_record");
}
float cuda_event_elapsed_ms(CudaEvent*, CudaEvent*) {
  no_cuda("cuda_event_elapsed_ms");
}
// ---- end of timing events -------------------------------------------------------------------

}  // namespace rp
