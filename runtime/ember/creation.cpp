// creation.cpp - the creation API: zeros, ones, full, arange, ..., tensor().
#include <cmath>
#include <cstring>

#include "ember/dispatch.h"
#include "ember/kernels/common.h"
#include "ember/ops.h"

namespace ember {

namespace {
Tensor create(OpId op, IntArrayRef shape, DType dtype, double s0, double s1, const Loc& loc) {
  OpAttrs a;
  a.ints = Shape(shape, loc);
  a.dtype = dtype;
  a.scalar = s0;
  a.scalar2 = s1;
  return dispatch(op, {}, a, loc);
}
}  // namespace

Tensor empty(IntArrayRef shape, DType dtype, const Loc& loc) {
  for (int64_t d : shape) EMBER_CHECK(d >= 0, loc, "empty: negative dimension in shape ", shape);
  try {
    return make_tensor(Shape(shape, loc), dtype);
  } catch (const ResourceError& e) {
    rethrow_located(e, "empty", loc);
  }
}
Tensor zeros(IntArrayRef shape, DType dtype, const Loc& loc) { return full(shape, 0, dtype, loc); }
Tensor ones(IntArrayRef shape, DType dtype, const Loc& loc) { return full(shape, 1, dtype, loc); }
Tensor full(IntArrayRef shape, Scalar value, DType dtype, const Loc& loc) {
  return create(OpId::full, shape, dtype, value.to_double(), 0, loc);
}
Tensor zeros_like(const Tensor& t, const Loc& loc) { return zeros(t.sizes(), t.dtype(), loc); }
Tensor ones_like(const Tensor& t, const Loc& loc) { return ones(t.sizes(), t.dtype(), loc); }
Tensor full_like(const Tensor& t, Scalar value, const Loc& loc) {
  return full(t.sizes(), value, t.dtype(), loc);
}

Tensor arange(Scalar end, const Loc& loc) { return arange(0, end, 1, loc); }

Tensor arange(Scalar start, Scalar end, Scalar step, const Loc& loc) {
  const bool floating =
      start.kind() == DType::Float64 || end.kind() == DType::Float64 || step.kind() == DType::Float64;
  return arange(start, end, step, floating ? DType::Float32 : DType::Int64, loc);
}

Tensor arange(Scalar start, Scalar end, Scalar step, DType dtype, const Loc& loc) {
  const double s = start.to_double(), e = end.to_double(), st = step.to_double();
  EMBER_CHECK(st != 0, loc, "arange: step must be nonzero");
  EMBER_CHECK(std::isfinite(s) && std::isfinite(e), loc, "arange: start and end must be finite");
  EMBER_CHECK((e - s) / st >= 0 || s == e, loc, "arange: the step ", st, " goes away from end (start ", s,
              ", end ", e, ")");
  const int64_t n = static_cast<int64_t>(std::ceil((e - s) / st));
  return create(OpId::arange, {n < 0 ? 0 : n}, dtype, s, st, loc);
}

Tensor linspace(double start, double end, int64_t steps, DType dtype, const Loc& loc) {
  EMBER_CHECK(steps >= 0, loc, "linspace: steps must be non-negative, got ", steps);
  return create(OpId::linspace, {steps}, dtype, start, end, loc);
}

Tensor eye(int64_t n, int64_t m, DType dtype, const Loc& loc) {
  return create(OpId::eye, {n, m < 0 ? n : m}, dtype, 0, 0, loc);
}

Tensor rand(IntArrayRef shape, DType dtype, const Loc& loc) {
  return create(OpId::rand, shape, dtype, 0, 0, loc);
}
Tensor randn(IntArrayRef shape, DType dtype, const Loc& loc) {
  return create(OpId::randn, shape, dtype, 0, 0, loc);
}
Tensor randint(int64_t low, int64_t high, IntArrayRef shape, DType dtype, const Loc& loc) {
  return create(OpId::randint, shape, dtype, double(low), double(high), loc);
}
Tensor rand_like(const Tensor& t, const Loc& loc) { return rand(t.sizes(), t.dtype(), loc); }
Tensor randn_like(const Tensor& t, const Loc& loc) { return randn(t.sizes(), t.dtype(), loc); }

Tensor scalar_tensor(Scalar value, const Loc& loc) {
  Tensor t = make_tensor(Shape(), value.kind());
  visit_dtype(value.kind(), [&](auto tag) {
    using T = decltype(tag);
    *static_cast<T*>(t.data_ptr()) = value.to<T>();
  });
  t.impl()->wrapped_number = true;
  return t;
}

template <typename T>
Tensor tensor(const std::vector<T>& values, IntArrayRef shape, const Loc& loc) {
  Shape s = shape.empty() ? Shape{static_cast<int64_t>(values.size())} : Shape(shape, loc);
  EMBER_CHECK(s.numel() == static_cast<int64_t>(values.size()), loc, "tensor: ", values.size(),
              " values do not fill shape ", s);
  using Stored = std::conditional_t<std::is_same_v<T, int>, int32_t,
                                    std::conditional_t<std::is_same_v<T, long long>, int64_t, T>>;
  Tensor t = make_tensor(s, dtype_of<Stored>::value);
  Stored* p = static_cast<Stored*>(t.data_ptr());
  for (size_t i = 0; i < values.size(); ++i) p[i] = static_cast<Stored>(values[i]);
  return t;
}
template Tensor tensor<bool>(const std::vector<bool>&, IntArrayRef, const Loc&);
template Tensor tensor<int32_t>(const std::vector<int32_t>&, IntArrayRef, const Loc&);
template Tensor tensor<int64_t>(const std::vector<int64_t>&, IntArrayRef, const Loc&);
template Tensor tensor<float>(const std::vector<float>&, IntArrayRef, const Loc&);
template Tensor tensor<double>(const std::vector<double>&, IntArrayRef, const Loc&);

Tensor from_blob(void* data, IntArrayRef shape, DType dtype, std::function<void()> on_free, const Loc& loc) {
  EMBER_CHECK(data != nullptr || Shape(shape, loc).numel() == 0, loc, "from_blob: data is null");
  EMBER_CHECK(reinterpret_cast<uintptr_t>(data) % itemsize(dtype) == 0, loc,
              "from_blob: data is not aligned for ", dtype_name(dtype));
  const Shape s(shape, loc);
  auto storage = make_ref<Storage>(data, s.numel() * itemsize(dtype), std::move(on_free));
  return Tensor(make_ref<TensorImpl>(std::move(storage), s, contiguous_strides(s), 0, dtype));
}

}  // namespace ember
