// Raw memory on any device. Tensor and Arena are built on these; nothing else should need them.
// CUDA copies are synchronous with respect to the host (they are used at API boundaries, never
// inside a training step or an attack iteration).
#pragma once

#include <cstddef>

#include "engine/core/device.h"

namespace rp {

// Alignment of every allocation: enough for 16-byte vector loads, cuDNN and cache lines.
constexpr std::size_t kAllocationAlignment = 256;

void* device_allocate(Device device, std::size_t bytes);  // throws rp::Error on failure
void device_free(Device device, void* ptr) noexcept;
void device_copy(void* dst, Device dst_device, const void* src, Device src_device,
                 std::size_t bytes);
void device_zero(Device device, void* ptr, std::size_t bytes);

}  // namespace rp
