// op_node.cpp - the autograd node of a table op, and what its formula sees.
#include <string>

#include "ember/autograd/backward_context.h"
#include "ember/dispatch.h"
#include "ember/grad_mode.h"
#include "ember/ops.h"

namespace ember::autograd {

// One node per recorded op: which op, its attributes, the operands' shapes and
// what its row in ops.def says to save. Operands include the C++ number of a
// binary op, as a slot with no tensor and no edge.
class OpNode : public Node {
 public:
  OpNode(OpId op, const OpInfo& info, const OpAttrs& attrs) : op(op), info(info), attrs(attrs) {}

  const char* name() const override { return backward_name(op); }

  std::vector<Tensor> apply(std::vector<Tensor>& grads) override {
    std::vector<Tensor> result(next_edges.size());
    BackwardContext ctx(*this, grads, result);
    info.backward(ctx);
    for (size_t i = 0; i < result.size(); ++i) {
      if (!result[i].defined() || !next_edges[i].valid()) continue;
      EMBER_CHECK(result[i].sizes() == input_shapes[i], loc, "internal error: the backward of ", info.name,
                  " returned a gradient of shape ", result[i].sizes(), " for operand ", i, " of shape ",
                  input_shapes[i]);
    }
    return result;
  }

  void release_saved() override {
    for (auto& s : saved_inputs) s.reset();
    for (auto& s : saved_outputs) s.reset();
  }

  static const char* backward_name(OpId op) {
    static const std::vector<std::string> names = [] {
      std::vector<std::string> n(kNumOps);
      for (int i = 0; i < kNumOps; ++i) n[i] = std::string(op_info(OpId(i)).name) + "_backward";
      return n;
    }();
    return names[static_cast<int>(op)].c_str();
  }

  OpId op;
  const OpInfo& info;
  OpAttrs attrs;
  std::vector<SavedTensor> saved_inputs;  // per operand; empty slots where not saved
  std::vector<SavedTensor> saved_outputs;
  std::vector<Shape> input_shapes;
  std::vector<DType> input_dtypes;
  std::vector<bool> operand_saved;
  int scalar_operand = -1;  // which operand is a C++ number, if any
};

BackwardContext::BackwardContext(OpNode& node, std::vector<Tensor>& grads, std::vector<Tensor>& result)
    : node_(node), grads_(grads), result_(result) {}

bool BackwardContext::has_grad(int i) const {
  return i < static_cast<int>(grads_.size()) && grads_[i].defined();
}

Tensor BackwardContext::grad(int i) const {
  if (has_grad(i)) return grads_[i];
  return zeros(node_.output_shapes[i], node_.output_dtypes[i]);
}

Tensor BackwardContext::input(int i) const {
  if (i == node_.scalar_operand) {
    return scalar_tensor(node_.attrs.dtype == DType::Float64 ? Scalar(node_.attrs.scalar)
                         : node_.attrs.dtype == DType::Bool
                             ? Scalar(node_.attrs.scalar != 0)
                             : Scalar(static_cast<int64_t>(node_.attrs.scalar)));
  }
  EMBER_CHECK(node_.operand_saved[i], node_.loc, "internal error: the backward of ", node_.info.name,
              " reads operand ", i, ", which its row in ops.def does not save");
  return node_.saved_inputs[i].unpack(node_.shared_from_this(), node_.info.name, node_.loc);
}

Tensor BackwardContext::output(int i) const {
  EMBER_CHECK(i < static_cast<int>(node_.saved_outputs.size()), node_.loc, "internal error: the backward of ",
              node_.info.name, " reads output ", i, ", which its row in ops.def does not save");
  return node_.saved_outputs[i].unpack(node_.shared_from_this(), node_.info.name, node_.loc);
}

const OpAttrs& BackwardContext::attrs() const { return node_.attrs; }
const Shape& BackwardContext::input_shape(int i) const { return node_.input_shapes[i]; }
DType BackwardContext::input_dtype(int i) const { return node_.input_dtypes[i]; }
int BackwardContext::num_inputs() const { return static_cast<int>(node_.next_edges.size()); }
bool BackwardContext::needs_grad(int i) const { return node_.next_edges[i].valid(); }
void BackwardContext::set(int i, const Tensor& g) {
  if (needs_grad(i)) result_[i] = g;
}
const Loc& BackwardContext::loc() const { return node_.loc; }

bool any_requires_grad(const Tensor* inputs, int n) {
  for (int i = 0; i < n; ++i) {
    const AutogradMeta* m = inputs[i].impl()->autograd.get();
    if (m && m->requires_grad) return true;
  }
  return false;
}

void record_op(OpId op, const OpInfo& info, const Tensor* inputs, int num_inputs, const OpAttrs& attrs,
               Tensor* outputs, int num_outputs, const Loc& loc) {
  auto node = std::make_shared<OpNode>(op, info, attrs);
  node->sequence_nr = next_sequence_nr();
  node->loc = loc;
  if (observed()) [[unlikely]]
    node->where = foreign_location();  // Note [Lines of other languages]
  const bool save_inputs = info.saves == OpSaves::Inputs || info.saves == OpSaves::Both;
  const bool save_output = info.saves == OpSaves::Output || info.saves == OpSaves::Both;

  int num_operands = num_inputs;
  if (attrs.has(kScalarRhs)) node->scalar_operand = num_operands++;
  if (attrs.has(kScalarLhs)) node->scalar_operand = 0, ++num_operands;
  node->next_edges.resize(num_operands);
  node->saved_inputs.resize(num_operands);
  node->input_shapes.resize(num_operands);
  node->input_dtypes.resize(num_operands, attrs.dtype);
  node->operand_saved.resize(num_operands, false);
  for (int k = 0, i = 0; k < num_operands; ++k) {
    if (k == node->scalar_operand) continue;
    const Tensor& t = inputs[i++];
    node->input_shapes[k] = t.sizes();
    node->input_dtypes[k] = t.dtype();
    if (is_floating(t.dtype())) node->next_edges[k] = gradient_edge(t);
    if (save_inputs) {
      node->saved_inputs[k] = SavedTensor(t, false);
      node->operand_saved[k] = true;
    }
  }
  set_history(node, outputs, num_outputs, info.differentiable_outputs);
  if (save_output) {
    // An output without history is saved as it is (nothing to re-attach).
    for (int i = 0; i < num_outputs; ++i)
      node->saved_outputs.emplace_back(outputs[i],
                                       info.differentiable_outputs < 0 || i < info.differentiable_outputs);
  }
}

Tensor sum_to(const Tensor& grad, const Shape& shape, const Loc& loc) {
  if (grad.sizes() == shape) return grad;
  const int64_t lead = grad.dim() - shape.ndim();
  std::vector<int64_t> dims;
  for (int64_t i = 0; i < grad.dim(); ++i) {
    if (i < lead || (shape[i - lead] == 1 && grad.size(i) != 1)) dims.push_back(i);
  }
  Tensor r = dims.empty() ? grad : grad.sum(dims, /*keepdim=*/true, loc);
  return r.view(shape, loc);
}

}  // namespace ember::autograd
