// backward_context.h - what a backward formula sees (formulas_*.cpp).
//
// Formulas are written with ember ops, so the backward pass is itself
// differentiable (create_graph) and traceable. Operands are indexed as in the
// forward call; for a binary op with a C++ number operand, that operand is
// given as a 0-d tensor and never needs a gradient.
#pragma once

#include <vector>

#include "ember/autograd/node.h"
#include "ember/op_table.h"

namespace ember::autograd {

class OpNode;

class BackwardContext {
 public:
  BackwardContext(OpNode& node, std::vector<Tensor>& grads, std::vector<Tensor>& result);

  // Gradient w.r.t. output i: zeros of the output's shape if none reached it.
  Tensor grad(int i = 0) const;
  bool has_grad(int i) const;
  Tensor input(int i) const;  // version-checked saved operand
  Tensor output(int i = 0) const;
  const OpAttrs& attrs() const;
  const Shape& input_shape(int i) const;
  DType input_dtype(int i) const;
  int num_inputs() const;
  bool needs_grad(int i) const;
  void set(int i, const Tensor& g);
  const Loc& loc() const;

 private:
  OpNode& node_;
  std::vector<Tensor>& grads_;
  std::vector<Tensor>& result_;
};

// The gradient of a broadcast operand: sums `grad` down to `shape`.
Tensor sum_to(const Tensor& grad, const Shape& shape, const Loc& loc);

// Records the autograd node of a forward op (called by dispatch).
void record_op(OpId op, const OpInfo& info, const Tensor* inputs, int num_inputs, const OpAttrs& attrs,
               Tensor* outputs, int num_outputs, const Loc& loc);

bool any_requires_grad(const Tensor* inputs, int n);

}  // namespace ember::autograd
