// meta.cpp - the shape and dtype rules; see Note [One set of shape rules].
#include "ember/meta.h"

#include <algorithm>

#include "ember/kernels/gru.h"
#include "ember/kernels/lstm.h"
#include "ember/op_attrs.h"

namespace ember {

namespace {

template <typename... Parts>
[[noreturn]] void refuse(const Parts&... parts) {
  throw ShapeError(detail::concat(parts...));
}

#define META_CHECK(cond, ...) \
  do {                        \
    if (!(cond)) [[unlikely]] \
      refuse(__VA_ARGS__);    \
  } while (0)

bool is_dynamic(int64_t d) { return d == kDynamic; }

}  // namespace

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op, const Loc& loc) {
  try {
    return meta::broadcast(a, b, op);
  } catch (const ShapeError& e) {
    throw_error(e.what(), loc);
  }
}

int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op, const Loc& loc) {
  try {
    return meta::wrap_dim(dim, ndim, op);
  } catch (const ShapeError& e) {
    throw_error(e.what(), loc);
  }
}

TensorMeta meta_of(const Tensor& t) { return {t.sizes(), t.dtype(), t.impl()->wrapped_number}; }

namespace meta {

int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op) {
  const int64_t n = ndim > 0 ? ndim : 1;  // a 0-d tensor accepts dim 0 and -1
  META_CHECK(dim >= -n && dim < n, op, ": dimension ", dim, " is out of range for a ", ndim,
             "-d tensor (expected [", -n, ", ", n - 1, "])");
  return dim < 0 ? dim + n : dim;
}

Shape broadcast(const Shape& a, const Shape& b, const char* op) {
  const int64_t n = std::max(a.ndim(), b.ndim());
  Shape out;
  out.resize(n);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t ai = i - (n - a.ndim()), bi = i - (n - b.ndim());
    const int64_t da = ai >= 0 ? a[ai] : 1, db = bi >= 0 ? b[bi] : 1;
    if (is_dynamic(da) || is_dynamic(db)) {
      // A run-time size against 1 is that size; against a known n > 1 it
      // must be n (a guard of the caller's); two run-time sizes must agree.
      out[i] = da == 1 ? db : db == 1 ? da : is_dynamic(da) ? db : da;
      continue;
    }
    META_CHECK(da == db || da == 1 || db == 1, op, ": shapes ", a, " and ", b,
               " cannot be broadcast (dimension ", i, ": ", da, " vs ", db, ")");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

int64_t numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) {
    if (is_dynamic(d)) return kDynamic;
    n *= d;
  }
  return n;
}

// --- elementwise ---------------------------------------------------------------

Elementwise unary(OpId op, const TensorMeta& x, const OpAttrs& attrs) {
  const OpInfo& info = op_info(op);
  DType dtype = x.dtype;
  if (op == OpId::copy) return {x.sizes, attrs.dtype, attrs.dtype};
  if (op == OpId::clamp) META_CHECK(attrs.has(kHasMin | kHasMax), "clamp: give at least one of min and max");
  switch (info.rule) {
    case OpRule::FloatDomain:  // integers compute in float32, as PyTorch's exp does
      if (!is_floating(dtype)) dtype = DType::Float32;
      break;
    case OpRule::NumericDomain:
      META_CHECK(dtype != DType::Bool, info.name, ": not supported for bool tensors");
      break;
    default:
      break;
  }
  return {x.sizes, dtype, dtype};
}

namespace {
void add_operand(TypePromotion& promo, const TensorMeta& t) {
  if (t.wrapped_number)
    promo.add_number(t.dtype);
  else
    promo.add_tensor(t.dtype, t.sizes.ndim());
}
}  // namespace

Elementwise binary(OpId op, const TensorMeta& lhs, const TensorMeta* rhs, const OpAttrs& attrs) {
  const OpInfo& info = op_info(op);
  TypePromotion promo;
  Shape shape;
  if (!rhs) {  // a C++ number on one side
    promo.add_tensor(lhs.dtype, lhs.sizes.ndim());
    promo.add_number(attrs.dtype);
    shape = lhs.sizes;
  } else {
    add_operand(promo, lhs);
    add_operand(promo, *rhs);
    shape = broadcast(lhs.sizes, rhs->sizes, info.name);
  }
  DType compute = promo.result();
  if (info.rule == OpRule::Div && !is_floating(compute)) compute = DType::Float32;
  META_CHECK(!(op == OpId::sub && compute == DType::Bool),
             "sub: subtracting bool tensors is not supported; use logical operations");
  return {shape, compute, info.rule == OpRule::Compare ? DType::Bool : compute};
}

Elementwise where(const TensorMeta& cond, const TensorMeta& a, const TensorMeta& b) {
  META_CHECK(cond.dtype == DType::Bool, "where: the condition must be bool, not ", dtype_name(cond.dtype));
  TypePromotion promo;
  add_operand(promo, a);
  add_operand(promo, b);
  const Shape shape = broadcast(broadcast(cond.sizes, a.sizes, "where"), b.sizes, "where");
  return {shape, promo.result(), promo.result()};
}

// --- reductions ------------------------------------------------------------------

