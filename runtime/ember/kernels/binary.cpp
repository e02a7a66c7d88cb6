// binary.cpp - elementwise kernels of two inputs with NumPy broadcasting,
// comparisons, and where().
//
// An operand is a tensor or a C++ number (OpAttrs kScalarLhs/kScalarRhs).
// The computation dtype follows Note [Type promotion]; division of integers
// is true division (float32), as in PyTorch.
#include <cmath>
#include <type_traits>

#include "ember/kernels/common.h"

namespace ember::kernels {
namespace {

template <typename T>
T int_pow(T base, T exp) {
  if (exp < 0) return base == 1 ? 1 : base == -1 ? (exp % 2 ? -1 : 1) : 0;
  T result = 1;
  while (exp) {
    if (exp & 1) result *= base;
    base *= base;
    exp >>= 1;
  }
  return result;
}

struct Add {
  template <typename T>
  T operator()(T a, T b) const {
    if constexpr (std::is_same_v<T, bool>)
      return a || b;
    else
      return a + b;
  }
};
struct Sub {
  template <typename T>
  T operator()(T a, T b) const {
    return a - b;
  }
};
struct Mul {
  template <typename T>
  T operator()(T a, T b) const {
    if constexpr (std::is_same_v<T, bool>)
      return a && b;
    else
      return a * b;
  }
};
struct Div {
  template <typename T>
  T operator()(T a, T b) const {
    return a / b;
  }
};
struct Pow {
  template <typename T>
  T operator()(T a, T b) const {
    if constexpr (std::is_floating_point_v<T>) {
      if (b == T(2)) return a * a;  // the common case, exact and fast
      return std::pow(a, b);
    } else if constexpr (std::is_same_v<T, bool>) {
      return a || !b;
    } else {
      return int_pow(a, b);
    }
  }
};
struct Maximum {  // NaN from either side propagates
  template <typename T>
  T operator()(T a, T b) const {
    return a != a ? a : (a > b || b != b ? (b != b ? b : a) : b);
  }
};
struct Minimum {
  template <typename T>
  T operator()(T a, T b) const {
    return a != a ? a : (a < b || b != b ? (b != b ? b : a) : b);
  }
};
struct Eq {
  template <typename T>
  bool operator()(T a, T b) const {
    return a == b;
  }
};
struct Ne {
  template <typename T>
  bool operator()(T a, T b) const {
    return a != b;
  }
};
struct Lt {
  template <typename T>
  bool operator()(T a, T b) const {
    return a < b;
  }
};
struct Le {
  template <typename T>
  bool operator()(T a, T b) const {
    return a <= b;
  }
};
struct Gt {
  template <typename T>
  bool operator()(T a, T b) const {
    return a > b;
  }
};
struct Ge {
  template <typename T>
  bool operator()(T a, T b) const {
    return a >= b;
  }
};

template <typename R, typename T, typename F>
void run_binary(const Tensor& out, const Tensor& a, const Tensor& b, const F& f) {
  const Tensor* ops[3] = {&out, &a, &b};
  StridedLoop<3> loop(out.sizes(), ops);
  loop.run([&f](char** p, const int64_t* s, int64_t n) {
    R* o = reinterpret_cast<R*>(p[0]);
    const T* x = reinterpret_cast<const T*>(p[1]);
    const T* y = reinterpret_cast<const T*>(p[2]);
    if (s[0] == sizeof(R) && s[1] == sizeof(T) && s[2] == sizeof(T)) {
      for (int64_t i = 0; i < n; ++i) o[i] = f(x[i], y[i]);
    } else if (s[0] == sizeof(R) && s[1] == sizeof(T) && s[2] == 0) {
      const T yv = *y;
      for (int64_t i = 0; i < n; ++i) o[i] = f(x[i], yv);
    } else if (s[0] == sizeof(R) && s[1] == 0 && s[2] == sizeof(T)) {
      const T xv = *x;
      for (int64_t i = 0; i < n; ++i) o[i] = f(xv, y[i]);
    } else {
      for (int64_t i = 0; i < n; ++i)
        *reinterpret_cast<R*>(p[0] + i * s[0]) =
            f(*reinterpret_cast<const T*>(p[1] + i * s[1]), *reinterpret_cast<const T*>(p[2] + i * s[2]));
    }
  });
}

// A binary op with a C++ number: the number becomes a 0-d operand with
// stride 0 everywhere, which the loop's scalar fast paths handle.
Tensor scalar_operand(const OpAttrs& attrs, DType dtype) {
  Tensor t = make_tensor(Shape(), dtype);
  visit_dtype(dtype, [&](auto tag) {
    using T = decltype(tag);
    *static_cast<T*>(t.data_ptr()) = static_cast<T>(attrs.scalar);
  });
  return t;
}

template <typename F, bool kCompare>
void binary_forward(const OpCall& c) {
  const bool lhs_scalar = c.attrs.has(kScalarLhs), rhs_scalar = c.attrs.has(kScalarRhs);
  const bool number = lhs_scalar || rhs_scalar;
  const TensorMeta lhs = meta_of(c.inputs[0]);
  const TensorMeta rhs = number ? TensorMeta{} : meta_of(c.inputs[1]);
  const meta::Elementwise e = meta::binary(c.op, lhs, number ? nullptr : &rhs, c.attrs);
  const Shape& shape = e.shape;
  const DType dtype = e.compute;
  Tensor a = lhs_scalar ? scalar_operand(c.attrs, dtype) : cast_if_needed(c.inputs[0], dtype);
  Tensor b =
      rhs_scalar ? scalar_operand(c.attrs, dtype) : cast_if_needed(c.inputs[lhs_scalar ? 0 : 1], dtype);
  const DType out_dtype = e.result;
  Tensor& out = prepare_output(c, shape, out_dtype);
  Tensor dst = out.dtype() == out_dtype ? out : make_tensor(shape, out_dtype);
  if (overlaps_differently(a, dst)) a = cast(a, dtype);
  if (overlaps_differently(b, dst)) b = cast(b, dtype);
  visit_dtype(dtype, [&](auto tag) {
    using T = decltype(tag);
    using R = std::conditional_t<kCompare, bool, T>;
    if constexpr (!kCompare && std::is_same_v<T, bool> && std::is_same_v<F, Sub>)
      return;
    else
      run_binary<R, T>(dst, a, b, F{});
  });
  if (!dst.is_same(out)) copy_convert(out, dst);
}

void where_forward(const OpCall& c) {
  const Tensor& cond = c.inputs[0];
  const meta::Elementwise e = meta::where(meta_of(cond), meta_of(c.inputs[1]), meta_of(c.inputs[2]));
  const DType dtype = e.compute;
  const Shape& shape = e.shape;
  Tensor a = cast_if_needed(c.inputs[1], dtype), b = cast_if_needed(c.inputs[2], dtype);
  Tensor& out = prepare_output(c, shape, dtype);
  const Tensor* ops[4] = {&out, &cond, &a, &b};
  StridedLoop<4> loop(shape, ops);
  visit_dtype(dtype, [&](auto tag) {
    using T = decltype(tag);
    loop.run([](char** p, const int64_t* s, int64_t n) {
      for (int64_t i = 0; i < n; ++i) {
        const bool k = *reinterpret_cast<const bool*>(p[1] + i * s[1]);
        *reinterpret_cast<T*>(p[0] + i * s[0]) =
            k ? *reinterpret_cast<const T*>(p[2] + i * s[2]) : *reinterpret_cast<const T*>(p[3] + i * s[3]);
      }
    });
  });
}

}  // namespace
}  // namespace ember::kernels

namespace ember {
void register_binary_kernels(OpRegistry& r) {
  using namespace kernels;
  r.forward(OpId::add, &binary_forward<Add, false>);
  r.forward(OpId::sub, &binary_forward<Sub, false>);
  r.forward(OpId::mul, &binary_forward<Mul, false>);
  r.forward(OpId::div, &binary_forward<Div, false>);
  r.forward(OpId::pow, &binary_forward<Pow, false>);
  r.forward(OpId::maximum, &binary_forward<Maximum, false>);
  r.forward(OpId::minimum, &binary_forward<Minimum, false>);
  r.forward(OpId::eq, &binary_forward<Eq, true>);
  r.forward(OpId::ne, &binary_forward<Ne, true>);
  r.forward(OpId::lt, &binary_forward<Lt, true>);
  r.forward(OpId::le, &binary_forward<Le, true>);
  r.forward(OpId::gt, &binary_forward<Gt, true>);
  r.forward(OpId::ge, &binary_forward<Ge, true>);
  r.forward(OpId::where, &where_forward);
}
}  // namespace ember
