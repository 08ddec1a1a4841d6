// ActivationArena: the activation and gradient buffers of a network for a maximum batch size,
// planned once (an Arena underneath) so that forward and backward passes allocate nothing.
//
// Buffers are planned when layers are built; allocate() sizes them for a batch. Batched buffers
// are planned per example and hold max_batch examples; bind(n) makes every
// handle's tensor a view of its first n examples, so a smaller last batch reuses the same
// memory. Fixed buffers (BN's saved batch statistics) do not depend on the batch.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/core/arena.h"
#include "engine/core/tensor.h"

namespace rp {

class ActivationArena {
 public:
  using Handle = std::size_t;

  Handle batched(const Shape& per_example, DType dtype);
  Handle fixed(const Shape& shape, DType dtype);
  // One block for every planned buffer; again (another size or device) replaces it.
  void allocate(Device device, std::int64_t max_batch);
  void bind(std::int64_t n);  // 1 <= n <= max_batch

  const Tensor& operator[](Handle h) const { return views_[h]; }
  std::int64_t max_batch() const { return max_batch_; }
  std::int64_t batch() const { return batch_; }
  std::size_t bytes() const { return arena_.bytes(); }
  bool allocated() const { return arena_.allocated(); }

 private:
  struct Plan {
    Shape shape;  // per example (batched) or whole (fixed)
    DType dtype;
    bool batched;
    Arena::Slot slot;
  };
  std::vector<Plan> plans_;
  std::vector<Tensor> full_, views_;
  Arena arena_;
  std::int64_t max_batch_ = 0, batch_ = 0;
};

}  // namespace rp