ReduceDims reduce_dims(const Shape& shape, IntArrayRef dims, bool keepdim, const char* op) {
  ReduceDims r;
  if (dims.empty()) {
    for (int64_t d = 0; d < shape.ndim(); ++d) r.mask[d] = true;
  } else {
    for (int64_t d : dims) {
      const int64_t w = wrap_dim(d, shape.ndim(), op);
      META_CHECK(!r.mask[w] || shape.ndim() == 0, op, ": dimension ", d, " appears more than once in ", dims);
      r.mask[w] = true;
    }
  }
  for (int64_t d = 0; d < shape.ndim(); ++d) {
    if (r.mask[d]) {
      r.count = is_dynamic(shape[d]) || is_dynamic(r.count) ? kDynamic : r.count * shape[d];
      r.kept_shape.push_back(1);
      if (keepdim) r.out_shape.push_back(1);
    } else {
      r.kept_shape.push_back(shape[d]);
      r.out_shape.push_back(shape[d]);
    }
  }
  return r;
}

TensorMeta reduce(OpId op, const TensorMeta& x, const OpAttrs& attrs) {
  const OpInfo& info = op_info(op);
  const ReduceDims rd = reduce_dims(x.sizes, attrs.ints, attrs.has(kKeepdim), info.name);
  DType dtype = x.dtype;
  if (info.rule == OpRule::SumType && !is_floating(dtype)) dtype = DType::Int64;
  if (info.rule == OpRule::FloatType)
    META_CHECK(is_floating(dtype), info.name, ": needs a floating-point tensor, not ", dtype_name(dtype),
               "; convert it with to(float32) first");
  const bool identity = op == OpId::sum || op == OpId::mean;  // an empty sum is 0, an empty mean NaN
  META_CHECK(identity || rd.count != 0 || numel(rd.out_shape) == 0, info.name,
             ": cannot reduce over zero elements (input shape ", x.sizes, ")");
  return {rd.out_shape, dtype};
}

Shape index_reduce(OpId op, const TensorMeta& x, const OpAttrs& attrs) {
  const OpInfo& info = op_info(op);
  META_CHECK(x.dtype != DType::Bool || info.num_outputs == 1, info.name, ": not supported for bool tensors");
  const int64_t dim = wrap_dim(attrs.dim, x.sizes.ndim(), info.name);
  const int64_t len = x.sizes.ndim() ? x.sizes[dim] : 1;
  META_CHECK(len != 0, info.name, ": cannot reduce over dimension ", attrs.dim, " of size 0 (input shape ",
             x.sizes, ")");
  Shape shape;
  for (int64_t d = 0; d < x.sizes.ndim(); ++d) {
    if (d != dim)
      shape.push_back(x.sizes[d]);
    else if (attrs.has(kKeepdim))
      shape.push_back(1);
  }
  return shape;
}

// --- linear algebra -----------------------------------------------------------------

Matmul matmul(const TensorMeta& lhs, const TensorMeta& rhs) {
  const Shape& a = lhs.sizes;
  const Shape& b = rhs.sizes;
  META_CHECK(a.ndim() >= 1 && b.ndim() >= 1, "matmul: both operands need at least 1 dimension, got shapes ",
             a, " and ", b);
  META_CHECK(lhs.dtype == rhs.dtype, "matmul: operands must have the same dtype, got ", dtype_name(lhs.dtype),
             " and ", dtype_name(rhs.dtype));
  META_CHECK(lhs.dtype != DType::Bool, "matmul: not supported for bool tensors");
  Matmul r;
  r.lhs_vector = a.ndim() == 1;
  r.rhs_vector = b.ndim() == 1;
  r.m = r.lhs_vector ? 1 : a[a.ndim() - 2];
  r.k = a[a.ndim() - 1];
  const int64_t k2 = r.rhs_vector ? b[0] : b[b.ndim() - 2];
  r.n = r.rhs_vector ? 1 : b[b.ndim() - 1];
  META_CHECK(r.k == k2 || is_dynamic(r.k) || is_dynamic(k2), "matmul: shapes ", a, " and ", b,
             " cannot be multiplied (", r.k, " != ", k2, ")");
  Shape a_batch, b_batch;
  for (int64_t d = 0; d + 2 < a.ndim(); ++d) a_batch.push_back(a[d]);
  for (int64_t d = 0; d + 2 < b.ndim(); ++d) b_batch.push_back(b[d]);
  r.batch = broadcast(a_batch, b_batch, "matmul");
  r.shape = r.batch;
  if (!r.lhs_vector) r.shape.push_back(r.m);
  if (!r.rhs_vector) r.shape.push_back(r.n);
  return r;
}

// --- views ------------------------------------------------------------------------------

Slice slice(const Shape& x, int64_t dim, int64_t start, int64_t end, int64_t step) {
  META_CHECK(x.ndim() > 0, "slice: cannot slice a 0-d tensor");
  const int64_t d = wrap_dim(dim, x.ndim(), "slice");
  META_CHECK(step > 0, "slice: step must be positive, got ", step);
  const int64_t size = x[d];
  if (is_dynamic(end)) {  // a generalized graph's slice to a run-time length (Tensor::slice never makes one)
    META_CHECK(step == 1 && start >= 0 && !is_dynamic(size),
               "slice: a run-time end needs a static dim, a start "
               "of at least 0 and step 1");
    return {d, start, kDynamic, step};
  }
  if (start < 0) start += size;
  if (end < 0) end += size;
  start = std::clamp<int64_t>(start, 0, size);
  end = std::clamp<int64_t>(end, start, size);
  return {d, start, (end - start + step - 1) / step, step};
}

