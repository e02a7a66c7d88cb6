// meta.h - the shape and dtype rules of every op, over (shape, dtype) alone.
//
//   TensorMeta out[2];
//   infer_meta(OpId::matmul, in, 2, attrs, out);   // or a family rule:
//   const meta::Binary b = meta::binary(OpId::add, lhs, &rhs, attrs);
//
// Note [One set of shape rules]
// What an op returns, and which inputs it refuses, is decided here once: the
// eager kernels call these rules before computing, the tracer's graphs carry
// their results, and the dialect's type inference (ir/TypeInference.cpp)
// converts MLIR types to TensorMetas and calls infer_meta, so the compiler
// accepts exactly the programs the runtime runs, with the same messages. A
// rule that refuses throws ShapeError with "op: message"; the caller adds
// its line (dispatch) or its location (an MLIR diagnostic).
//
// A dimension may be kDynamic (MLIR's `?`): a size known only when the
// program runs. Rules pass such dims through where the result follows
// (broadcasting against 1, a matmul's outer dims, views that keep them) and
// defer checks they cannot make to run time; today's callers pass static
// shapes only.
#pragma once

#include <cstdint>

#include "ember/op_table.h"

namespace ember {

inline constexpr int64_t kDynamic = INT64_MIN;

struct TensorMeta {
  Shape sizes;
  DType dtype = DType::Float32;
  bool wrapped_number = false;  // a C++ number made a 0-d tensor (Note [Type promotion])
};
TensorMeta meta_of(const Tensor& t);

// A rule refused its inputs; the message names the op, not yet the line.
class ShapeError : public Error {
 public:
  using Error::Error;
};

// The metas of `op`'s outputs (op_info(op).num_outputs of them) for these
// inputs and attributes. A binary op with a C++ number (kScalarLhs/Rhs)
// takes its one tensor input.
void infer_meta(OpId op, const TensorMeta* inputs, int num_inputs, const OpAttrs& attrs, TensorMeta* outputs);

namespace meta {

// A dim in [-n, n) as an index in [0, n); a 0-d tensor accepts 0 and -1.
int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op);
// NumPy broadcasting.
Shape broadcast(const Shape& a, const Shape& b, const char* op);
int64_t numel(const Shape& s);  // kDynamic when a dim is

// Elementwise: the shape, the dtype the kernel computes in, and the result's.
struct Elementwise {
  Shape shape;
  DType compute;
  DType result;
};
Elementwise unary(OpId op, const TensorMeta& x, const OpAttrs& attrs);
// rhs null: the other operand is the C++ number in `attrs` (kScalarLhs/Rhs).
Elementwise binary(OpId op, const TensorMeta& lhs, const TensorMeta* rhs, const OpAttrs& attrs);
Elementwise where(const TensorMeta& cond, const TensorMeta& a, const TensorMeta& b);

struct ReduceDims {
  bool mask[kMaxDims] = {};
  int64_t count = 1;  // elements reduced into each output
  Shape kept_shape;   // output shape with keepdim
  Shape out_shape;    // output shape as requested
};
ReduceDims reduce_dims(const Shape& shape, IntArrayRef dims, bool keepdim, const char* op);
TensorMeta reduce(OpId op, const TensorMeta& x, const OpAttrs& attrs);
// max_dim, min_dim, argmax, argmin: the shape without (or with size 1 at) dim.
Shape index_reduce(OpId op, const TensorMeta& x, const OpAttrs& attrs);

struct Matmul {
  Shape batch;  // broadcast batch dims
  int64_t m, k, n;
  bool lhs_vector, rhs_vector;  // 1-D operands, whose dim the result drops
  Shape shape;
};
Matmul matmul(const TensorMeta& lhs, const TensorMeta& rhs);

// slice: the wrapped dim, and start/length in it.
struct Slice {
  int64_t dim, start, length, step;
};
Slice slice(const Shape& x, int64_t dim, int64_t start, int64_t end, int64_t step);

// The result shapes of the view ops and of the gradients of slice/select.
Shape view_shape(const TensorMeta& x, const Shape& shape);
Shape permute_shape(const TensorMeta& x, const Shape& perm);
Shape select_shape(const TensorMeta& x, int64_t dim, int64_t index);
Shape expand_shape(const TensorMeta& x, const Shape& target);
Shape squeeze_shape(const TensorMeta& x, const Shape& dims);
Shape unsqueeze_shape(const TensorMeta& x, int64_t dim);
Shape scatter_shape(OpId op, const TensorMeta& x, const OpAttrs& attrs);

// conv2d and pooling geometry (attrs.ints) with their output sizes.
struct ConvGeometry {
  int64_t n, c, h, w, o, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow;
};
ConvGeometry conv2d(const Shape& x, const Shape& weight, const Shape& geometry, const char* op);
ConvGeometry pool2d(const Shape& x, const Shape& geometry, const char* op);

}  // namespace meta
}  // namespace ember
