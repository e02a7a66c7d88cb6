// ops.cpp - the functional API and Tensor's op methods: argument packing
// into OpAttrs, and the composite ops written with table ops.
#include "ember/ops.h"

#include <cmath>

#include "ember/dispatch.h"
#include "ember/grad_mode.h"
#include "ember/meta.h"

namespace ember {

namespace {
OpAttrs with_ints(IntArrayRef ints, const Loc& loc) {
  OpAttrs a;
  a.ints = Shape(ints, loc);
  return a;
}
OpAttrs reduce_attrs(IntArrayRef dims, bool keepdim, const Loc& loc) {
  OpAttrs a = with_ints(dims, loc);
  if (keepdim) a.flags |= kKeepdim;
  return a;
}
OpAttrs dim_attrs(int64_t dim, bool keepdim = false) {
  OpAttrs a;
  a.dim = dim;
  if (keepdim) a.flags |= kKeepdim;
  return a;
}
void check_defined(const Tensor& t, const char* op, const Loc& loc) {
  EMBER_CHECK(t.defined(), loc, op, ": the tensor is undefined");
}
}  // namespace

// --- elementwise ----------------------------------------------------------------

Tensor binary_scalar(OpId op, const Tensor& a, Scalar b, bool scalar_first, const Loc& loc) {
  check_defined(a, op_name(op), loc);
  OpAttrs attrs;
  attrs.scalar = b.to_double();
  attrs.dtype = b.kind();
  attrs.flags = scalar_first ? kScalarLhs : kScalarRhs;
  return dispatch(op, {a}, attrs, loc);
}

Tensor unary(OpId op, const Tensor& x, const Loc& loc) {
  check_defined(x, op_name(op), loc);
  return dispatch(op, {x}, OpAttrs{}, loc);
}

Tensor clamp(const Tensor& x, std::optional<double> min, std::optional<double> max, const Loc& loc) {
  check_defined(x, "clamp", loc);
  EMBER_CHECK(min || max, loc, "clamp: give at least one of min and max");
  OpAttrs a;
  if (min) a.scalar = *min, a.flags |= kHasMin;
  if (max) a.scalar2 = *max, a.flags |= kHasMax;
  return dispatch(OpId::clamp, {x}, a, loc);
}

// --- reductions ---------------------------------------------------------------------

Tensor sum(const Tensor& x, IntArrayRef dims, bool keepdim, const Loc& loc) {
  check_defined(x, "sum", loc);
  return dispatch(OpId::sum, {x}, reduce_attrs(dims, keepdim, loc), loc);
}

Tensor mean(const Tensor& x, IntArrayRef dims, bool keepdim, const Loc& loc) {
  check_defined(x, "mean", loc);
  return dispatch(OpId::mean, {x}, reduce_attrs(dims, keepdim, loc), loc);
}

// --- linear algebra and nn --------------------------------------------------------------

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias, const Loc& loc) {
  check_defined(x, "linear", loc);
  check_defined(weight, "linear", loc);
  EMBER_CHECK(weight.dim() == 2, loc, "linear: the weight must be [out_features, in_features], got ",
              weight.sizes());
  Tensor y = x.matmul(weight.t(loc), loc);
  return bias.defined() ? y.add(bias, loc) : y;
}

Tensor layer_norm(const Tensor& x, IntArrayRef normalized_shape, const Tensor& weight, const Tensor& bias,
                  double eps, const Loc& loc) {
  check_defined(x, "layer_norm", loc);
  const int64_t nd = static_cast<int64_t>(normalized_shape.size());
  EMBER_CHECK(nd >= 1 && nd <= x.dim(), loc, "layer_norm: normalized shape ", normalized_shape,
              " does not fit an input of shape ", x.sizes());
  for (int64_t i = 0; i < nd; ++i)
    EMBER_CHECK(x.size(x.dim() - nd + i) == normalized_shape[i], loc, "layer_norm: normalized shape ",
                normalized_shape, " does not match the trailing dims of the input ", x.sizes());
  EMBER_CHECK(!bias.defined() || weight.defined(), loc, "layer_norm: a bias needs a weight");
  OpAttrs a;
  a.index = nd;
  a.scalar = eps;
  if (bias.defined()) return dispatch(OpId::layer_norm, {x, weight, bias}, a, loc);
  if (weight.defined()) return dispatch(OpId::layer_norm, {x, weight}, a, loc);
  return dispatch(OpId::layer_norm, {x}, a, loc);
}

