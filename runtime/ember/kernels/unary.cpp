// unary.cpp - elementwise kernels of one input (neg ... clamp, copy, full_like).
//
// One functor per op; `unary_forward<F>` handles dtypes, in-place outputs and
// the strided loop. Float-only math on an integer tensor computes in float32,
// as in PyTorch.
#include <cmath>
#include <type_traits>

#include "ember/kernels/common.h"
#include "ember/kernels/vec_math.h"

namespace ember::kernels {
namespace {

enum class Domain { FloatOnly, Numeric, Any };

template <typename T>
constexpr bool is_f32 = std::is_same_v<T, float>;

#define EMBER_UNARY_FUNCTOR(Name, domain_, expr)      \
  struct Name {                                       \
    static constexpr Domain domain = Domain::domain_; \
    explicit Name(const OpAttrs&) {}                  \
    template <typename T>                             \
    T operator()(T x) const {                         \
      return expr;                                    \
    }                                                 \
  };

EMBER_UNARY_FUNCTOR(Neg, Numeric, -x)
EMBER_UNARY_FUNCTOR(Exp, FloatOnly, is_f32<T> ? T(vec::exp(float(x))) : T(std::exp(x)))
EMBER_UNARY_FUNCTOR(Log, FloatOnly, std::log(x))
EMBER_UNARY_FUNCTOR(Sqrt, FloatOnly, std::sqrt(x))
EMBER_UNARY_FUNCTOR(Rsqrt, FloatOnly, T(1) / std::sqrt(x))
EMBER_UNARY_FUNCTOR(Abs, Numeric, x < T(0) ? T(-x) : x)
EMBER_UNARY_FUNCTOR(Sign, Numeric, T((T(0) < x) - (x < T(0))))
EMBER_UNARY_FUNCTOR(Sin, FloatOnly, std::sin(x))
EMBER_UNARY_FUNCTOR(Cos, FloatOnly, std::cos(x))
EMBER_UNARY_FUNCTOR(Tanh, FloatOnly, is_f32<T> ? T(vec::tanh(float(x))) : T(std::tanh(x)))
EMBER_UNARY_FUNCTOR(Sigmoid, FloatOnly, is_f32<T> ? T(vec::sigmoid(float(x))) : T(1) / (T(1) + std::exp(-x)))
EMBER_UNARY_FUNCTOR(Relu, Numeric, x < T(0) ? T(0) : x)  // keeps NaN, like torch.relu
EMBER_UNARY_FUNCTOR(Gelu, FloatOnly,
                    is_f32<T> ? T(vec::gelu(float(x))) : T(0.5) * x * (T(1) + std::erf(x * T(M_SQRT1_2))))
EMBER_UNARY_FUNCTOR(Silu, FloatOnly,
                    is_f32<T> ? T(float(x) * vec::sigmoid(float(x))) : x / (T(1) + std::exp(-x)))
EMBER_UNARY_FUNCTOR(Erf, FloatOnly, is_f32<T> ? T(vec::erf(float(x))) : std::erf(x))
// max(x, 0) + log(1 + exp(-|x|)): no overflow for large x, full precision for very negative x.
EMBER_UNARY_FUNCTOR(Softplus, FloatOnly, (x > T(0) ? x : T(0)) + std::log1p(std::exp(-(x < T(0) ? -x : x))))
#undef EMBER_UNARY_FUNCTOR

struct Clamp {
  static constexpr Domain domain = Domain::Numeric;
  explicit Clamp(const OpAttrs& a)
      : lo(a.scalar), hi(a.scalar2), has_lo(a.has(kHasMin)), has_hi(a.has(kHasMax)) {}
  template <typename T>
  T operator()(T x) const {
    if (has_lo) x = x < T(lo) ? T(lo) : x;  // NaN stays NaN
    if (has_hi) x = x > T(hi) ? T(hi) : x;
    return x;
  }
  double lo, hi;
  bool has_lo, has_hi;
};

template <typename T, typename F>
void run_unary(const Tensor& out, const Tensor& x, const F& f) {
  const Tensor* ops[2] = {&out, &x};
  StridedLoop<2> loop(out.sizes(), ops);
  loop.run([&f](char** p, const int64_t* s, int64_t n) {
    if (s[0] == sizeof(T) && s[1] == sizeof(T)) {
      T* o = reinterpret_cast<T*>(p[0]);
      const T* a = reinterpret_cast<const T*>(p[1]);
      for (int64_t i = 0; i < n; ++i) o[i] = f(a[i]);
    } else {
      for (int64_t i = 0; i < n; ++i)
        *reinterpret_cast<T*>(p[0] + i * s[0]) = f(*reinterpret_cast<const T*>(p[1] + i * s[1]));
    }
  });
}

// The functor's `domain` says which C++ types it is instantiated for; the
// op's dtype rule (float math on integers computes in float32, no bool for
// numeric ops) is the schema's, applied by meta::unary.
template <typename F>
void unary_forward(const OpCall& c) {
  const Tensor& x0 = c.inputs[0];
  const DType dtype = meta::unary(c.op, meta_of(x0), c.attrs).compute;
  Tensor x = cast_if_needed(x0, dtype);
  Tensor& out = prepare_output(c, x.sizes(), dtype);
  Tensor dst = out.dtype() == dtype ? out : make_tensor(x.sizes(), dtype);
  if (overlaps_differently(x, dst)) x = cast(x, dtype);
  const F f(c.attrs);
  visit_dtype(dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (F::domain == Domain::FloatOnly && !std::is_floating_point_v<T>)
      return;
    else if constexpr (F::domain == Domain::Numeric && std::is_same_v<T, bool>)
      return;
    else
      run_unary<T>(dst, x, f);
  });
  if (!dst.is_same(out)) copy_convert(out, dst);
}

// copy: to(dtype), clone(), contiguous(), and copy_ (which broadcasts the
// source and converts to the destination's dtype).
void copy_forward(const OpCall& c) {
  const Tensor& src = c.inputs[0];
  Tensor& out = c.outputs[0];
  if (!out.defined()) {
    out = make_tensor(src.sizes(), c.attrs.dtype);
  } else {
    EMBER_CHECK(broadcast_shapes(out.sizes(), src.sizes(), "copy_", c.loc) == out.sizes(), c.loc,
                "copy_: a source of shape ", src.sizes(), " cannot be broadcast to the destination's shape ",
                out.sizes());
  }
  copy_convert(out, overlaps_differently(src, out) ? cast(src, src.dtype()) : src);
}

// full_like: fill_ and zero_ in place, full_like out of place.
void full_like_forward(const OpCall& c) {
  const Tensor& x = c.inputs[0];
  Tensor& out = c.outputs[0];
  if (!out.defined()) out = make_tensor(x.sizes(), x.dtype());
  const double v = c.attrs.scalar;
  visit_dtype(out.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T value = static_cast<T>(v);
    run_unary<T>(out, out, [value](T) { return value; });
  });
}

}  // namespace
}  // namespace ember::kernels

