// The plan cache's key and the checks that need no cuDNN: kept apart from conv2d.cpp so that
// they compile in a second, not in the half minute the frontend's headers take.
#include <array>
#include <cstdint>
#include <functional>
#include <limits>
#include <sstream>

#include "engine/core/error.h"
#include "kernels/cudnn/conv2d.h"

namespace rp::cudnn {
namespace {

// Every field as one list of integers, so that equality and hashing cannot drift apart when a
// field is added.
std::array<std::int64_t, 18> fields(const Conv2dPlanKey& k) {
  return {static_cast<std::int64_t>(k.direction),
          k.g.n,
          k.g.c_in,
          k.g.h,
          k.g.w,
          k.g.c_out,
          k.g.kh,
          k.g.kw,
          k.g.stride_h,
          k.g.stride_w,
          k.g.pad_h,
          k.g.pad_w,
          k.dilation_h,
          k.dilation_w,
          static_cast<std::int64_t>(k.dtype),
          static_cast<std::int64_t>(k.layout),
          static_cast<std::int64_t>(k.tf32),
          k.alignment};
}

// Output extent with dilation, as cuDNN computes it; 0 for a stride the checks will refuse
// (messages describe bad keys too).
std::int64_t out_extent(std::int64_t in, std::int64_t pad, std::int64_t k, std::int64_t dilation,
                        std::int64_t stride) {
  return stride < 1 ? 0 : (in + 2 * pad - dilation * (k - 1) - 1) / stride + 1;
}

}  // namespace

bool Conv2dPlanKey::operator==(const Conv2dPlanKey& o) const {
  return fields(*this) == fields(o);
}

std::size_t Conv2dPlanKeyHash::operator()(const Conv2dPlanKey& k) const noexcept {
  std::size_t h = 0;
  for (std::int64_t v : fields(k)) {
    // boost::hash_combine's mixing step.
    h ^= std::hash<std::int64_t>{}(v) + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  }
  return h;
}

Conv2dPlanKey conv2d_plan_key(Conv2dDirection direction, const Conv2dGeometry& g, DType dtype,
                              bool tf32, std::int64_t alignment) {
  Conv2dPlanKey k;
  k.direction = direction;
  k.g = g;
  k.dtype = dtype;
  k.tf32 = tf32 && dtype == DType::F32;  // TF32 means nothing for other dtypes: one plan
  k.alignment = alignment;
  return k;
}

std::int64_t conv2d_alignment(const void* a, const void* b, const void* out) {
  const std::uintptr_t bits = reinterpret_cast<std::uintptr_t>(a) |
                              reinterpret_cast<std::uintptr_t>(b) |
                              reinterpret_cast<std::uintptr_t>(out);
  for (std::int64_t align : {16, 8}) {
    if (bits % static_cast<std::uintptr_t>(align) == 0) return align;
  }
  return 4;
}

const char* conv2d_op_name(Conv2dDirection direction) {
  switch (direction) {
    case Conv2dDirection::Forward:
      return "conv2d_forward";
    case Conv2dDirection::BackwardData:
      return "conv2d_backward_data";
    case Conv2dDirection::BackwardFilter:
      return "conv2d_backward_filter";
  }
  return "conv2d";
}

std::string conv2d_describe(const Conv2dPlanKey& k) {
  const Conv2dGeometry& g = k.g;
  std::ostringstream s;
  s << dtype_name(k.dtype) << " " << layout_name(k.layout) << " x[" << g.n << "," << g.c_in << ","
    << g.h << "," << g.w << "] w[" << g.c_out << "," << g.c_in << "," << g.kh << "," << g.kw
    << "] -> y[" << g.n << "," << g.c_out << ","
    << out_extent(g.h, g.pad_h, g.kh, k.dilation_h, g.stride_h) << ","
    << out_extent(g.w, g.pad_w, g.kw, k.dilation_w, g.stride_w) << "] stride (" << g.stride_h << ","
    << g.stride_w << ") pad (" << g.pad_h << "," << g.pad_w << ") dilation (" << k.dilation_h << ","
    << k.dilation_w << ") " << (k.tf32 ? "tf32" : "exact") << " math, " << k.alignment
    << "-byte aligned";
  return s.str();
}

void conv2d_check_supported(const Conv2dPlanKey& k) {
  const char* op = conv2d_op_name(k.direction);
  const Conv2dGeometry& g = k.g;
  RP_CHECK(k.dtype == DType::F32 || k.dtype == DType::F64, op,
           "cuDNN convolutions take f32 or f64 here, found " << dtype_name(k.dtype));
  RP_CHECK(k.layout == Layout::NCHW, op,
           "cuDNN convolutions take NCHW tensors here, found " << layout_name(k.layout));
  RP_CHECK(!k.tf32 || k.dtype == DType::F32, op, "TF32 math applies to f32 only");
  RP_CHECK((k.alignment == 4 || k.alignment == 8 || k.alignment == 16) &&
               k.alignment >= static_cast<std::int64_t>(dtype_size(k.dtype)),
           op,
           "operands " << k.alignment << "-byte aligned, expected 4, 8 or 16 and at least the "
                       << dtype_name(k.dtype) << " element size");
  RP_CHECK(
      g.n >= 1 && g.c_in >= 1 && g.h >= 1 && g.w >= 1 && g.c_out >= 1 && g.kh >= 1 && g.kw >= 1, op,
      "every extent must be >= 1: " << conv2d_describe(k));
  RP_CHECK(g.stride_h >= 1 && g.stride_w >= 1 && k.dilation_h >= 1 && k.dilation_w >= 1, op,
           "strides and dilations must be >= 1: " << conv2d_describe(k));
  RP_CHECK(g.pad_h >= 0 && g.pad_w >= 0, op, "padding must be >= 0: " << conv2d_describe(k));
  RP_CHECK(g.h + 2 * g.pad_h >= k.dilation_h * (g.kh - 1) + 1 &&
               g.w + 2 * g.pad_w >= k.dilation_w * (g.kw - 1) + 1,
           op, "the kernel does not fit the padded input: " << conv2d_describe(k));
  // cuDNN's convolution kernels index with 32-bit integers.
  constexpr std::int64_t kMax = std::numeric_limits<std::int32_t>::max();
  const std::int64_t y_numel = g.n * g.c_out *
                               out_extent(g.h, g.pad_h, g.kh, k.dilation_h, g.stride_h) *
                               out_extent(g.w, g.pad_w, g.kw, k.dilation_w, g.stride_w);
  RP_CHECK(
      g.n * g.c_in * g.h * g.w <= kMax && y_numel <= kMax && g.c_out * g.c_in * g.kh * g.kw <= kMax,
      op, "a tensor has more than 2^31 - 1 elements: " << conv2d_describe(k));
}

}  // namespace rp::cudnn
