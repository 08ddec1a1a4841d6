#include "engine/nn/activations.h"

#include "engine/core/error.h"

namespace rp {
namespace {

Shape with_batch(std::int64_t n, const Shape& per_example) {
  Shape s{n};
  for (std::int64_t d : per_example) s.push_back(d);
  return s;
}

}  // namespace

ActivationArena::Handle ActivationArena::batched(const Shape& per_example, DType dtype) {
  RP_CHECK(!allocated(), "ActivationArena", "planning after allocate()");
  plans_.push_back(Plan{per_example, dtype, true, {}});
  return plans_.size() - 1;
}

ActivationArena::Handle ActivationArena::fixed(const Shape& shape, DType dtype) {
  RP_CHECK(!allocated(), "ActivationArena", "planning after allocate()");
  plans_.push_back(Plan{shape, dtype, false, {}});
  return plans_.size() - 1;
}

void ActivationArena::allocate(Device device, std::int64_t max_batch) {
  RP_CHECK(max_batch >= 1, "ActivationArena", "batch size must be >= 1, found " << max_batch);
  // Re-planning for another size or device releases the old block first.
  full_.clear();
  views_.clear();
  arena_ = Arena(device);
  for (Plan& p : plans_) {
    p.slot = arena_.plan(p.batched ? with_batch(max_batch, p.shape) : p.shape, p.dtype);
  }
  arena_.allocate();
  for (const Plan& p : plans_) full_.push_back(arena_.get(p.slot));
  views_ = full_;
  max_batch_ = batch_ = max_batch;
}

void ActivationArena::bind(std::int64_t n) {
  RP_CHECK(allocated(), "ActivationArena", "bind() before allocate()");
  RP_CHECK(n >= 1 && n <= max_batch_, "ActivationArena",
           "batch of " << n << " examples, but buffers were planned for at most " << max_batch_);
  if (n == batch_) return;
  for (std::size_t i = 0; i < plans_.size(); ++i) {
    views_[i] = plans_[i].batched ? full_[i].slice(0, n) : full_[i];
  }
  batch_ = n;
}

}  // namespace rp
