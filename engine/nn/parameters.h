// ParameterStore: every learnable parameter of a network in one contiguous buffer, their
// gradients in a second and the non-learned buffers (BN running statistics) in a third.
//
// One buffer each is what makes the optimizer step a single kernel over the whole model and a
// future multi-GPU all-reduce a single call. Entries keep PyTorch's names (conv1.weight,
// layer1.0.bn1.running_mean ...) in registration order, so checkpoints exchange with PyTorch.
//
// Lifecycle: add() every entry, allocate() once on a device, initialize() with PyTorch's
// default initialization drawn from Philox (reproducible from the seed), then take views.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "engine/core/device.h"
#include "engine/core/tensor.h"

namespace rp {

enum class ParamKind { Parameter, Buffer };

// How an entry starts: uniform in [-bound, bound] (PyTorch's kaiming_uniform(a=sqrt(5)) for
// convolutions and linear layers, bound = 1/sqrt(fan_in)), a constant, or given values.
struct ParamInit {
  enum class Kind { Uniform, Constant, Values } kind = Kind::Constant;
  double value = 0.0;          // bound for Uniform, the value for Constant
  std::vector<double> values;  // for Values: one per element
  static ParamInit uniform(double bound) { return {Kind::Uniform, bound, {}}; }
  static ParamInit constant(double v) { return {Kind::Constant, v, {}}; }
  static ParamInit given(std::vector<double> v) { return {Kind::Values, 0.0, std::move(v)}; }
};

struct ParamEntry {
  std::string name;
  Shape shape;
  ParamKind kind;
  ParamInit init;
  std::int64_t offset = 0;  // elements into the parameter or buffer block
};

class ParameterStore {
 public:
  using Id = std::size_t;

  Id add(const std::string& name, const Shape& shape, ParamKind kind, ParamInit init);
  void allocate(Device device, DType dtype);
  void initialize(std::uint64_t seed);

  bool allocated() const { return params_.defined() || buffers_.defined(); }
  const Tensor& value(Id id) const;  // a parameter's or a buffer's view
  const Tensor& grad(Id id) const;   // a parameter's gradient view
  const Tensor& flat_params() const { return params_; }
  const Tensor& flat_grads() const { return grads_; }
  const Tensor& flat_buffers() const { return buffers_; }

  const std::vector<ParamEntry>& entries() const { return entries_; }
  const ParamEntry* find(const std::string& name) const;
  Id id_of(const std::string& name) const;  // throws rp::Error for an unknown name
  std::int64_t num_parameters() const { return param_elems_; }
  std::int64_t num_buffer_elements() const { return buffer_elems_; }
  Device device() const { return device_; }
  DType dtype() const { return dtype_; }

  // Training steps taken in train mode: PyTorch's BatchNorm num_batches_tracked.
  std::int64_t batches_tracked = 0;

 private:
  std::vector<ParamEntry> entries_;
  std::vector<Tensor> values_, grads_views_;
  std::int64_t param_elems_ = 0, buffer_elems_ = 0;
  Tensor params_, grads_, buffers_;
  Device device_;
  DType dtype_ = DType::F32;
};

}  // namespace rp
