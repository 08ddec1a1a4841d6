// Argument validation for the public ops. Each check throws rp::Error naming the op, the
// argument and what was expected versus found, e.g.
//   conv2d_forward: y: expected shape [2,4,8,8] (N, C_out, H_out, W_out), found f32[2,4,7,7] cpu
// Every tensor must be defined, live on the context's device and be NCHW; the first floating
// tensor fixes the dtype that every other floating tensor of the call must share.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <utility>

#include "engine/core/context.h"
#include "engine/core/profiler.h"
#include "engine/core/tensor.h"

namespace rp::detail {

// Every public op starts by building one, so it also times the op for a profiler attached to
// the context (profiler.h): the scope lasts until the op returns.
class OpArgs {
 public:
  OpArgs(const char* op, Context& ctx) : op_(op), ctx_(ctx), profile_(ctx, ProfileKind::Op, op) {}

  // A floating tensor of the given rank (dims describes the axes for messages).
  OpArgs& floating(const char* name, const Tensor& t, int rank, const char* dims);
  // A floating tensor of exactly this shape.
  OpArgs& floating(const char* name, const Tensor& t, const Shape& shape, const char* dims);
  // As above when t is defined; an undefined t means "not wanted" and passes.
  OpArgs& optional(const char* name, const Tensor& t, const Shape& shape, const char* dims);
  // A batch: floating, of the given rank, with at least one example.
  OpArgs& batch(const char* name, const Tensor& t, int rank, const char* dims);
  // A batch of any rank >= 1 whose dimension 0 indexes examples.
  OpArgs& examples(const char* name, const Tensor& t);
  // A tensor of a fixed non-floating dtype (labels) and exact shape.
  OpArgs& typed(const char* name, const Tensor& t, DType dtype, const Shape& shape,
                const char* dims);

  // `out` must not share any memory with `in` (or with any of `others`).
  OpArgs& distinct(const char* out_name, const Tensor& out, const char* in_name, const Tensor& in);
  OpArgs& distinct(const char* out_name, const Tensor& out,
                   std::initializer_list<std::pair<const char*, const Tensor*>> others);
  // `out` may be `in` itself (in place) but must not partially overlap it.
  OpArgs& in_place_or_distinct(const char* out_name, const Tensor& out, const char* in_name,
                               const Tensor& in);
  // A finite scalar within [lo, hi].
  OpArgs& scalar(const char* name, double value, double lo, double hi);
  // ...that is also finite in the call's dtype (1e39 is a double but no float).
  OpArgs& representable(const char* name, double value);

  // The ops' kernels exist for the CPU only so far; a CUDA context is refused by name.
  OpArgs& cpu_backend();
  // Ops with a CUDA twin: any CPU context, and a CUDA one in builds with the CUDA kernels.
  OpArgs& cpu_or_cuda_backend();

  DType dtype() const;  // the call's floating dtype
  const char* op() const { return op_; }

 private:
  void common(const char* name, const Tensor& t);
  void float_dtype(const char* name, const Tensor& t);

  const char* op_;
  const Context& ctx_;
  ProfileScope profile_;
  DType dtype_ = DType::F32;
  bool have_dtype_ = false;
};

// Calls f(float{}) or f(double{}) for the call's dtype (validated by OpArgs beforehand).
template <typename F>
void dispatch_floating(const OpArgs& args, F&& f) {
  if (args.dtype() == DType::F64) {
    f(double{});
  } else {
    f(float{});
  }
}

// Typed pointer to a tensor's elements, or null for an undefined (not wanted) output.
template <typename T>
T* data_or_null(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}

}  // namespace rp::detail
