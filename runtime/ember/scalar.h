// scalar.h - a C++ number passed to an op (`x * 1.5`, `x.add_(1)`).
#pragma once

#include <cstdint>
#include <type_traits>

#include "ember/dtype.h"

namespace ember {

// Keeps the number's category (bool, integer, floating): it takes part in type
// promotion as a "wrapped number" (Note [Type promotion]).
class Scalar {
 public:
  template <typename T>
  requires std::is_arithmetic_v<T> Scalar(T v) {  // NOLINT: implicit, like at::Scalar
    if constexpr (std::is_same_v<T, bool>) {
      kind_ = DType::Bool;
      d_ = v;
      i_ = v;
    } else if constexpr (std::is_integral_v<T>) {
      kind_ = DType::Int64;
      i_ = static_cast<int64_t>(v);
      d_ = static_cast<double>(v);
    } else {
      kind_ = DType::Float64;
      d_ = static_cast<double>(v);
      i_ = saturating_int(d_);
    }
  }
  DType kind() const { return kind_; }
  double to_double() const { return d_; }
  int64_t to_int() const { return i_; }
  template <typename T>
  T to() const {
    if constexpr (std::is_floating_point_v<T>)
      return static_cast<T>(d_);
    else if constexpr (std::is_same_v<T, bool>)
      return d_ != 0;
    else
      return static_cast<T>(kind_ == DType::Float64 ? saturating_int(d_) : i_);
  }

 private:
  // A double as an int64 without undefined behaviour: truncated, clamped to
  // int64's range, NaN as 0 (inf would otherwise be UB to convert).
  static int64_t saturating_int(double v) {
    if (!(v == v)) return 0;
    if (v >= 9223372036854775807.0) return INT64_MAX;
    if (v <= -9223372036854775808.0) return INT64_MIN;
    return static_cast<int64_t>(v);
  }

  double d_ = 0;
  int64_t i_ = 0;
  DType kind_ = DType::Float64;
};

}  // namespace ember
