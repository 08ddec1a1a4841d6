#include "engine/nn/parameters.h"

#include <utility>
#include <vector>

#include "engine/core/error.h"
#include "engine/core/philox.h"
#include "engine/core/rng_streams.h"

namespace rp {

ParameterStore::Id ParameterStore::add(const std::string& name, const Shape& shape, ParamKind kind,
                                       ParamInit init) {
  RP_CHECK(!allocated(), "ParameterStore::add", "'" << name << "' added after allocate()");
  RP_CHECK(find(name) == nullptr, "ParameterStore::add", "duplicate entry '" << name << "'");
  RP_CHECK(init.kind != ParamInit::Kind::Values ||
               static_cast<std::int64_t>(init.values.size()) == shape.numel(),
           "ParameterStore::add",
           "'" << name << "' has " << init.values.size() << " initial values for shape " << shape);
  std::int64_t& cursor = kind == ParamKind::Parameter ? param_elems_ : buffer_elems_;
  entries_.push_back(ParamEntry{name, shape, kind, init, cursor});
  cursor += shape.numel();
  return entries_.size() - 1;
}

void ParameterStore::allocate(Device device, DType dtype) {
  RP_CHECK(!allocated(), "ParameterStore::allocate", "already allocated");
  device_ = device;
  dtype_ = dtype;
  params_ = Tensor::zeros(Shape{param_elems_}, dtype, device);
  grads_ = Tensor::zeros(Shape{param_elems_}, dtype, device);
  buffers_ = Tensor::zeros(Shape{buffer_elems_}, dtype, device);
  const std::size_t elem = dtype_size(dtype);
  for (const ParamEntry& e : entries_) {
    const Tensor& block = e.kind == ParamKind::Parameter ? params_ : buffers_;
    values_.push_back(block.view(static_cast<std::size_t>(e.offset) * elem, e.shape, dtype));
    grads_views_.push_back(
        e.kind == ParamKind::Parameter
            ? grads_.view(static_cast<std::size_t>(e.offset) * elem, e.shape, dtype)
            : Tensor());
  }
}

void ParameterStore::initialize(std::uint64_t seed) {
  RP_CHECK(allocated(), "ParameterStore::initialize", "allocate() first");
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    const ParamEntry& e = entries_[i];
    const RngStream rng{seed, rng_stream(RngPurpose::ParamInit, i)};
    std::vector<double> host(static_cast<std::size_t>(e.shape.numel()));
    for (std::size_t j = 0; j < host.size(); ++j) {
      switch (e.init.kind) {
        case ParamInit::Kind::Constant:
          host[j] = e.init.value;
          break;
        case ParamInit::Kind::Values:
          host[j] = e.init.values[j];
          break;
        case ParamInit::Kind::Uniform:
          host[j] = e.init.value * (2.0 * static_cast<double>(rng_uniform(rng, j)) - 1.0);
          break;
      }
    }
    if (dtype_ == DType::F64) {
      values_[i].copy_from(Tensor::from_vector(host, e.shape));
    } else {
      std::vector<float> f(host.begin(), host.end());
      values_[i].copy_from(Tensor::from_vector(f, e.shape));
    }
  }
  batches_tracked = 0;
}

const Tensor& ParameterStore::value(Id id) const {
  RP_CHECK(id < values_.size(), "ParameterStore::value",
           "entry " << id << " of " << values_.size());
  return values_[id];
}

const Tensor& ParameterStore::grad(Id id) const {
  RP_CHECK(id < grads_views_.size() && grads_views_[id].defined(), "ParameterStore::grad",
           "entry " << id << " has no gradient (a buffer, or not allocated)");
  return grads_views_[id];
}

const ParamEntry* ParameterStore::find(const std::string& name) const {
  for (const ParamEntry& e : entries_) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

ParameterStore::Id ParameterStore::id_of(const std::string& name) const {
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    if (entries_[i].name == name) return i;
  }
  RP_FAIL("ParameterStore", "no entry named '" << name << "'");
}

}  // namespace rp
