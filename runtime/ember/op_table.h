// op_table.h - OpId, OpAttrs and the registry built from the op schema.
//
// The rows come from runtime/ember/ops.yaml (tools/opgen writes them into the
// generated ops.def); each family file (kernels/*.cpp, autograd/formulas_*.cpp)
// fills in the kernels and formulas of its ops in a `register_*` function;
// `op_info` builds the table once. There is no static-initialization
// registration, so nothing can be dropped by the linker.
#pragma once

#include <cstdint>

#include "ember/tensor.h"

namespace ember {

enum class OpId : uint16_t {
#define EMBER_OP(name, ...) name,
#include "ember/ops.def"
#undef EMBER_OP
};
inline constexpr int kNumOps = 0
#define EMBER_OP(name, ...) +1
#include "ember/ops.def"
#undef EMBER_OP
    ;

enum class OpKind : uint8_t {
  Unary,
  Binary,
  Compare,
  Ternary,
  Reduce,
  ReduceIndex,
  Matmul,
  View,
  Scatter,
  NN,
  Creation
};
enum class OpSaves : uint8_t { None, Inputs, Output, Both };
// Note [Effects]: what an op does besides computing its outputs. The tracer,
// the dialect (memory effects) and the passes never reorder, remove or fuse
// across an op that is not Pure.
enum class OpEffect : uint8_t { Pure, Random, ReadsCaptured, WritesCaptured, Communicates };
// The dtype rule of the shape rules (meta.h): a unary op's domain, a binary
// op's or a reduction's result type.
enum class OpRule : uint8_t {
  None,
  FloatDomain,
  NumericDomain,
  AnyDomain,
  Arith,
  Div,
  Compare,
  SumType,
  FloatType,
  SameType
};
enum class Reduction : int64_t { None = 0, Mean = 1, Sum = 2 };

// OpAttrs flags.
enum : uint8_t {
  kKeepdim = 1 << 0,
  kScalarRhs = 1 << 1,  // binary op: the right operand is `scalar` (of kind `dtype`)
  kScalarLhs = 1 << 2,  // binary op: the left operand is `scalar`
  kHasMin = 1 << 3,
  kHasMax = 1 << 4,
  kCausal = 1 << 5,  // attention: each query attends to keys up to its own position
};

// The non-tensor arguments of an op: the storage every op shares. Which field
// holds which attribute is declared once, in the op's schema row; the typed
// structs of op_attrs.h (attrs::Softmax{dim}) read and write them by name.
struct OpAttrs {
  Shape ints;                      // dims, a shape, or conv/pool geometry
  Shape ints2;                     // a second list where an op needs one
  int64_t dim = 0;                 // a single dimension
  int64_t index = 0;               // an index, a count, or an int parameter
  double scalar = 0, scalar2 = 0;  // scalar operands or parameters
  DType dtype = DType::Float32;    // result dtype, or the kind of `scalar`
  uint8_t flags = 0;
  bool has(uint8_t f) const { return (flags & f) != 0; }
};

// One op execution as the kernel sees it.
struct OpCall {
  OpId op;
  const Tensor* inputs;
  int num_inputs;
  const OpAttrs& attrs;
  Tensor* outputs;  // out[0] is preset for in-place calls
  int num_outputs;
  const Loc& loc;
};

namespace autograd {
class BackwardContext;
}

using ForwardFn = void (*)(const OpCall& call);
using BackwardFn = void (*)(autograd::BackwardContext& ctx);

struct OpInfo {
  const char* name = nullptr;
  OpKind kind{};
  int8_t num_inputs = 0;
  int8_t num_outputs = 1;
  bool differentiable = false;
  // The leading outputs a gradient flows back from (-1: all); the rest are
  // what the backward reads (gru's saved gates), no function of the result.
  int8_t differentiable_outputs = -1;
  OpSaves saves = OpSaves::None;
  OpEffect effect = OpEffect::Pure;
  OpRule rule = OpRule::None;
  ForwardFn forward = nullptr;
  BackwardFn backward = nullptr;
};

const OpInfo& op_info(OpId op);
inline const char* op_name(OpId op) { return op_info(op).name; }
// Unary, Binary, Compare, Ternary: each output element from the same
// position of every operand, broadcast.
inline bool is_elementwise(OpId op) {
  const OpKind k = op_info(op).kind;
  return k == OpKind::Unary || k == OpKind::Binary || k == OpKind::Compare || k == OpKind::Ternary;
}

// Filled by each family's register function (see op_table.cpp).
struct OpRegistry {
  OpInfo* rows;
  void forward(OpId op, ForwardFn fn) { rows[static_cast<int>(op)].forward = fn; }
  void backward(OpId op, BackwardFn fn, int differentiable_outputs = -1) {
    rows[static_cast<int>(op)].backward = fn;
    rows[static_cast<int>(op)].differentiable_outputs = static_cast<int8_t>(differentiable_outputs);
  }
};

}  // namespace ember