namespace {
Tensor loss(OpId op, const Tensor& x, const Tensor& t, Reduction r, int64_t ignore, const Loc& loc) {
  check_defined(x, op_name(op), loc);
  check_defined(t, op_name(op), loc);
  OpAttrs a;
  a.dim = static_cast<int64_t>(r);
  a.index = ignore;
  return dispatch(op, {x, t}, a, loc);
}
}  // namespace

Tensor cross_entropy(const Tensor& logits, const Tensor& targets, Reduction reduction, int64_t ignore_index,
                     const Loc& loc) {
  return loss(OpId::cross_entropy, logits, targets, reduction, ignore_index, loc);
}

Tensor nll_loss(const Tensor& log_probs, const Tensor& targets, Reduction reduction, int64_t ignore_index,
                const Loc& loc) {
  return loss(OpId::nll_loss, log_probs, targets, reduction, ignore_index, loc);
}

Tensor cat(const std::vector<Tensor>& tensors, int64_t dim, const Loc& loc) {
  EMBER_CHECK(!tensors.empty(), loc, "cat: needs at least one tensor");
  return dispatch(OpId::cat, tensors, dim_attrs(dim), loc);
}

Tensor stack(const std::vector<Tensor>& tensors, int64_t dim, const Loc& loc) {
  EMBER_CHECK(!tensors.empty(), loc, "stack: needs at least one tensor");
  std::vector<Tensor> parts;
  parts.reserve(tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    check_defined(tensors[i], "stack", loc);
    EMBER_CHECK(tensors[i].sizes() == tensors[0].sizes(), loc, "stack: tensor ", i, " has shape ",
                tensors[i].sizes(), " but tensor 0 has shape ", tensors[0].sizes());
    parts.push_back(tensors[i].unsqueeze(dim, loc));
  }
  return cat(parts, dim, loc);
}

std::vector<Tensor> split(const Tensor& x, int64_t split_size, int64_t dim, const Loc& loc) {
  check_defined(x, "split", loc);
  EMBER_CHECK(split_size > 0, loc, "split: the split size must be positive, got ", split_size);
  const int64_t d = wrap_dim(dim, x.dim(), "split", loc);
  std::vector<Tensor> parts;
  for (int64_t start = 0; start < x.size(d); start += split_size)
    parts.push_back(x.slice(d, start, std::min(start + split_size, x.size(d)), 1, loc));
  return parts;
}

std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim, const Loc& loc) {
  check_defined(x, "chunk", loc);
  EMBER_CHECK(chunks > 0, loc, "chunk: the number of chunks must be positive, got ", chunks);
  const int64_t d = wrap_dim(dim, x.dim(), "chunk", loc);
  const int64_t size = (x.size(d) + chunks - 1) / chunks;
  return split(x, std::max<int64_t>(size, 1), d, loc);
}

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, Conv2dOptions o, const Loc& loc) {
  check_defined(x, "conv2d", loc);
  check_defined(weight, "conv2d", loc);
  OpAttrs a = with_ints({o.stride.first, o.stride.second, o.padding.first, o.padding.second, o.dilation.first,
                         o.dilation.second},
                        loc);
  if (bias.defined()) return dispatch(OpId::conv2d, {x, weight, bias}, a, loc);
  return dispatch(OpId::conv2d, {x, weight}, a, loc);
}

namespace {
OpAttrs pool_attrs(const Pool2dOptions& o, const Loc& loc) {
  const auto stride = o.stride.value_or(o.kernel);
  return with_ints(
      {o.kernel.first, o.kernel.second, stride.first, stride.second, o.padding.first, o.padding.second}, loc);
}
}  // namespace

Tensor max_pool2d(const Tensor& x, Pool2dOptions options, const Loc& loc) {
  check_defined(x, "max_pool2d", loc);
  return dispatch(OpId::max_pool2d, {x}, pool_attrs(options, loc), loc);
}

