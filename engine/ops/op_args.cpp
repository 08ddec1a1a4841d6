#include "engine/ops/op_args.h"

#include <cmath>
#include <limits>

#include "engine/core/error.h"

namespace rp::detail {

void OpArgs::common(const char* name, const Tensor& t) {
  RP_CHECK(t.defined(), op_, name << ": tensor is undefined");
  RP_CHECK(t.device() == ctx_.device(), op_,
           name << ": lives on " << t.device() << " but the context runs on " << ctx_.device());
  RP_CHECK(t.layout() == Layout::NCHW, op_,
           name << ": layout " << layout_name(t.layout()) << " is not supported yet (NCHW only)");
}

void OpArgs::float_dtype(const char* name, const Tensor& t) {
  if (!have_dtype_) {
    RP_CHECK(t.dtype() == DType::F32 || t.dtype() == DType::F64, op_,
             name << ": dtype " << dtype_name(t.dtype()) << " is not supported (f32, or f64 on "
                  << "the CPU), found " << t.str());
    dtype_ = t.dtype();
    have_dtype_ = true;
    return;
  }
  RP_CHECK(t.dtype() == dtype_, op_,
           name << ": dtype " << dtype_name(t.dtype()) << " differs from the call's "
                << dtype_name(dtype_) << " (" << t.str() << ")");
}

OpArgs& OpArgs::floating(const char* name, const Tensor& t, int rank, const char* dims) {
  common(name, t);
  RP_CHECK(t.rank() == rank, op_,
           name << ": expected " << rank << "-D " << dims << ", found " << t.str());
  float_dtype(name, t);
  return *this;
}

OpArgs& OpArgs::floating(const char* name, const Tensor& t, const Shape& shape, const char* dims) {
  common(name, t);
  RP_CHECK(t.shape() == shape, op_,
           name << ": expected shape " << shape << " " << dims << ", found " << t.str());
  float_dtype(name, t);
  return *this;
}

OpArgs& OpArgs::optional(const char* name, const Tensor& t, const Shape& shape, const char* dims) {
  if (t.defined()) floating(name, t, shape, dims);
  return *this;
}

OpArgs& OpArgs::batch(const char* name, const Tensor& t, int rank, const char* dims) {
  floating(name, t, rank, dims);
  RP_CHECK(t.size(0) > 0, op_, name << ": empty batch (" << t.str() << ")");
  return *this;
}

OpArgs& OpArgs::examples(const char* name, const Tensor& t) {
  common(name, t);
  RP_CHECK(t.rank() >= 1, op_,
           name << ": expected a batch (N, ...) of rank >= 1, found " << t.str());
  RP_CHECK(t.size(0) > 0, op_, name << ": empty batch (" << t.str() << ")");
  float_dtype(name, t);
  return *this;
}

OpArgs& OpArgs::typed(const char* name, const Tensor& t, DType dtype, const Shape& shape,
                      const char* dims) {
  common(name, t);
  RP_CHECK(
      t.dtype() == dtype && t.shape() == shape, op_,
      name << ": expected " << dtype_name(dtype) << shape << " " << dims << ", found " << t.str());
  return *this;
}

OpArgs& OpArgs::distinct(const char* out_name, const Tensor& out, const char* in_name,
                         const Tensor& in) {
  if (out.defined() && in.defined()) {
    RP_CHECK(!out.overlaps(in), op_, out_name << " must not share memory with " << in_name);
  }
  return *this;
}

OpArgs& OpArgs::distinct(const char* out_name, const Tensor& out,
                         std::initializer_list<std::pair<const char*, const Tensor*>> others) {
  for (const auto& [name, t] : others) distinct(out_name, out, name, *t);
  return *this;
}

OpArgs& OpArgs::in_place_or_distinct(const char* out_name, const Tensor& out, const char* in_name,
                                     const Tensor& in) {
  if (out.defined() && in.defined() && !out.same_memory(in)) {
    RP_CHECK(!out.overlaps(in), op_,
             out_name << " partially overlaps " << in_name
                      << " (it may be the same tensor, for an in-place call, or disjoint)");
  }
  return *this;
}

OpArgs& OpArgs::scalar(const char* name, double value, double lo, double hi) {
  RP_CHECK(std::isfinite(value) && value >= lo && value <= hi, op_,
           name << ": expected a finite value in [" << lo << ", " << hi << "], found " << value);
  return *this;
}

OpArgs& OpArgs::representable(const char* name, double value) {
  const double max = dtype() == DType::F32 ? static_cast<double>(std::numeric_limits<float>::max())
                                           : std::numeric_limits<double>::max();
  RP_CHECK(std::abs(value) <= max, op_,
           name << ": " << value << " is not representable in " << dtype_name(dtype()));
  return *this;
}

OpArgs& OpArgs::cpu_backend() {
  RP_CHECK(ctx_.device().is_cpu(), op_,
           "has no CUDA kernel in this version; run it on a CPU context (context on "
               << ctx_.device() << ")");
  return *this;
}

OpArgs& OpArgs::cpu_or_cuda_backend() {
#if RP_CUDA_KERNELS
  return *this;
#else
  RP_CHECK(ctx_.device().is_cpu(), op_,
           "has no CUDA kernel in this build (built without the CUDA backend); run it on a CPU "
           "context (context on "
               << ctx_.device() << ")");
  return *this;
#endif
}

DType OpArgs::dtype() const {
  RP_CHECK(have_dtype_, op_, "internal: dtype requested before any floating argument");
  return dtype_;
}

}  // namespace rp::detail