Shape view_shape(const TensorMeta& x, const Shape& shape) {
  // A `?` dim of the new shape only where the input has one too (a graph
  // with dynamic dims: Note [Automatic dynamic dims]); eager sizes never are.
  const bool dynamic_input = is_dynamic(numel(x.sizes));
  for (int64_t d : shape)
    META_CHECK(d >= 0 || (is_dynamic(d) && dynamic_input), "view: invalid dimension ", d, " in ", shape);
  if (is_dynamic(numel(shape)) || dynamic_input) return shape;  // the element counts agree at run time
  META_CHECK(numel(shape) == numel(x.sizes), "view: shape ", shape, " is invalid for a tensor of ",
             numel(x.sizes), " elements (shape ", x.sizes, ")");
  return shape;
}

Shape permute_shape(const TensorMeta& x, const Shape& perm) {
  META_CHECK(perm.ndim() == x.sizes.ndim(), "permute: ", perm, " has ", perm.ndim(),
             " dims but the input has ", x.sizes.ndim(), " (shape ", x.sizes, ")");
  bool seen[kMaxDims] = {};
  Shape shape;
  for (int64_t i = 0; i < perm.ndim(); ++i) {
    const int64_t d = wrap_dim(perm[i], x.sizes.ndim(), "permute");
    META_CHECK(!seen[d], "permute: dimension ", d, " appears twice in ", perm);
    seen[d] = true;
    shape.push_back(x.sizes[d]);
  }
  return shape;
}

Shape select_shape(const TensorMeta& x, int64_t dim, int64_t index) {
  META_CHECK(x.sizes.ndim() > 0, "select: cannot index a 0-d tensor");
  const int64_t d = wrap_dim(dim, x.sizes.ndim(), "select");
  const int64_t size = x.sizes[d];
  META_CHECK(is_dynamic(size) || (index >= -size && index < size), "select: index ", index,
             " is out of range for dimension ", dim, " of size ", size);
  Shape shape = x.sizes;
  shape.erase(d);
  return shape;
}

Shape expand_shape(const TensorMeta& x, const Shape& target) {
  const int64_t lead = target.ndim() - x.sizes.ndim();
  META_CHECK(lead >= 0, "expand: the target ", target, " has fewer dimensions than the input ", x.sizes);
  Shape shape = target;
  for (int64_t i = 0; i < target.ndim(); ++i) {
    // A `?` target (a generalized graph's, Note [Automatic dynamic dims]) is
    // a size known at run time: the input's dim there is 1 or `?` too.
    if (i < lead) {
      META_CHECK(target[i] >= 0 || is_dynamic(target[i]),
                 "expand: -1 is not allowed for a new leading dimension (target ", target, ")");
      continue;
    }
    const int64_t have = x.sizes[i - lead], want = target[i] == -1 ? have : target[i];
    META_CHECK(want >= 0 || is_dynamic(want), "expand: invalid size ", target[i], " in ", target);
    META_CHECK(want == have || have == 1 || is_dynamic(want) || is_dynamic(have), "expand: the size ", want,
               " must match the existing size ", have, " at dimension ", i, " (target ", target, ", input ",
               x.sizes, ")");
    shape[i] = want;
  }
  return shape;
}

Shape squeeze_shape(const TensorMeta& x, const Shape& dims) {
  bool drop[kMaxDims] = {};
  const int64_t rank = x.sizes.ndim();
  if (dims.ndim() == 0) {
    for (int64_t d = 0; d < rank; ++d) drop[d] = x.sizes[d] == 1;
  } else {
    for (int64_t d : dims) {
      const int64_t w = wrap_dim(d, rank, "squeeze");
      drop[w] = rank > 0 && x.sizes[w] == 1;
    }
  }
  Shape shape;
  for (int64_t d = 0; d < rank; ++d)
    if (!drop[d]) shape.push_back(x.sizes[d]);
  return shape;
}

Shape unsqueeze_shape(const TensorMeta& x, int64_t dim) {
  const int64_t d = wrap_dim(dim, x.sizes.ndim() + 1, "unsqueeze");
  META_CHECK(x.sizes.ndim() < kMaxDims, "unsqueeze: ", x.sizes, " has ", kMaxDims, " dimensions already");
  Shape shape = x.sizes;
  shape.insert(d, 1);
  return shape;
}

// slice_backward/select_backward: x must be what the slice of input_shape gives.
Shape scatter_shape(OpId op, const TensorMeta& x, const OpAttrs& attrs) {
  const Shape& input = attrs.ints;
  for (int64_t d : input)  // (`?`: a generalized graph's, Note [Automatic dynamic dims])
    META_CHECK(d >= 0 || is_dynamic(d), op_name(op), ": invalid input shape ", input);
  const TensorMeta whole{input, x.dtype};
  Shape part;
  if (op == OpId::slice_backward) {
    META_CHECK(attrs.ints2.ndim() == 3, "slice_backward: needs [start, end, step]");
    const Slice s = slice(input, attrs.dim, attrs.ints2[0], attrs.ints2[1], attrs.ints2[2]);
    part = input;
    part[s.dim] = s.length;
  } else {
    part = select_shape(whole, attrs.dim, attrs.index);
  }
  META_CHECK(part == x.sizes, op_name(op), ": the gradient has shape ", x.sizes, " but the ",
             op == OpId::slice_backward ? "slice" : "selection", " of ", input, " has shape ", part);
  return input;
}

// --- convolution and pooling -------------------------------------------------------------