Tensor avg_pool2d(const Tensor& x, Pool2dOptions options, const Loc& loc) {
  check_defined(x, "avg_pool2d", loc);
  return dispatch(OpId::avg_pool2d, {x}, pool_attrs(options, loc), loc);
}

Tensor dropout(const Tensor& x, double p, bool training, const Loc& loc) {
  check_defined(x, "dropout", loc);
  EMBER_CHECK(p >= 0 && p <= 1, loc, "dropout: p must be in [0, 1], got ", p);
  if (!training || p == 0) return x;
  if (p == 1) return x.mul(0, loc);
  Tensor keep = rand(x.sizes(), x.dtype(), loc).ge(p, loc);
  return x.mul(keep, loc).mul(1.0 / (1.0 - p), loc);
}

Tensor one_hot(const Tensor& indices, int64_t num_classes, const Loc& loc) {
  check_defined(indices, "one_hot", loc);
  EMBER_CHECK(indices.dtype() == DType::Int64 || indices.dtype() == DType::Int32, loc,
              "one_hot: indices must be int64 or int32, not ", dtype_name(indices.dtype()));
  return indices.unsqueeze(-1, loc)
      .eq(arange(0, num_classes, 1, DType::Int64, loc), loc)
      .to(DType::Float32, loc);
}

namespace {
// x, w_ih, w_hh and the biases of a recurrent op (undefined biases: zeros
// of w_hh's rows), then `states`.
std::vector<Tensor> recurrent_operands(const char* op, const Tensor& x, const Tensor& w_ih,
                                       const Tensor& w_hh, const Tensor& b_ih, const Tensor& b_hh,
                                       std::initializer_list<Tensor> states, const Loc& loc) {
  for (const Tensor* t : {&x, &w_ih, &w_hh}) check_defined(*t, op, loc);
  const auto bias = [&](const Tensor& b) {
    return b.defined() ? b : zeros({w_hh.dim() == 2 ? w_hh.size(0) : 0}, x.dtype(), loc);
  };
  std::vector<Tensor> operands{x, w_ih, w_hh, bias(b_ih), bias(b_hh)};
  for (const Tensor& s : states)
    if (s.defined()) operands.push_back(s);
  return operands;
}
}  // namespace

std::pair<Tensor, Tensor> lstm(const Tensor& x, const Tensor& w_ih, const Tensor& w_hh, const Tensor& b_ih,
                               const Tensor& b_hh, const Tensor& h0, const Tensor& c0, const Loc& loc) {
  EMBER_CHECK(h0.defined() == c0.defined(), loc, "lstm: give both h0 and c0, or neither (zeros)");
  const auto [out, gates] = dispatch2(
      OpId::lstm, recurrent_operands("lstm", x, w_ih, w_hh, b_ih, b_hh, {h0, c0}, loc), OpAttrs{}, loc);
  const int64_t h = out.size(2);
  return {out, gates.slice(2, 4 * h, 5 * h, 1, loc)};  // c: the last H of the saved gates
}

Tensor gru(const Tensor& x, const Tensor& w_ih, const Tensor& w_hh, const Tensor& b_ih, const Tensor& b_hh,
           const Tensor& h0, const Loc& loc) {
  // The gates (output 1) are the backward's, not the caller's.
  return dispatch2(OpId::gru, recurrent_operands("gru", x, w_ih, w_hh, b_ih, b_hh, {h0}, loc), OpAttrs{}, loc)
      .first;
}

Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                    const Tensor& attn_mask, bool is_causal, std::optional<double> scale,
                                    const Loc& loc) {
  for (const Tensor* t : {&q, &k, &v}) check_defined(*t, "scaled_dot_product_attention", loc);
  EMBER_CHECK(!(attn_mask.defined() && attn_mask.requires_grad() && is_grad_enabled()), loc,
              "scaled_dot_product_attention: gradients through the mask are not computed; pass "
              "attn_mask.detach()");
  OpAttrs a;
  a.scalar = scale ? *scale : 1.0 / std::sqrt(double(q.dim() ? q.size(-1) : 1));
  if (is_causal) a.flags |= kCausal;
  if (attn_mask.defined()) return dispatch2(OpId::attention, {q, k, v, attn_mask}, a, loc).first;
  return dispatch2(OpId::attention, {q, k, v}, a, loc).first;
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, Scalar value, const Loc& loc) {
  check_defined(x, "masked_fill", loc);
  check_defined(mask, "masked_fill", loc);
  EMBER_CHECK(mask.dtype() == DType::Bool, loc, "masked_fill: the mask must be bool, not ",
              dtype_name(mask.dtype()));
  return where(mask, scalar_tensor(value, loc).to(x.dtype(), loc), x, loc);
}