namespace ember {
void register_unary_kernels(OpRegistry& r) {
  using namespace kernels;
  r.forward(OpId::neg, &unary_forward<Neg>);
  r.forward(OpId::exp, &unary_forward<Exp>);
  r.forward(OpId::log, &unary_forward<Log>);
  r.forward(OpId::sqrt, &unary_forward<Sqrt>);
  r.forward(OpId::rsqrt, &unary_forward<Rsqrt>);
  r.forward(OpId::abs, &unary_forward<Abs>);
  r.forward(OpId::sign, &unary_forward<Sign>);
  r.forward(OpId::sin, &unary_forward<Sin>);
  r.forward(OpId::cos, &unary_forward<Cos>);
  r.forward(OpId::tanh, &unary_forward<Tanh>);
  r.forward(OpId::sigmoid, &unary_forward<Sigmoid>);
  r.forward(OpId::relu, &unary_forward<Relu>);
  r.forward(OpId::gelu, &unary_forward<Gelu>);
  r.forward(OpId::silu, &unary_forward<Silu>);
  r.forward(OpId::erf, &unary_forward<Erf>);
  r.forward(OpId::softplus, &unary_forward<Softplus>);
  r.forward(OpId::clamp, &unary_forward<Clamp>);
  r.forward(OpId::copy, &copy_forward);
  r.forward(OpId::full_like, &full_like_forward);
}
}  // namespace ember
