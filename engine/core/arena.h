// Arena: device memory for a fixed set of tensors, planned once and allocated in one block.
//
// A model plans its activations for a batch size (plan() per tensor), then allocate() takes
// one block and every get() is a view into it. Nothing is allocated after that, which is what
// lets a training step or an attack loop run without allocation and be captured as a CUDA
// graph. Offsets are aligned to kAllocationAlignment so vector loads and cuDNN are happy.
#pragma once

#include <cstddef>
#include <vector>

#include "engine/core/device.h"
#include "engine/core/tensor.h"

namespace rp {

class Arena {
 public:
  struct Slot {
    std::size_t index = static_cast<std::size_t>(-1);
  };

  explicit Arena(Device device = Device::cpu()) : device_(device) {}

  Slot plan(const Shape& shape, DType dtype = DType::F32, Layout layout = Layout::NCHW);
  void allocate();  // once, after the last plan()
  Tensor get(Slot slot) const;

  bool allocated() const { return allocated_; }
  std::size_t bytes() const { return bytes_; }  // planned size of the block
  std::size_t slots() const { return planned_.size(); }
  Device device() const { return device_; }

 private:
  struct Planned {
    Shape shape;
    DType dtype;
    Layout layout;
    std::size_t offset;
  };
  Device device_;
  std::vector<Planned> planned_;
  std::size_t bytes_ = 0;
  bool allocated_ = false;
  Tensor block_;
};

}  // namespace rp