namespace {
// Where column - row <= diagonal (lower) or >= diagonal (upper), over the
// last two dims of x.
Tensor triangle(const Tensor& x, int64_t diagonal, bool lower, const char* op, const Loc& loc) {
  check_defined(x, op, loc);
  EMBER_CHECK(x.dim() >= 2, loc, op, ": needs at least 2 dims, got shape ", x.sizes());
  const Tensor rows = arange(0, x.size(-2), 1, DType::Int64, loc).unsqueeze(1, loc);
  const Tensor offset = arange(0, x.size(-1), 1, DType::Int64, loc).sub(rows, loc);
  const Tensor keep = lower ? offset.le(diagonal, loc) : offset.ge(diagonal, loc);
  return where(keep, x, scalar_tensor(0, loc).to(x.dtype(), loc), loc);
}
}  // namespace

Tensor tril(const Tensor& x, int64_t diagonal, const Loc& loc) {
  return triangle(x, diagonal, true, "tril", loc);
}
Tensor triu(const Tensor& x, int64_t diagonal, const Loc& loc) {
  return triangle(x, diagonal, false, "triu", loc);
}

// --- Tensor methods ------------------------------------------------------------------------

Tensor Tensor::to(DType dtype, const Loc& loc) const {
  if (dtype == this->dtype()) return *this;
  OpAttrs a;
  a.dtype = dtype;
  return dispatch(OpId::copy, {*this}, a, loc);
}

Tensor Tensor::clone(const Loc& loc) const {
  OpAttrs a;
  a.dtype = dtype();
  return dispatch(OpId::copy, {*this}, a, loc);
}

Tensor Tensor::contiguous(const Loc& loc) const { return is_contiguous() ? *this : clone(loc); }

namespace {
// `shape` with its one -1 resolved from `numel`; `op` names the caller.
Shape resolve_shape(IntArrayRef shape, int64_t numel, const char* op, const Loc& loc) {
  Shape s(shape, loc);
  int64_t infer = -1, known = 1;
  for (int64_t i = 0; i < s.ndim(); ++i) {
    if (s[i] == -1) {
      EMBER_CHECK(infer < 0, loc, op, ": only one dimension can be -1, got ", shape);
      infer = i;
    } else {
      EMBER_CHECK(s[i] >= 0, loc, op, ": invalid dimension ", s[i], " in ", shape);
      EMBER_CHECK(!__builtin_mul_overflow(known, s[i], &known), loc, op, ": shape ", shape,
                  " has more elements than an int64 can count");
    }
  }
  if (infer >= 0) {
    EMBER_CHECK(known != 0 && numel % known == 0, loc, op, ": shape ", shape, " is invalid for a tensor of ",
                numel, " elements");
    s[infer] = numel / known;
  }
  return s;
}
}  // namespace

Tensor Tensor::view(IntArrayRef shape, const Loc& loc) const {
  OpAttrs a;
  a.ints = resolve_shape(shape, numel(), "view", loc);
  return dispatch(OpId::view, {*this}, a, loc);
}

Tensor Tensor::reshape(IntArrayRef shape, const Loc& loc) const {
  const Shape target = resolve_shape(shape, numel(), "reshape", loc);
  EMBER_CHECK(target.numel() == numel(), loc, "reshape: shape ", shape, " is invalid for a tensor of ",
              numel(), " elements");
  if (!view_strides(sizes(), strides(), target)) return contiguous(loc).view(target, loc);
  return view(target, loc);
}