ConvGeometry conv2d(const Shape& x, const Shape& wt, const Shape& g, const char* op) {
  META_CHECK(x.ndim() == 4, op, ": expected input [N, C, H, W], got ", x);
  META_CHECK(wt.ndim() == 4, op, ": expected weight [O, C, kh, kw], got ", wt);
  META_CHECK(g.ndim() == 6, op, ": geometry must be [stride h, w, padding h, w, dilation h, w], got ", g);
  META_CHECK(x[1] == wt[1], op, ": input ", x, " has ", x[1], " channels but weight ", wt, " expects ",
             wt[1]);
  ConvGeometry q{x[0], x[1], x[2], x[3], wt[0], wt[2], wt[3], g[0], g[1], g[2], g[3], g[4], g[5], 0, 0};
  META_CHECK(q.sh > 0 && q.sw > 0 && q.dh > 0 && q.dw > 0 && q.ph >= 0 && q.pw >= 0, op,
             ": stride and dilation must be positive and padding non-negative, got ", g);
  q.oh = (q.h + 2 * q.ph - q.dh * (q.kh - 1) - 1) / q.sh + 1;
  q.ow = (q.w + 2 * q.pw - q.dw * (q.kw - 1) - 1) / q.sw + 1;
  META_CHECK(q.oh > 0 && q.ow > 0, op, ": the kernel ", wt, " is larger than the padded input ", x);
  return q;
}

ConvGeometry pool2d(const Shape& x, const Shape& g, const char* op) {
  META_CHECK(x.ndim() == 4, op, ": expected input [N, C, H, W], got ", x);
  META_CHECK(g.ndim() == 6, op, ": geometry must be [kernel h, w, stride h, w, padding h, w], got ", g);
  ConvGeometry q{x[0], x[1], x[2], x[3], x[1], g[0], g[1], g[2], g[3], g[4], g[5], 1, 1, 0, 0};
  META_CHECK(q.kh > 0 && q.kw > 0 && q.sh > 0 && q.sw > 0, op, ": kernel and stride must be positive, got ",
             g);
  META_CHECK(q.ph >= 0 && q.pw >= 0 && 2 * q.ph <= q.kh && 2 * q.pw <= q.kw, op,
             ": padding must be at most half the kernel size, got ", g);
  q.oh = (q.h + 2 * q.ph - q.kh) / q.sh + 1;
  q.ow = (q.w + 2 * q.pw - q.kw) / q.sw + 1;
  META_CHECK(q.oh > 0 && q.ow > 0, op, ": the kernel is larger than the padded input ", x);
  return q;
}

}  // namespace meta

// --- nn ops -------------------------------------------------------------------------------

