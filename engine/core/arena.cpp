#include "engine/core/arena.h"

#include "engine/core/device_memory.h"
#include "engine/core/error.h"

namespace rp {

Arena::Slot Arena::plan(const Shape& shape, DType dtype, Layout layout) {
  RP_CHECK(!allocated_, "Arena::plan", "the arena is already allocated; plan every tensor first");
  const std::size_t offset =
      (bytes_ + kAllocationAlignment - 1) / kAllocationAlignment * kAllocationAlignment;
  planned_.push_back(Planned{shape, dtype, layout, offset});
  bytes_ = offset + static_cast<std::size_t>(shape.numel()) * dtype_size(dtype);
  return Slot{planned_.size() - 1};
}

void Arena::allocate() {
  RP_CHECK(!allocated_, "Arena::allocate", "the arena is already allocated");
  if (bytes_ > 0) {
    block_ = Tensor::empty(Shape{static_cast<std::int64_t>(bytes_)}, DType::U8, device_);
  }
  allocated_ = true;
}

Tensor Arena::get(Slot slot) const {
  RP_CHECK(allocated_, "Arena::get", "allocate() the arena before taking tensors from it");
  RP_CHECK(
      slot.index < planned_.size(), "Arena::get",
      "slot " << slot.index << " was not planned in this arena (" << planned_.size() << " slots)");
  const Planned& p = planned_[slot.index];
  if (!block_.defined()) return Tensor::wrap(nullptr, p.shape, p.dtype, device_, p.layout);
  return block_.view(p.offset, p.shape, p.dtype, p.layout);
}

}  // namespace rp