Tensor Tensor::permute(IntArrayRef dims, const Loc& loc) const {
  return dispatch(OpId::permute, {*this}, with_ints(dims, loc), loc);
}

Tensor Tensor::transpose(int64_t d0, int64_t d1, const Loc& loc) const {
  const int64_t a = wrap_dim(d0, dim(), "transpose", loc), b = wrap_dim(d1, dim(), "transpose", loc);
  if (dim() < 2) return *this;
  std::vector<int64_t> perm(dim());
  for (int64_t i = 0; i < dim(); ++i) perm[i] = i;
  std::swap(perm[a], perm[b]);
  return permute(perm, loc);
}

Tensor Tensor::t(const Loc& loc) const {
  EMBER_CHECK(dim() <= 2, loc, "t: expects a tensor of at most 2 dims, got shape ", sizes(),
              "; use transpose() or permute()");
  return dim() < 2 ? *this : permute({1, 0}, loc);
}

Tensor Tensor::slice(int64_t dim_, int64_t start, int64_t end, int64_t step, const Loc& loc) const {
  // INT64_MIN is kDynamic, a run-time end in a generalized graph (meta.cpp):
  // as an eager end it means what any end before the start does.
  if (end == kDynamic) end = kDynamic + 1;
  OpAttrs a = with_ints({start, end, step}, loc);
  a.dim = dim_;
  return dispatch(OpId::slice, {*this}, a, loc);
}

Tensor Tensor::narrow(int64_t dim_, int64_t start, int64_t length, const Loc& loc) const {
  const int64_t d = wrap_dim(dim_, dim(), "narrow", loc);
  const int64_t size = this->size(d);
  const int64_t s = start < 0 ? start + size : start;
  EMBER_CHECK(s >= 0 && length >= 0 && s + length <= size, loc, "narrow: start ", start, " and length ",
              length, " are out of range for dimension ", d, " of size ", size);
  return slice(d, s, s + length, 1, loc);
}

Tensor Tensor::select(int64_t dim_, int64_t index, const Loc& loc) const {
  OpAttrs a;
  a.dim = dim_;
  a.index = index;
  return dispatch(OpId::select, {*this}, a, loc);
}

Tensor Tensor::expand(IntArrayRef shape, const Loc& loc) const {
  return dispatch(OpId::expand, {*this}, with_ints(shape, loc), loc);
}

Tensor Tensor::expand_as(const Tensor& other, const Loc& loc) const { return expand(other.sizes(), loc); }

Tensor Tensor::squeeze(const Loc& loc) const { return dispatch(OpId::squeeze, {*this}, OpAttrs{}, loc); }

Tensor Tensor::squeeze(int64_t dim_, const Loc& loc) const {
  return dispatch(OpId::squeeze, {*this}, with_ints({dim_}, loc), loc);
}

Tensor Tensor::unsqueeze(int64_t dim_, const Loc& loc) const {
  return dispatch(OpId::unsqueeze, {*this}, dim_attrs(dim_), loc);
}

Tensor Tensor::flatten(int64_t start_dim, int64_t end_dim, const Loc& loc) const {
  if (dim() == 0) return reshape({1}, loc);
  const int64_t s = wrap_dim(start_dim, dim(), "flatten", loc), e = wrap_dim(end_dim, dim(), "flatten", loc);
  EMBER_CHECK(s <= e, loc, "flatten: start_dim ", start_dim, " comes after end_dim ", end_dim);
  std::vector<int64_t> shape;
  for (int64_t i = 0; i < s; ++i) shape.push_back(size(i));
  int64_t merged = 1;
  for (int64_t i = s; i <= e; ++i) merged *= size(i);
  shape.push_back(merged);
  for (int64_t i = e + 1; i < dim(); ++i) shape.push_back(size(i));
  return reshape(shape, loc);
}

#define EMBER_BINARY_METHOD(name)                                                                   \
  Tensor Tensor::name(const Tensor& o, const Loc& loc) const { return ember::name(*this, o, loc); } \
  Tensor Tensor::name(Scalar o, const Loc& loc) const {                                             \
    return binary_scalar(OpId::name, *this, o, false, loc);                                         \
  }