namespace {

TensorMeta along(OpId op, const TensorMeta& x, int64_t dim) {
  META_CHECK(is_floating(x.dtype), op_name(op), ": needs a floating-point tensor, not ", dtype_name(x.dtype));
  meta::wrap_dim(dim, x.sizes.ndim(), op_name(op));
  return x;
}

TensorMeta layer_norm(const TensorMeta* in, int n, int64_t nd) {
  META_CHECK(n >= 1 && n <= 3, "layer_norm: takes x, and optionally weight and bias");
  const TensorMeta& x = in[0];
  META_CHECK(is_floating(x.dtype), "layer_norm: needs a floating-point tensor, not ", dtype_name(x.dtype));
  META_CHECK(nd >= 1 && nd <= x.sizes.ndim(), "layer_norm: cannot normalize the last ", nd,
             " dims of a tensor of shape ", x.sizes);
  Shape norm;
  for (int64_t d = x.sizes.ndim() - nd; d < x.sizes.ndim(); ++d) norm.push_back(x.sizes[d]);
  for (int i = 1; i < n; ++i) {
    const char* what = i == 1 ? "weight" : "bias";
    META_CHECK(in[i].sizes == norm, "layer_norm: ", what, " has shape ", in[i].sizes,
               " but the normalized shape is ", norm);
    META_CHECK(in[i].dtype == x.dtype, "layer_norm: ", what, " is ", dtype_name(in[i].dtype),
               " but the input is ", dtype_name(x.dtype));
  }
  return {x.sizes, x.dtype};
}

TensorMeta loss(OpId op, const TensorMeta& x, const TensorMeta& t, int64_t reduction) {
  const char* name = op_name(op);
  META_CHECK(x.sizes.ndim() == 2, name, ": expected input of shape [N, C], got ", x.sizes);
  META_CHECK(is_floating(x.dtype), name, ": the input must be floating point, not ", dtype_name(x.dtype));
  META_CHECK(t.dtype == DType::Int64 || t.dtype == DType::Int32, name,
             ": targets must be int64 or int32 class indices, not ", dtype_name(t.dtype));
  META_CHECK(t.sizes.ndim() == 1 && t.sizes[0] == x.sizes[0], name, ": targets of shape ", t.sizes,
             " do not match the input of shape ", x.sizes, " (expected [", x.sizes[0], "])");
  META_CHECK(reduction >= 0 && reduction <= 2, name,
             ": reduction must be 0 (none), 1 (mean) or 2 (sum), got ", reduction);
  return {reduction == 0 ? Shape{x.sizes[0]} : Shape(), x.dtype};
}

void check_indices(OpId op, const TensorMeta& idx) {
  META_CHECK(idx.dtype == DType::Int64 || idx.dtype == DType::Int32, op_name(op),
             ": indices must be int64 or int32, not ", dtype_name(idx.dtype));
}

TensorMeta cat(const TensorMeta* in, int n, int64_t dim) {
  META_CHECK(n > 0, "cat: needs at least one tensor");
  const Shape& first = in[0].sizes;
  META_CHECK(first.ndim() > 0, "cat: cannot concatenate 0-d tensors; unsqueeze them or use stack()");
  const int64_t d = meta::wrap_dim(dim, first.ndim(), "cat");
  TypePromotion promo;
  Shape shape = first;
  shape[d] = 0;
  for (int i = 0; i < n; ++i) {
    const Shape& s = in[i].sizes;
    META_CHECK(s.ndim() == first.ndim(), "cat: tensor ", i, " has shape ", s, " but tensor 0 has shape ",
               first, " (same number of dims needed)");
    for (int64_t k = 0; k < s.ndim(); ++k)
      META_CHECK(k == d || s[k] == first[k], "cat: tensor ", i, " has shape ", s, " but tensor 0 has shape ",
                 first, "; they may differ only in dimension ", d);
    shape[d] = is_dynamic(shape[d]) || is_dynamic(s[d]) ? kDynamic : shape[d] + s[d];
    promo.add_tensor(in[i].dtype, s.ndim());
  }
  return {shape, promo.result()};
}

void same_float_dtype(OpId op, const TensorMeta* in, int n) {
  META_CHECK(is_floating(in[0].dtype), op_name(op), ": needs floating-point tensors, not ",
             dtype_name(in[0].dtype));
  for (int i = 1; i < n; ++i)
    META_CHECK(in[i].dtype == in[0].dtype, op_name(op), ": input ", i, " is ", dtype_name(in[i].dtype),
               " but input 0 is ", dtype_name(in[0].dtype));
}

// attention: q [..., T, D], k [..., S, D], v [..., S, Dv] with the same
// leading dims (at most two: batch and heads), a mask (bool, or q's dtype)
// broadcastable to [..., T, S]. Results: out [..., T, Dv] and the rows'
// log-sum-exp [..., T].
void attention(const TensorMeta* in, int n, TensorMeta* out) {
  META_CHECK(n == 3 || n == 4, "attention: takes q, k, v and optionally a mask");
  const TensorMeta &q = in[0], &k = in[1], &v = in[2];
  const int64_t rank = q.sizes.ndim();
  META_CHECK(rank >= 2 && rank <= 4 && k.sizes.ndim() == rank && v.sizes.ndim() == rank, "attention: q ",
             q.sizes, ", k ", k.sizes, " and v ", v.sizes, " must all be [T, D], [B, T, D] or [B, H, T, D]");
  same_float_dtype(OpId::attention, in, 3);
  for (int64_t d = 0; d < rank - 2; ++d)
    META_CHECK(q.sizes[d] == k.sizes[d] && q.sizes[d] == v.sizes[d], "attention: q ", q.sizes, ", k ",
               k.sizes, " and v ", v.sizes, " must share their leading dims");
  META_CHECK(q.sizes[rank - 1] == k.sizes[rank - 1], "attention: q ", q.sizes, " and k ", k.sizes,
             " must have the same last dim");
  META_CHECK(k.sizes[rank - 2] == v.sizes[rank - 2], "attention: k ", k.sizes, " and v ", v.sizes,
             " must have as many rows (keys) as each other");
  if (n == 4) {
    const TensorMeta& m = in[3];
    META_CHECK(m.dtype == DType::Bool || m.dtype == q.dtype, "attention: the mask must be bool or ",
               dtype_name(q.dtype), ", not ", dtype_name(m.dtype));
    Shape scores = q.sizes;
    scores[rank - 1] = k.sizes[rank - 2];
    META_CHECK(m.sizes.ndim() <= rank, "attention: a mask of shape ", m.sizes,
               " does not broadcast to the scores' shape ", scores);
    for (int64_t i = 1; i <= m.sizes.ndim(); ++i) {
      const int64_t a = m.sizes[m.sizes.ndim() - i], b = scores[rank - i];
      META_CHECK(a == 1 || a == b || is_dynamic(a) || is_dynamic(b), "attention: a mask of shape ", m.sizes,
                 " does not broadcast to the scores' shape ", scores);
    }
  }
  Shape result = q.sizes;
  result[rank - 1] = v.sizes[rank - 1];
  out[0] = {result, q.dtype};
  Shape rows = q.sizes;
  rows.erase(rank - 1);
  out[1] = {rows, q.dtype};
}

bool same_size(int64_t a, int64_t b) { return a == b || is_dynamic(a) || is_dynamic(b); }

// A recurrent op's operands x [T, B, I], w_ih [GH, I], w_hh [GH, H],
// b_ih [GH], b_hh [GH] and `states` initial states [B, H] (LSTM: G = 4,
// h0 and c0; GRU: G = 3, h0), all of one float dtype; H from w_hh.
// `what` names the op whose operands these are.
int64_t check_recurrent_operands(OpId op, const char* what, const TensorMeta* in, int64_t gates, int states) {
  const Shape &x = in[0].sizes, &w_ih = in[1].sizes, &w_hh = in[2].sizes;
  same_float_dtype(op, in, 5 + states);
  META_CHECK(x.ndim() == 3, what, ": expected input [T, B, I], got ", x);
  META_CHECK(w_hh.ndim() == 2 && !is_dynamic(w_hh[1]) && same_size(w_hh[0], gates * w_hh[1]), what,
             ": expected w_hh [", gates, "H, H], got ", w_hh);
  const int64_t h = w_hh[1];
  META_CHECK(w_ih.ndim() == 2 && same_size(w_ih[0], gates * h) && same_size(w_ih[1], x[2]), what, ": w_ih ",
             w_ih, " must be [", gates, "H, I] = [", gates * h, ", ", x[2], "] for input ", x);
  for (int b = 3; b < 5; ++b)
    META_CHECK(in[b].sizes.ndim() == 1 && same_size(in[b].sizes[0], gates * h), what, ": ",
               b == 3 ? "b_ih " : "b_hh ", in[b].sizes, " must be [", gates, "H] = [", gates * h, "]");
  META_CHECK(is_dynamic(x[0]) || x[0] >= 1, what, ": the sequence must have at least one step, got ", x);
  for (int s = 5; s < 5 + states; ++s)
    META_CHECK(in[s].sizes.ndim() == 2 && same_size(in[s].sizes[0], x[1]) && same_size(in[s].sizes[1], h),
               what, ": ", s == 5 ? "h0 " : "c0 ", in[s].sizes, " must be [B, H] = [", x[1], ", ", h, "]");
  return h;
}

// A recurrent backward's operands grad_out [T, B, H], out [T, B, H] and
// gates [T, B, saved] at `at` (and, with `cell_grad`, the last operand: the
// gates' gradient), against x = in[1].
void check_recurrent_results(const char* what, const TensorMeta* in, int n, int64_t h, int64_t saved,
                             bool cell_grad) {
  const Shape& x = in[1].sizes;
  for (int k : {0, 6, 7, cell_grad ? n - 1 : 0}) {
    const int64_t width = k == 0 || k == 6 ? h : saved;  // out and its gradient; gates and theirs
    const Shape want{x[0], x[1], width};
    META_CHECK(in[k].dtype == in[1].dtype && in[k].sizes.ndim() == 3 && same_size(in[k].sizes[0], x[0]) &&
                   same_size(in[k].sizes[1], x[1]) && same_size(in[k].sizes[2], width),
               what, ": operand ", k, " ", in[k].sizes, " must be ", want, " of ", dtype_name(in[1].dtype));
  }
}

// lstm: operands as above -> out [T, B, H] and the gates i, f, g, o and c
// of every step [T, B, 5H] (Note [Fused LSTM]).
void lstm(const TensorMeta* in, int n, TensorMeta* out) {
  META_CHECK(n == 5 || n == 7, "lstm: takes x, w_ih, w_hh, b_ih, b_hh and optionally h0, c0; got ", n,
             " operands");
  const int64_t h = check_recurrent_operands(OpId::lstm, "lstm", in, 4, n == 7 ? 2 : 0);
  out[0] = {Shape{in[0].sizes[0], in[0].sizes[1], h}, in[0].dtype};
  out[1] = {Shape{in[0].sizes[0], in[0].sizes[1], 5 * h}, in[0].dtype};
}

// lstm_backward: grad_out, x, w_ih, w_hh, b_ih, b_hh, out, gates[, h0,
// c0][, grad_gates] -> dx [T, B, I] and the flat parameter (and state) gradients.
void lstm_backward(const TensorMeta* in, int n, TensorMeta* out) {
  META_CHECK(n >= 8 && n <= 11,
             "lstm_backward: takes grad_out, x, w_ih, w_hh, b_ih, b_hh, out, cells, "
             "optionally h0, c0, and optionally grad_cells; got ",
             n, " operands");
  const bool state = n >= 10;
  TensorMeta operands[7] = {in[1], in[2], in[3], in[4], in[5], state ? in[8] : in[1], state ? in[9] : in[1]};
  const int64_t h =
      check_recurrent_operands(OpId::lstm_backward, "lstm_backward", operands, 4, state ? 2 : 0);
  check_recurrent_results("lstm_backward", in, n, h, 5 * h, n % 2 == 1);
  const Shape& x = in[1].sizes;
  out[0] = {x, in[1].dtype};
  const bool dynamic = is_dynamic(x[2]) || (state && is_dynamic(x[1]));
  out[1] = {Shape{dynamic ? kDynamic : kernels::lstm_param_grads(x[1], x[2], h, state)}, in[1].dtype};
}

// gru: x, w_ih, w_hh, b_ih, b_hh[, h0] -> out [T, B, H] and the gates r, z,
// n and W_hn h + b_hn of every step [T, B, 4H] (Note [Fused GRU]).
void gru(const TensorMeta* in, int n, TensorMeta* out) {
  META_CHECK(n == 5 || n == 6, "gru: takes x, w_ih, w_hh, b_ih, b_hh and optionally h0; got ", n,
             " operands");
  const int64_t h = check_recurrent_operands(OpId::gru, "gru", in, 3, n - 5);
  out[0] = {Shape{in[0].sizes[0], in[0].sizes[1], h}, in[0].dtype};
  out[1] = {Shape{in[0].sizes[0], in[0].sizes[1], 4 * h}, in[0].dtype};
}

// gru_backward: grad_out, x, w_ih, w_hh, b_ih, b_hh, out, gates[, h0] ->
// dx [T, B, I] and the flat parameter (and h0) gradients.
void gru_backward(const TensorMeta* in, int n, TensorMeta* out) {
  META_CHECK(n == 8 || n == 9,
             "gru_backward: takes grad_out, x, w_ih, w_hh, b_ih, b_hh, out, gates and optionally h0; got ", n,
             " operands");
  const bool state = n == 9;
  TensorMeta operands[6] = {in[1], in[2], in[3], in[4], in[5], state ? in[8] : in[1]};
  const int64_t h = check_recurrent_operands(OpId::gru_backward, "gru_backward", operands, 3, state ? 1 : 0);
  check_recurrent_results("gru_backward", in, n, h, 4 * h, false);
  const Shape& x = in[1].sizes;
  out[0] = {x, in[1].dtype};
  const bool dynamic = is_dynamic(x[2]) || (state && is_dynamic(x[1]));
  out[1] = {Shape{dynamic ? kDynamic : kernels::gru_param_grads(x[1], x[2], h, state)}, in[1].dtype};
}

// attention_backward: grad, q, k, v, out, lse[, mask] -> dq (q's shape) and
// dk, dv side by side along the last dim ([..., S, D + Dv]): two results
// whose `?` dims are q's and k's, so no offset into them depends on a size.
void attention_backward(const TensorMeta* in, int n, TensorMeta* out) {
  META_CHECK(n == 6 || n == 7, "attention_backward: takes grad, q, k, v, out, lse and optionally a mask");
  same_float_dtype(OpId::attention_backward, in, 6);
  const Shape &q = in[1].sizes, &k = in[2].sizes, &v = in[3].sizes;
  META_CHECK(q.ndim() >= 1 && k.ndim() == q.ndim() && v.ndim() == q.ndim(), "attention_backward: q ", q,
             ", k ", k, " and v ", v, " must have one rank");
  out[0] = {q, in[1].dtype};
  Shape kv = k;
  const int64_t d = k[k.ndim() - 1], dv = v[v.ndim() - 1];
  kv[kv.ndim() - 1] = is_dynamic(d) || is_dynamic(dv) ? kDynamic : d + dv;
  out[1] = {kv, in[1].dtype};
}

TensorMeta nn(OpId op, const TensorMeta* in, int n, const OpAttrs& attrs) {
  switch (op) {
    case OpId::softmax:
    case OpId::log_softmax:
      return along(op, in[0], attrs.dim);
    case OpId::layer_norm:
      return layer_norm(in, n, attrs.index);
    case OpId::cross_entropy:
    case OpId::nll_loss:
      return loss(op, in[0], in[1], attrs.dim);
    case OpId::embedding: {
      META_CHECK(in[0].sizes.ndim() == 2, "embedding: the weight must be [num_embeddings, dim], got ",
                 in[0].sizes);
      check_indices(op, in[1]);
      META_CHECK(in[1].sizes.ndim() < kMaxDims, "embedding: indices ", in[1].sizes,
                 " have too many dimensions");
      Shape shape = in[1].sizes;
      shape.push_back(in[0].sizes[1]);
      return {shape, in[0].dtype};
    }
    case OpId::embedding_backward: {
      check_indices(op, in[1]);
      META_CHECK(attrs.index >= 0, "embedding_backward: num_weights must be non-negative, got ", attrs.index);
      const Shape& g = in[0].sizes;
      const int64_t d = g.ndim() ? g[g.ndim() - 1] : 1;
      const int64_t ng = meta::numel(g), ni = meta::numel(in[1].sizes);
      META_CHECK(ng == kDynamic || ni == kDynamic || ng == ni * d, "embedding_backward: gradient of shape ",
                 g, " does not match indices of shape ", in[1].sizes);
      return {Shape{attrs.index, d}, in[0].dtype};
    }
    case OpId::cat:
      return cat(in, n, attrs.dim);
    case OpId::all_reduce:  // every rank holds the same shape (the ranks check it)
      META_CHECK(attrs.index >= 0 && attrs.index <= 2, "all_reduce: op ", attrs.index,
                 " is not 0 (sum), 1 (mean) or 2 (max)");
      return {in[0].sizes, in[0].dtype};
    case OpId::conv2d: {
      META_CHECK(n == 2 || n == 3, "conv2d: takes x, weight and optionally bias");
      same_float_dtype(op, in, n);
      const meta::ConvGeometry q = meta::conv2d(in[0].sizes, in[1].sizes, attrs.ints, "conv2d");
      if (n == 3)
        META_CHECK(in[2].sizes == Shape{q.o}, "conv2d: bias must be [", q.o, "], got ", in[2].sizes);
      return {Shape{q.n, q.o, q.oh, q.ow}, in[0].dtype};
    }
    case OpId::conv2d_backward_input:
    case OpId::conv2d_backward_weight: {
      same_float_dtype(op, in, 2);
      const bool input = op == OpId::conv2d_backward_input;
      const Shape& result = attrs.ints2;
      const meta::ConvGeometry q = input ? meta::conv2d(result, in[1].sizes, attrs.ints, op_name(op))
                                         : meta::conv2d(in[1].sizes, result, attrs.ints, op_name(op));
      META_CHECK(in[0].sizes == Shape({q.n, q.o, q.oh, q.ow}), op_name(op), ": the gradient has shape ",
                 in[0].sizes, " but the convolution gives [", q.n, ", ", q.o, ", ", q.oh, ", ", q.ow, "]");
      return {result, in[0].dtype};
    }
    case OpId::max_pool2d:
    case OpId::avg_pool2d: {
      same_float_dtype(op, in, 1);
      const meta::ConvGeometry q = meta::pool2d(in[0].sizes, attrs.ints, op_name(op));
      return {Shape{q.n, q.c, q.oh, q.ow}, in[0].dtype};
    }
    case OpId::max_pool2d_backward:
    case OpId::avg_pool2d_backward: {
      same_float_dtype(op, in, n);
      const Shape& result = op == OpId::max_pool2d_backward ? in[1].sizes : attrs.ints2;
      const meta::ConvGeometry q = meta::pool2d(result, attrs.ints, op_name(op));
      META_CHECK(in[0].sizes == Shape({q.n, q.c, q.oh, q.ow}), op_name(op), ": the gradient has shape ",
                 in[0].sizes, " but the pooling gives [", q.n, ", ", q.c, ", ", q.oh, ", ", q.ow, "]");
      return {result, in[0].dtype};
    }
    default:
      refuse(op_name(op), ": no shape rule");
  }
}

TensorMeta create(OpId op, const OpAttrs& attrs) {
  // A `?` dim: a generalized graph's full or arange (Note [Automatic dynamic dims]).
  for (int64_t d : attrs.ints)
    META_CHECK(d >= 0 || (is_dynamic(d) && (op == OpId::full || op == OpId::arange)), op_name(op),
               ": negative dimension in shape ", attrs.ints);
  switch (op) {
    case OpId::arange:
    case OpId::linspace:
      META_CHECK(attrs.ints.ndim() == 1, op_name(op), ": the shape must be [n], got ", attrs.ints);
      break;
    case OpId::eye:
      META_CHECK(attrs.ints.ndim() == 2, "eye: the shape must be [n, m], got ", attrs.ints);
      break;
    case OpId::rand:
    case OpId::randn:
      META_CHECK(is_floating(attrs.dtype), op_name(op), ": needs a floating-point dtype, not ",
                 dtype_name(attrs.dtype));
      break;
    case OpId::randint:
      META_CHECK(attrs.scalar2 > attrs.scalar, "randint: high (", attrs.scalar2,
                 ") must be greater than low (", attrs.scalar, ")");
      break;
    default:
      break;
  }
  return {attrs.ints, attrs.dtype};
}

}  // namespace

