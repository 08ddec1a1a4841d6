// Tensor: a typed, shaped, dense view of device memory.
//
// A Tensor is a handle: copying it shares memory (like a pointer), and const refers to the
// handle, not the elements. Storage is either owned (freed with the last handle) or borrowed
// (Tensor::wrap: the caller keeps the memory alive). Views (reshape, slice, view) share their
// parent's storage and keep it alive.
//
// Tensors are always dense. Shapes are logical - images are (N, C, H, W) - and Layout says how
// they sit in memory: NCHW is plain row-major in the logical order (for every rank), NHWC is
// channels-last for 4-D tensors. Ops accept NCHW today; NHWC is reserved for the tensor-core path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/core/device.h"
#include "engine/core/dtype.h"
#include "engine/core/error.h"
#include "engine/core/shape.h"

namespace rp {

enum class Layout : std::uint8_t { NCHW, NHWC };
const char* layout_name(Layout layout);

class Tensor {
 public:
  Tensor() = default;  // undefined: no storage, no elements

  static Tensor empty(const Shape& shape, DType dtype = DType::F32, Device device = Device::cpu(),
                      Layout layout = Layout::NCHW);
  static Tensor zeros(const Shape& shape, DType dtype = DType::F32, Device device = Device::cpu(),
                      Layout layout = Layout::NCHW);
  // Borrow memory the caller owns; it must outlive every handle to the result.
  static Tensor wrap(void* data, const Shape& shape, DType dtype, Device device,
                     Layout layout = Layout::NCHW);
  template <typename T>
  static Tensor from_vector(const std::vector<T>& values, const Shape& shape,
                            Device device = Device::cpu());

  bool defined() const { return storage_ != nullptr; }
  const Shape& shape() const { return shape_; }
  int rank() const { return shape_.rank(); }
  std::int64_t size(int dim) const { return shape_[dim]; }
  std::int64_t numel() const { return defined() ? shape_.numel() : 0; }
  std::size_t nbytes() const { return static_cast<std::size_t>(numel()) * dtype_size(dtype_); }
  DType dtype() const { return dtype_; }
  Device device() const;
  Layout layout() const { return layout_; }

  void* raw_data() const;
  template <typename T>
  T* data() const {
    RP_CHECK(dtype_ == dtype_of<T>, "Tensor::data",
             "requested " << dtype_name(dtype_of<T>) << " elements of " << str());
    return static_cast<T*>(raw_data());
  }

  // Views sharing this tensor's memory.
  Tensor reshape(const Shape& shape) const;                  // same numel
  Tensor slice(std::int64_t begin, std::int64_t end) const;  // rows [begin, end) of dim 0
  Tensor view(std::size_t byte_offset, const Shape& shape, DType dtype,
              Layout layout = Layout::NCHW) const;  // any typed window inside the storage

  void copy_from(const Tensor& src) const;  // same shape and dtype; any pair of devices
  Tensor to(Device device) const;           // a copy on `device`
  template <typename T>
  std::vector<T> to_vector() const;  // a host copy of the elements

  bool overlaps(const Tensor& other) const;     // their memory ranges intersect
  bool same_memory(const Tensor& other) const;  // the same bytes exactly (an in-place call)
  std::string str() const;                      // "f32[2,3,32,32] cpu"

 private:
  struct Storage;
  std::shared_ptr<Storage> storage_;
  std::size_t offset_ = 0;  // bytes from the start of the storage
  Shape shape_;
  DType dtype_ = DType::F32;
  Layout layout_ = Layout::NCHW;
};

template <typename T>
Tensor Tensor::from_vector(const std::vector<T>& values, const Shape& shape, Device device) {
  RP_CHECK(static_cast<std::int64_t>(values.size()) == shape.numel(), "Tensor::from_vector",
           values.size() << " values for shape " << shape << " (" << shape.numel() << " elements)");
  Tensor host = wrap(const_cast<T*>(values.data()), shape, dtype_of<T>, Device::cpu());
  Tensor out = empty(shape, dtype_of<T>, device);
  out.copy_from(host);
  return out;
}

template <typename T>
std::vector<T> Tensor::to_vector() const {
  RP_CHECK(dtype_ == dtype_of<T>, "Tensor::to_vector",
           "requested " << dtype_name(dtype_of<T>) << " elements of " << str());
  std::vector<T> out(static_cast<std::size_t>(numel()));
  if (!out.empty()) {
    Tensor host = wrap(out.data(), shape_, dtype_, Device::cpu(), layout_);
    host.copy_from(*this);
  }
  return out;
}

}  // namespace rp
