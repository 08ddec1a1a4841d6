#include "engine/core/device_memory.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "engine/core/cuda_runtime.h"
#include "engine/core/error.h"

namespace rp {

namespace {

// The machine's physical memory: with overcommit, a larger allocation "succeeds" and the
// process is killed when the memory is touched, so it is refused here, with a message.
std::size_t physical_memory_bytes() {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  return pages > 0 && page > 0 ? static_cast<std::size_t>(pages) * static_cast<std::size_t>(page)
                               : SIZE_MAX;
}

}  // namespace

void* device_allocate(Device device, std::size_t bytes) {
  if (bytes == 0) return nullptr;
  if (device.is_cuda()) return cuda_allocate(device.index, bytes);
  static const std::size_t physical = physical_memory_bytes();
  RP_CHECK(bytes <= physical, "device_allocate",
           "a buffer of " << bytes << " bytes was asked for, more than this machine's " << physical
                          << " bytes of memory (absurd sizes: batch, width, count?)");
  const std::size_t rounded =
      (bytes + kAllocationAlignment - 1) / kAllocationAlignment * kAllocationAlignment;
  void* p = std::aligned_alloc(kAllocationAlignment, rounded);
  RP_CHECK(p != nullptr, "device_allocate", "out of host memory allocating " << bytes << " bytes");
  return p;
}

void device_free(Device device, void* ptr) noexcept {
  if (ptr == nullptr) return;
  if (device.is_cuda()) {
    cuda_free(device.index, ptr);
  } else {
    std::free(ptr);
  }
}

void device_copy(void* dst, Device dst_device, const void* src, Device src_device,
                 std::size_t bytes) {
  if (bytes == 0) return;
  if (dst_device.is_cpu() && src_device.is_cpu()) {
    std::memcpy(dst, src, bytes);
  } else {
    cuda_copy(dst, src, bytes);
  }
}

void device_zero(Device device, void* ptr, std::size_t bytes) {
  if (bytes == 0) return;
  if (device.is_cuda()) {
    cuda_zero(device.index, ptr, bytes);
  } else {
    std::memset(ptr, 0, bytes);
  }
}

}  // namespace rp