void infer_meta(OpId op, const TensorMeta* in, int n, const OpAttrs& attrs, TensorMeta* out) {
  const OpInfo& info = op_info(op);
  META_CHECK(info.num_inputs < 0 || n == info.num_inputs ||
                 ((info.kind == OpKind::Binary || info.kind == OpKind::Compare) && n == 1 &&
                  attrs.has(kScalarLhs | kScalarRhs)),
             info.name, ": takes ", int(info.num_inputs), " tensors, got ", n);
  switch (info.kind) {
    case OpKind::Unary: {
      const meta::Elementwise e = meta::unary(op, in[0], attrs);
      out[0] = {e.shape, e.result};
      return;
    }
    case OpKind::Binary:
    case OpKind::Compare: {
      const meta::Elementwise e = meta::binary(op, in[0], n == 2 ? &in[1] : nullptr, attrs);
      out[0] = {e.shape, e.result};
      return;
    }
    case OpKind::Ternary: {
      const meta::Elementwise e = meta::where(in[0], in[1], in[2]);
      out[0] = {e.shape, e.result};
      return;
    }
    case OpKind::Reduce:
      out[0] = meta::reduce(op, in[0], attrs);
      return;
    case OpKind::ReduceIndex: {
      const Shape shape = meta::index_reduce(op, in[0], attrs);
      if (info.num_outputs == 2) out[0] = {shape, in[0].dtype};
      out[info.num_outputs - 1] = {shape, DType::Int64};
      return;
    }
    case OpKind::Matmul:
      out[0] = {meta::matmul(in[0], in[1]).shape, in[0].dtype};
      return;
    case OpKind::View: {
      Shape shape;
      switch (op) {
        case OpId::view:
          shape = meta::view_shape(in[0], attrs.ints);
          break;
        case OpId::permute:
          shape = meta::permute_shape(in[0], attrs.ints);
          break;
        case OpId::slice: {
          META_CHECK(attrs.ints.ndim() == 3, "slice: needs [start, end, step]");
          const meta::Slice s =
              meta::slice(in[0].sizes, attrs.dim, attrs.ints[0], attrs.ints[1], attrs.ints[2]);
          shape = in[0].sizes;
          shape[s.dim] = s.length;
          break;
        }
        case OpId::select:
          shape = meta::select_shape(in[0], attrs.dim, attrs.index);
          break;
        case OpId::expand:
          shape = meta::expand_shape(in[0], attrs.ints);
          break;
        case OpId::squeeze:
          shape = meta::squeeze_shape(in[0], attrs.ints);
          break;
        case OpId::unsqueeze:
          shape = meta::unsqueeze_shape(in[0], attrs.dim);
          break;
        default:
          refuse(info.name, ": no shape rule");
      }
      out[0] = {shape, in[0].dtype};
      return;
    }
    case OpKind::Scatter:
      out[0] = {meta::scatter_shape(op, in[0], attrs), in[0].dtype};
      return;
    case OpKind::NN:
      if (op == OpId::attention) return attention(in, n, out);
      if (op == OpId::attention_backward) return attention_backward(in, n, out);
      if (op == OpId::lstm) return lstm(in, n, out);
      if (op == OpId::lstm_backward) return lstm_backward(in, n, out);
      if (op == OpId::gru) return gru(in, n, out);
      if (op == OpId::gru_backward) return gru_backward(in, n, out);
      out[0] = nn(op, in, n, attrs);
      return;
    case OpKind::Creation:
      out[0] = create(op, attrs);
      return;
  }
  refuse(info.name, ": no shape rule");
}

}  // namespace ember