EMBER_BINARY_METHOD(add)
EMBER_BINARY_METHOD(sub)
EMBER_BINARY_METHOD(mul)
EMBER_BINARY_METHOD(div)
EMBER_BINARY_METHOD(pow)
EMBER_BINARY_METHOD(eq)
EMBER_BINARY_METHOD(ne)
EMBER_BINARY_METHOD(lt)
EMBER_BINARY_METHOD(le)
EMBER_BINARY_METHOD(gt)
EMBER_BINARY_METHOD(ge)
#undef EMBER_BINARY_METHOD

Tensor Tensor::clamp(std::optional<double> min, std::optional<double> max, const Loc& loc) const {
  return ember::clamp(*this, min, max, loc);
}

#define EMBER_INPLACE_METHOD(name)                                   \
  Tensor& Tensor::name##_(const Tensor& o, const Loc& loc) {         \
    check_defined(o, #name "_", loc);                                \
    dispatch_inplace(OpId::name, *this, {*this, o}, OpAttrs{}, loc); \
    return *this;                                                    \
  }                                                                  \
  Tensor& Tensor::name##_(Scalar o, const Loc& loc) {                \
    OpAttrs a;                                                       \
    a.scalar = o.to_double();                                        \
    a.dtype = o.kind();                                              \
    a.flags = kScalarRhs;                                            \
    dispatch_inplace(OpId::name, *this, {*this}, a, loc);            \
    return *this;                                                    \
  }
EMBER_INPLACE_METHOD(add)
EMBER_INPLACE_METHOD(sub)
EMBER_INPLACE_METHOD(mul)
EMBER_INPLACE_METHOD(div)
#undef EMBER_INPLACE_METHOD

Tensor& Tensor::copy_(const Tensor& src, const Loc& loc) {
  check_defined(src, "copy_", loc);
  OpAttrs a;
  a.dtype = dtype();
  dispatch_inplace(OpId::copy, *this, {src}, a, loc);
  return *this;
}

Tensor& Tensor::fill_(Scalar value, const Loc& loc) {
  OpAttrs a;
  a.scalar = value.to_double();
  dispatch_inplace(OpId::full_like, *this, {*this}, a, loc);
  return *this;
}

Tensor& Tensor::zero_(const Loc& loc) { return fill_(0, loc); }

Tensor Tensor::masked_fill(const Tensor& mask, Scalar value, const Loc& loc) const {
  return ember::masked_fill(*this, mask, value, loc);
}
Tensor Tensor::tril(int64_t diagonal, const Loc& loc) const { return ember::tril(*this, diagonal, loc); }
Tensor Tensor::triu(int64_t diagonal, const Loc& loc) const { return ember::triu(*this, diagonal, loc); }
Tensor Tensor::sum(IntArrayRef dims, bool keepdim, const Loc& loc) const {
  return ember::sum(*this, dims, keepdim, loc);
}
Tensor Tensor::mean(IntArrayRef dims, bool keepdim, const Loc& loc) const {
  return ember::mean(*this, dims, keepdim, loc);
}

Tensor Tensor::var(IntArrayRef dims, int64_t correction, bool keepdim, const Loc& loc) const {
  OpAttrs a = reduce_attrs(dims, keepdim, loc);
  a.index = correction;
  return dispatch(OpId::var, {*this}, a, loc);
}

Tensor Tensor::logsumexp(IntArrayRef dims, bool keepdim, const Loc& loc) const {
  return dispatch(OpId::logsumexp, {*this}, reduce_attrs(dims, keepdim, loc), loc);
}

Tensor Tensor::amax(IntArrayRef dims, bool keepdim, const Loc& loc) const {
  return dispatch(OpId::amax, {*this}, reduce_attrs(dims, keepdim, loc), loc);
}

Tensor Tensor::amin(IntArrayRef dims, bool keepdim, const Loc& loc) const {
  return dispatch(OpId::amin, {*this}, reduce_attrs(dims, keepdim, loc), loc);
}

