#include "engine/core/device_memory.h"

#include <cstdlib>
#include <cstring>

#include "engine/core/cuda_runtime.h"
#include "engine/core/error.h"

namespace rp {

void* device_allocate(Device device, std::size_t bytes) {
  if (bytes == 0) return nullptr;
  if (device.is_cuda()) return cuda_allocate(device.index, bytes);
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
