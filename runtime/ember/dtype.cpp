// dtype.cpp - dtype names and the promotion rules of Note [Type promotion].
#include "ember/dtype.h"

namespace ember {

const char* dtype_name(DType t) {
  switch (t) {
    case DType::Bool:
      return "bool";
    case DType::Int32:
      return "int32";
    case DType::Int64:
      return "int64";
    case DType::Float32:
      return "float32";
    case DType::Float64:
      return "float64";
  }
  return "?";
}

namespace {
void merge(std::optional<DType>& into, DType t) { into = into ? promote_types(*into, t) : t; }

// PyTorch's combine_categories: the higher-priority result wins unless the
// lower one is of a higher category.
std::optional<DType> combine(std::optional<DType> higher, std::optional<DType> lower) {
  if (!higher) return lower;
  if (!lower) return higher;
  if (is_floating(*higher)) return higher;
  if (*higher == DType::Bool || is_floating(*lower)) return promote_types(*higher, *lower);
  return higher;
}
}  // namespace

void TypePromotion::add_tensor(DType t, int64_t ndim) { merge(ndim > 0 ? dim_result : zero_dim_result, t); }

void TypePromotion::add_number(DType t) { merge(wrapped_result, is_floating(t) ? DType::Float32 : t); }

DType TypePromotion::result() const {
  auto r = combine(dim_result, combine(zero_dim_result, wrapped_result));
  return r.value_or(DType::Float32);
}

}  // namespace ember
