#include "engine/core/tensor.h"

#include <cstdint>

#include "engine/core/device_memory.h"

namespace rp {

struct Tensor::Storage {
  void* data = nullptr;
  std::size_t bytes = 0;
  Device device;
  bool owning = false;

  Storage(void* d, std::size_t b, Device dev, bool own)
      : data(d), bytes(b), device(dev), owning(own) {}
  ~Storage() {
    if (owning) device_free(device, data);
  }
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
};

const char* layout_name(Layout layout) {
  return layout == Layout::NCHW ? "NCHW" : "NHWC";
}

namespace {

void check_layout_rank(const char* op, const Shape& shape, Layout layout) {
  RP_CHECK(layout == Layout::NCHW || shape.rank() == 4, op,
           "layout NHWC needs a 4-D (N, C, H, W) shape, found " << shape);
}

}  // namespace

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device, Layout layout) {
  check_layout_rank("Tensor::empty", shape, layout);
  const std::size_t bytes = static_cast<std::size_t>(shape.numel()) * dtype_size(dtype);
  Tensor t;
  t.storage_ = std::make_shared<Storage>(device_allocate(device, bytes), bytes, device, true);
  t.shape_ = shape;
  t.dtype_ = dtype;
  t.layout_ = layout;
  return t;
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device, Layout layout) {
  Tensor t = empty(shape, dtype, device, layout);
  device_zero(device, t.raw_data(), t.nbytes());
  return t;
}

Tensor Tensor::wrap(void* data, const Shape& shape, DType dtype, Device device, Layout layout) {
  check_layout_rank("Tensor::wrap", shape, layout);
  const std::size_t bytes = static_cast<std::size_t>(shape.numel()) * dtype_size(dtype);
  RP_CHECK(data != nullptr || bytes == 0, "Tensor::wrap", "null pointer for shape " << shape);
  Tensor t;
  t.storage_ = std::make_shared<Storage>(data, bytes, device, false);
  t.shape_ = shape;
  t.dtype_ = dtype;
  t.layout_ = layout;
  return t;
}

Device Tensor::device() const {
  return storage_ ? storage_->device : Device::cpu();
}

void* Tensor::raw_data() const {
  if (!storage_ || storage_->data == nullptr) return nullptr;
  return static_cast<char*>(storage_->data) + offset_;
}

Tensor Tensor::reshape(const Shape& shape) const {
  RP_CHECK(defined(), "Tensor::reshape", "undefined tensor");
  RP_CHECK(shape.numel() == numel(), "Tensor::reshape",
           "cannot view " << str() << " as " << shape << ": element counts differ");
  RP_CHECK(layout_ == Layout::NCHW, "Tensor::reshape", "reshape of an NHWC tensor " << str());
  Tensor t = *this;
  t.shape_ = shape;
  return t;
}

Tensor Tensor::slice(std::int64_t begin, std::int64_t end) const {
  RP_CHECK(defined() && rank() >= 1, "Tensor::slice",
           "needs a tensor of rank >= 1, found " << str());
  RP_CHECK(0 <= begin && begin <= end && end <= shape_[0], "Tensor::slice",
           "rows [" << begin << ", " << end << ") out of range for " << str());
  Tensor t = *this;
  t.offset_ += static_cast<std::size_t>(begin * shape_.inner_numel()) * dtype_size(dtype_);
  t.shape_ = shape_.with_dim(0, end - begin);
  return t;
}

Tensor Tensor::view(std::size_t byte_offset, const Shape& shape, DType dtype, Layout layout) const {
  RP_CHECK(defined(), "Tensor::view", "undefined tensor");
  check_layout_rank("Tensor::view", shape, layout);
  const std::size_t bytes = static_cast<std::size_t>(shape.numel()) * dtype_size(dtype);
  const std::size_t start = offset_ + byte_offset;
  RP_CHECK(start + bytes <= storage_->bytes, "Tensor::view",
           dtype_name(dtype) << shape << " at byte " << byte_offset << " overruns " << str()
                             << " (storage of " << storage_->bytes << " bytes)");
  RP_CHECK(start % dtype_size(dtype) == 0, "Tensor::view",
           "byte offset " << start << " is not aligned for " << dtype_name(dtype));
  Tensor t = *this;
  t.offset_ = start;
  t.shape_ = shape;
  t.dtype_ = dtype;
  t.layout_ = layout;
  return t;
}

void Tensor::copy_from(const Tensor& src) const {
  RP_CHECK(defined() && src.defined(), "Tensor::copy_from", "undefined tensor");
  RP_CHECK(shape_ == src.shape_ && dtype_ == src.dtype_ && layout_ == src.layout_,
           "Tensor::copy_from", "destination " << str() << " differs from source " << src.str());
  if (same_memory(src)) return;
  RP_CHECK(!overlaps(src), "Tensor::copy_from", "source and destination partially overlap");
  device_copy(raw_data(), device(), src.raw_data(), src.device(), nbytes());
}

Tensor Tensor::to(Device device) const {
  Tensor t = empty(shape_, dtype_, device, layout_);
  t.copy_from(*this);
  return t;
}

bool Tensor::overlaps(const Tensor& other) const {
  if (!defined() || !other.defined() || device() != other.device()) return false;
  if (nbytes() == 0 || other.nbytes() == 0) return false;
  const auto a = reinterpret_cast<std::uintptr_t>(raw_data());
  const auto b = reinterpret_cast<std::uintptr_t>(other.raw_data());
  return a < b + other.nbytes() && b < a + nbytes();
}

bool Tensor::same_memory(const Tensor& other) const {
  return defined() && other.defined() && device() == other.device() &&
         raw_data() == other.raw_data() && nbytes() == other.nbytes();
}

std::string Tensor::str() const {
  if (!defined()) return "undefined";
  std::string s = std::string(dtype_name(dtype_)) + shape_.str() + " " + device().str();
  if (layout_ != Layout::NCHW) s += std::string(" ") + layout_name(layout_);
  return s;
}

}  // namespace rp