Tensor Tensor::max(const Loc& loc) const { return amax({}, false, loc); }
Tensor Tensor::min(const Loc& loc) const { return amin({}, false, loc); }

std::pair<Tensor, Tensor> Tensor::max(int64_t dim_, bool keepdim, const Loc& loc) const {
  return dispatch2(OpId::max_dim, {*this}, dim_attrs(dim_, keepdim), loc);
}

std::pair<Tensor, Tensor> Tensor::min(int64_t dim_, bool keepdim, const Loc& loc) const {
  return dispatch2(OpId::min_dim, {*this}, dim_attrs(dim_, keepdim), loc);
}

Tensor Tensor::argmax(int64_t dim_, bool keepdim, const Loc& loc) const {
  return dispatch(OpId::argmax, {*this}, dim_attrs(dim_, keepdim), loc);
}

Tensor Tensor::argmin(int64_t dim_, bool keepdim, const Loc& loc) const {
  return dispatch(OpId::argmin, {*this}, dim_attrs(dim_, keepdim), loc);
}

Tensor Tensor::matmul(const Tensor& o, const Loc& loc) const { return ember::matmul(*this, o, loc); }

// --- operators ------------------------------------------------------------------------------

Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator+(const Tensor& a, Scalar b) { return binary_scalar(OpId::add, a, b, false); }
Tensor operator-(const Tensor& a, Scalar b) { return binary_scalar(OpId::sub, a, b, false); }
Tensor operator*(const Tensor& a, Scalar b) { return binary_scalar(OpId::mul, a, b, false); }
Tensor operator/(const Tensor& a, Scalar b) { return binary_scalar(OpId::div, a, b, false); }
Tensor operator+(Scalar a, const Tensor& b) { return binary_scalar(OpId::add, b, a, true); }
Tensor operator-(Scalar a, const Tensor& b) { return binary_scalar(OpId::sub, b, a, true); }
Tensor operator*(Scalar a, const Tensor& b) { return binary_scalar(OpId::mul, b, a, true); }
Tensor operator/(Scalar a, const Tensor& b) { return binary_scalar(OpId::div, b, a, true); }
Tensor operator-(const Tensor& a) { return unary(OpId::neg, a); }
Tensor operator==(const Tensor& a, const Tensor& b) { return eq(a, b); }
Tensor operator!=(const Tensor& a, const Tensor& b) { return ne(a, b); }
Tensor operator<(const Tensor& a, const Tensor& b) { return lt(a, b); }
Tensor operator<=(const Tensor& a, const Tensor& b) { return le(a, b); }
Tensor operator>(const Tensor& a, const Tensor& b) { return gt(a, b); }
Tensor operator>=(const Tensor& a, const Tensor& b) { return ge(a, b); }
Tensor operator==(const Tensor& a, Scalar b) { return binary_scalar(OpId::eq, a, b, false); }
Tensor operator!=(const Tensor& a, Scalar b) { return binary_scalar(OpId::ne, a, b, false); }
Tensor operator<(const Tensor& a, Scalar b) { return binary_scalar(OpId::lt, a, b, false); }
Tensor operator<=(const Tensor& a, Scalar b) { return binary_scalar(OpId::le, a, b, false); }
Tensor operator>(const Tensor& a, Scalar b) { return binary_scalar(OpId::gt, a, b, false); }
Tensor operator>=(const Tensor& a, Scalar b) { return binary_scalar(OpId::ge, a, b, false); }
Tensor& operator+=(Tensor& a, const Tensor& b) { return a.add_(b); }
Tensor& operator-=(Tensor& a, const Tensor& b) { return a.sub_(b); }
Tensor& operator*=(Tensor& a, const Tensor& b) { return a.mul_(b); }
Tensor& operator/=(Tensor& a, const Tensor& b) { return a.div_(b); }
Tensor& operator+=(Tensor& a, Scalar b) { return a.add_(b); }
Tensor& operator-=(Tensor& a, Scalar b) { return a.sub_(b); }
Tensor& operator*=(Tensor& a, Scalar b) { return a.mul_(b); }
Tensor& operator/=(Tensor& a, Scalar b) { return a.div_(b); }

}  // namespace ember
