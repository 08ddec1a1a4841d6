// The CUDA runtime as the rest of the engine sees it: plain C++ declarations, no CUDA headers.
// cuda_runtime_cuda.cpp implements them when the CUDA backend is built; cuda_runtime_none.cpp
// otherwise, where every call that needs a GPU throws an rp::Error saying the build has none.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace rp {

struct CudaDeviceInfo {
  int ordinal = 0;
  std::string name;
  int compute_major = 0;
  int compute_minor = 0;
  std::size_t total_memory = 0;  // bytes
  int multiprocessors = 0;
};

struct CudaRuntimeInfo {
  bool compiled = false;          // the CUDA backend is part of this build
  int runtime_version = 0;        // cudaRuntimeGetVersion, e.g. 13000
  int driver_version = 0;         // cudaDriverGetVersion; 0 when no driver is installed
  std::size_t cudnn_version = 0;  // cudnnGetVersion() of the library actually loaded
  std::string cublas_version;     // "major.minor.patch" of the cuBLAS loaded; "" when absent
  std::vector<CudaDeviceInfo> devices;
  std::string why_none;  // set when devices is empty
};

// Never throws: a machine without GPU or driver is an answer, not an error.
CudaRuntimeInfo cuda_runtime_info();
// True when this build has CUDA and at least one device is usable.
bool cuda_available();

void* cuda_allocate(int ordinal, std::size_t bytes);
void cuda_free(int ordinal, void* ptr) noexcept;

// Context-free copies and fills (Tensor::copy_from, to, to_vector, from_vector, zeros): for
// API boundaries, never inside a step. They are ordered with every stream of the device by
// synchronizing it before (work queued on any stream that produces or reads the memory is
// done) and after (the data has landed before the host goes on, so work the host queues next,
// on any stream, sees it; a pageable host source may be reused at once).
void cuda_copy(void* dst, const void* src, std::size_t bytes);
void cuda_zero(int ordinal, void* ptr, std::size_t bytes);

// The per-Context stream and library handles (defined in cuda_handles.h for CUDA code).
struct CudaHandles;
CudaHandles* cuda_handles_create(int ordinal);
void cuda_handles_destroy(CudaHandles* handles) noexcept;
void cuda_handles_synchronize(CudaHandles* handles);

// Stream-ordered transfers on a context's stream, after its earlier work; see context.h.
// Device to device (any devices), or a fill with zero bytes: queued, no host synchronization
// (capturable in a CUDA graph).
void cuda_copy_async(CudaHandles* handles, void* dst, const void* src, std::size_t bytes);
void cuda_zero_async(CudaHandles* handles, void* ptr, std::size_t bytes);
// Host to device, staged through the context's pinned buffers: returns once the source has
// been read (the caller may reuse it); the device copy is queued on the stream.
void cuda_upload(CudaHandles* handles, void* dst, const void* host_src, std::size_t bytes);
// Device to host through the pinned buffers: waits for the stream's earlier work, then for
// the copy itself - the one place the host reads a result.
void cuda_download(CudaHandles* handles, void* host_dst, const void* src, std::size_t bytes);

// ---- Timing events (benchmarks) -------------------------------------------------------------
// GPU-side timestamps on a context's stream, for timing queued work without host clocks: record
// one event before the work and one after, then read the milliseconds between them. Reading
// waits for the later event (a host synchronization): for benchmarks, never inside a step.
struct CudaEvent;  // a cudaEvent_t with timing enabled, on the handles' device
CudaEvent* cuda_event_create(CudaHandles* handles);
void cuda_event_destroy(CudaEvent* event) noexcept;
// Queues the timestamp on the context's stream, after its earlier work.
void cuda_event_record(CudaHandles* handles, CudaEvent* event);
// Milliseconds from start to stop (both recorded), once stop has completed.
float cuda_event_elapsed_ms(CudaEvent* start, CudaEvent* stop);
struct CudaEventDeleter {
  void operator()(CudaEvent* e) const noexcept { cuda_event_destroy(e); }
};
using CudaEventPtr = std::unique_ptr<CudaEvent, CudaEventDeleter>;
// ---- end of timing events -------------------------------------------------------------------

}  // namespace rp
