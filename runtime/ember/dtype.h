// dtype.h - element types and PyTorch's type promotion.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

namespace ember {

// Ordered so that the promotion lattice of these five types is `max`:
// bool < int32 < int64 < float32 < float64, exactly as in PyTorch.
enum class DType : uint8_t { Bool, Int32, Int64, Float32, Float64 };
inline constexpr int kNumDTypes = 5;

constexpr size_t itemsize(DType t) {
  switch (t) {
    case DType::Bool:
      return 1;
    case DType::Int32:
      return 4;
    case DType::Int64:
      return 8;
    case DType::Float32:
      return 4;
    case DType::Float64:
      return 8;
  }
  return 0;
}
constexpr bool is_floating(DType t) { return t == DType::Float32 || t == DType::Float64; }
constexpr bool is_integral(DType t, bool include_bool) {
  return t == DType::Int32 || t == DType::Int64 || (include_bool && t == DType::Bool);
}
const char* dtype_name(DType t);

constexpr DType promote_types(DType a, DType b) { return a > b ? a : b; }

// Note [Type promotion]
// Mixed inputs follow PyTorch's result_type: dimensioned tensors decide the
// type unless a 0-d tensor or a C++ number is of a higher category
// (bool < integer < floating); a C++ floating number then gives the default
// float32, a 0-d tensor its own dtype. So `int32_tensor * 2.5` is float32,
// `float32_tensor + float64_scalar_tensor` stays float32, `int32 + int64` is int64.
struct TypePromotion {
  std::optional<DType> dim_result, zero_dim_result, wrapped_result;
  void add_tensor(DType t, int64_t ndim);
  void add_number(DType t);  // a C++ number: Bool, Int64 or Float64
  DType result() const;
};

template <typename T>
struct dtype_of;
template <>
struct dtype_of<bool> {
  static constexpr DType value = DType::Bool;
};
template <>
struct dtype_of<int32_t> {
  static constexpr DType value = DType::Int32;
};
template <>
struct dtype_of<int64_t> {
  static constexpr DType value = DType::Int64;
};
template <>
struct dtype_of<float> {
  static constexpr DType value = DType::Float32;
};
template <>
struct dtype_of<double> {
  static constexpr DType value = DType::Float64;
};

// Calls fn with a value of the C++ type of `t` (e.g. `fn(float{})`).
template <typename Fn>
decltype(auto) visit_dtype(DType t, Fn&& fn) {
  switch (t) {
    case DType::Bool:
      return fn(bool{});
    case DType::Int32:
      return fn(int32_t{});
    case DType::Int64:
      return fn(int64_t{});
    case DType::Float32:
      return fn(float{});
    case DType::Float64:
      return fn(double{});
  }
  return fn(float{});
}

}  // namespace ember
