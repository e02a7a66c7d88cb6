// function.cpp - custom autograd functions.
#include "ember/autograd/function.h"

#include "ember/autograd/backward_context.h"
#include "ember/ops.h"

namespace ember {

std::vector<Tensor> AutogradContext::saved() const {
  std::vector<Tensor> out;
  auto node = node_.lock();
  for (const auto& s : saved_) out.push_back(s.unpack(node, name_.c_str(), loc_));
  return out;
}

void AutogradContext::finish_saving(const Tensor& output) {
  for (const Tensor& t : to_save_) saved_.emplace_back(t, t.is_same(output));
  to_save_.clear();
}

std::vector<Tensor> CustomFunctionNode::apply(std::vector<Tensor>& grads) {
  std::vector<Tensor> g = grads;
  for (size_t i = 0; i < g.size(); ++i)
    if (!g[i].defined()) g[i] = zeros(output_shapes[i], output_dtypes[i]);
  std::vector<Tensor> result = backward_fn(ctx, g);
  EMBER_CHECK(result.size() == next_edges.size(), loc, ctx.name_, ": backward returned ", result.size(),
              " gradients for ", next_edges.size(), " tensor inputs");
  return result;
}

namespace detail {
void connect_custom(AutogradContext& ctx, std::vector<Tensor> inputs, Tensor& output, CustomBackward backward,
                    const char* name) {
  if (!is_grad_enabled() || !autograd::any_requires_grad(inputs.data(), static_cast<int>(inputs.size())))
    return;
  // The output must be a tensor of its own to carry this node's history.
  for (const Tensor& in : inputs)
    if (output.is_same(in)) output = output.detach();
  ctx.name_ = std::string(name) + "_backward";
  ctx.needs_grad_.clear();
  for (const Tensor& in : inputs) ctx.needs_grad_.push_back(in.requires_grad());
  ctx.finish_saving(output);
  auto node = std::make_shared<CustomFunctionNode>(std::move(ctx), backward);
  node->sequence_nr = autograd::next_sequence_nr();
  for (const Tensor& in : inputs)
    node->next_edges.push_back(is_floating(in.dtype()) ? autograd::gradient_edge(in) : autograd::Edge{});
  node->ctx.node_ = node;
  node->loc = node->ctx.loc_;
  autograd::set_history(node, &output, 1);
}
}  // namespace detail

}  // namespace ember
