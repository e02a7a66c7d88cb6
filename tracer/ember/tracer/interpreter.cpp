// interpreter.cpp - replays a Graph through dispatch with the eager kernels.
#include "ember/tracer/interpreter.h"

#include "ember/dispatch.h"
#include "ember/grad_mode.h"

namespace ember::tracer {

std::vector<Tensor> run_graph(const Graph& g, const std::vector<Tensor>& inputs, const Loc& loc) {
  EMBER_CHECK(
      g.replayable(), loc, "run_graph: the trace cannot be replayed: ",
      g.data_dependent() ? "it read tensor values at " + g.data_reads.front() : g.unsupported.front());
  EMBER_CHECK(inputs.size() == g.inputs.size(), loc, "run_graph: the graph takes ", g.inputs.size(),
              " inputs, got ", inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Value& v = g.values[g.inputs[i]];
    EMBER_CHECK(inputs[i].defined() && inputs[i].sizes() == v.shape && inputs[i].dtype() == v.dtype, loc,
                "run_graph: input ", i, " must be ", type_string(v.shape, v.dtype), ", got ",
                inputs[i].defined() ? type_string(inputs[i].sizes(), inputs[i].dtype()) : "undefined");
  }
  // The graph holds the backward pass as ops of its own: replaying it must
  // not record autograd again.
  NoGradGuard no_grad;
  std::vector<Tensor> env(g.values.size());
  for (size_t i = 0; i < inputs.size(); ++i) env[g.inputs[i]] = inputs[i];
  for (size_t i = 0; i < g.captured.size(); ++i) env[g.captured_values[i]] = g.captured[i];
  for (size_t i = 0; i < g.constants.size(); ++i) env[g.constant_values[i]] = g.constants[i];
  std::vector<Tensor> args;
  for (const Node& n : g.nodes) {
    args.clear();
    for (int in : n.inputs) args.push_back(env[in]);
    if (n.outputs.size() == 2) {
      auto [a, b] = dispatch2(n.op, args, n.attrs, n.loc);
      env[n.outputs[0]] = a;
      env[n.outputs[1]] = b;
    } else {
      env[n.outputs[0]] = dispatch(n.op, args, n.attrs, n.loc);
    }
  }
  std::vector<Tensor> outputs;
  for (int v : g.outputs) outputs.push_back(env[v]);
  // Write-backs last: every node above read the values from before the call.
  for (const auto& w : g.writebacks) {
    Tensor target = w.target == ValueKind::Input ? inputs[w.index] : g.captured[w.index];
    target.copy_(env[w.value]);
  }
  for (const auto& gw : g.grad_writes) {
    Tensor leaf = g.captured[gw.captured_index];
    leaf.set_grad(gw.value < 0 ? Tensor() : env[gw.value]);
  }
  return outputs;
}

}  // namespace ember::tracer
