// Element types. fp32 is the compute type of every op today; f64 exists for the CPU reference
// so gradient checks can run in double; bf16/f16 are reserved for the tensor-core path (ops
// refuse them until they have kernels); i32 holds labels and u8 raw images.
#pragma once

#include <cstddef>
#include <cstdint>

namespace rp {

enum class DType : std::uint8_t { F32, F64, BF16, F16, I32, U8 };

std::size_t dtype_size(DType dtype);
const char* dtype_name(DType dtype);  // "f32", "f64", ...
bool dtype_is_floating(DType dtype);

template <typename T>
struct DTypeOf;
template <>
struct DTypeOf<float> {
  static constexpr DType value = DType::F32;
};
template <>
struct DTypeOf<double> {
  static constexpr DType value = DType::F64;
};
template <>
struct DTypeOf<std::int32_t> {
  static constexpr DType value = DType::I32;
};
template <>
struct DTypeOf<std::uint8_t> {
  static constexpr DType value = DType::U8;
};
template <typename T>
constexpr DType dtype_of = DTypeOf<T>::value;

}  // namespace rp
