// op_samples.h - one sample call of every op of the table: inputs and
// attributes that the op accepts. The tracer sweep traces each; the dialect
// sweep (later) lowers each. A table op without a sample fails the sweep.
#pragma once

#include <optional>
#include <vector>

#include "ember/dispatch.h"
#include "ember/ember.h"
#include "ember/op_table.h"
#include "ember/tracer/trace.h"

namespace ember::testing {

struct OpSample {
  std::vector<Tensor> inputs;
  OpAttrs attrs;
};

inline Tensor sample_uniform(IntArrayRef shape, double lo = -1, double hi = 1) {
  return rand(shape) * (hi - lo) + lo;
}

inline std::optional<OpSample> op_sample(OpId op) {
  OpAttrs a;
  const Tensor x = sample_uniform({3, 4});
  const Tensor pos = sample_uniform({3, 4}, 0.5, 2.0);
  switch (op_info(op).kind) {
    case OpKind::Unary:
      if (op == OpId::clamp) {
        a.scalar = -0.5, a.scalar2 = 0.5, a.flags = kHasMin | kHasMax;
      } else if (op == OpId::copy) {
        a.dtype = DType::Float64;
      } else if (op == OpId::full_like) {
        a.scalar = 2.5;
      }
      return OpSample{{op == OpId::log || op == OpId::sqrt || op == OpId::rsqrt ? pos : x}, a};
    case OpKind::Binary:
      return OpSample{{op == OpId::pow ? pos : x, sample_uniform({4}, 0.5, 2.0)}, a};
    case OpKind::Compare:
      return OpSample{{x, sample_uniform({4})}, a};
    case OpKind::Ternary:
      return OpSample{{x.gt(0), x, sample_uniform({4})}, a};
    case OpKind::Reduce:
      a.ints = Shape{1};
      a.flags = kKeepdim;
      if (op == OpId::var) a.index = 1;
      return OpSample{{sample_uniform({3, 4, 2})}, a};
    case OpKind::ReduceIndex:
      a.dim = 1;
      return OpSample{{sample_uniform({3, 4, 2})}, a};
    case OpKind::Matmul:
      return OpSample{{sample_uniform({2, 3, 4}), sample_uniform({4, 5})}, a};
    case OpKind::View:
      switch (op) {
        case OpId::view: a.ints = Shape{4, 3}; break;
        case OpId::permute: a.ints = Shape{1, 0}; break;
        case OpId::slice: a.dim = 1, a.ints = Shape{1, 4, 2}; break;
        case OpId::select: a.dim = 0, a.index = 2; break;
        case OpId::expand: a.ints = Shape{2, 3, 4}; break;
        case OpId::squeeze: return OpSample{{sample_uniform({3, 1, 4})}, a};
        case OpId::unsqueeze: a.dim = 1; break;
        default: return std::nullopt;
      }
      return OpSample{{x}, a};
    case OpKind::Scatter:
      a.dim = 1;
      a.ints = Shape{3, 4};
      if (op == OpId::slice_backward) {
        a.ints2 = Shape{1, 4, 2};
        return OpSample{{sample_uniform({3, 2})}, a};
      }
      a.index = 2;
      return OpSample{{sample_uniform({3})}, a};
    case OpKind::NN:
      switch (op) {
        case OpId::softmax:
        case OpId::log_softmax: a.dim = -1; return OpSample{{x}, a};
        case OpId::layer_norm:
          a.index = 1, a.scalar = 1e-5;
          return OpSample{{x, sample_uniform({4}), sample_uniform({4})}, a};
        case OpId::cross_entropy:
        case OpId::nll_loss:
          a.dim = static_cast<int64_t>(Reduction::Mean), a.index = kIgnoreIndex;
          return OpSample{{x, tensor<int64_t>({0, 3, 1})}, a};
        case OpId::embedding: return OpSample{{sample_uniform({5, 3}), tensor<int64_t>({4, 0, 2})}, a};
        case OpId::embedding_backward: a.index = 5; return OpSample{{sample_uniform({3, 3}), tensor<int64_t>({4, 0, 4})}, a};
        case OpId::cat: a.dim = 1; return OpSample{{x, sample_uniform({3, 2})}, a};
        case OpId::conv2d:
          a.ints = Shape{1, 1, 1, 1, 1, 1};
          return OpSample{{sample_uniform({2, 2, 5, 5}), sample_uniform({3, 2, 3, 3}), sample_uniform({3})}, a};
        case OpId::conv2d_backward_input:
          a.ints = Shape{1, 1, 1, 1, 1, 1}, a.ints2 = Shape{2, 2, 5, 5};
          return OpSample{{sample_uniform({2, 3, 5, 5}), sample_uniform({3, 2, 3, 3})}, a};
        case OpId::conv2d_backward_weight:
          a.ints = Shape{1, 1, 1, 1, 1, 1}, a.ints2 = Shape{3, 2, 3, 3};
          return OpSample{{sample_uniform({2, 3, 5, 5}), sample_uniform({2, 2, 5, 5})}, a};
        case OpId::max_pool2d:
        case OpId::avg_pool2d: a.ints = Shape{2, 2, 2, 2, 0, 0}; return OpSample{{sample_uniform({2, 3, 4, 4})}, a};
        case OpId::max_pool2d_backward:
          a.ints = Shape{2, 2, 2, 2, 0, 0};
          return OpSample{{sample_uniform({2, 3, 2, 2}), sample_uniform({2, 3, 4, 4})}, a};
        case OpId::avg_pool2d_backward:
          a.ints = Shape{2, 2, 2, 2, 0, 0}, a.ints2 = Shape{2, 3, 4, 4};
          return OpSample{{sample_uniform({2, 3, 2, 2})}, a};
        default: return std::nullopt;
      }
    case OpKind::Creation:
      a.ints = Shape{3, 4};
      a.dtype = DType::Float32;
      if (op == OpId::full) a.scalar = 1.5;
      if (op == OpId::arange) a.ints = Shape{5}, a.scalar = 1, a.scalar2 = 0.5;
      if (op == OpId::linspace) a.ints = Shape{5}, a.scalar = 0, a.scalar2 = 1;
      if (op == OpId::randint) a.scalar = 0, a.scalar2 = 10, a.dtype = DType::Int64;
      return OpSample{{}, a};
  }
  return std::nullopt;
}

// Runs `op` once on `inputs` through dispatch (one or two outputs).
inline std::vector<Tensor> run_op(OpId op, const std::vector<Tensor>& inputs, const OpAttrs& attrs) {
  if (op_info(op).num_outputs == 2) {
    auto [a, b] = dispatch2(op, {inputs[0]}, attrs, Loc::current());
    return {a, b};
  }
  return {dispatch(op, inputs, attrs, Loc::current())};
}

// The trace of the op's sample call.
inline tracer::TraceResult trace_sample(OpId op, const OpSample& sample) {
  return tracer::trace([&](const std::vector<Tensor>& in) { return run_op(op, in, sample.attrs); }, sample.inputs);
}

}  // namespace ember::testing
