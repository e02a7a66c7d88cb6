// RowParallel.cpp - see RowParallel.h.
#include "ember/compiler/RowParallel.h"

#include "ember/op_table.h"

namespace ember::compiler {

namespace {

// Whether node `n` computes each row of its result from the same row of its
// batched operands; sets the result's batched flag.
bool row_wise(const tracer::Graph& g, const tracer::Node& n, std::vector<bool>& batched) {
  if (n.outputs.size() != 1) return false;
  const tracer::Value& result = g.values[n.outputs[0]];
  const int64_t rank = result.shape.ndim();
  bool any = false;
  for (int v : n.inputs) {
    const tracer::Value& in = g.values[v];
    if (batched[v]) {
      any = true;
      continue;
    }
    // An unbatched operand broadcasts across rows: it has no row dim, or size 1 there.
    if (in.shape.ndim() == rank && rank > 0 && in.shape[0] != 1) return false;
  }
  const OpKind kind = op_info(n.op).kind;
  const auto operand_rank = [&](int i) { return g.values[n.inputs[i]].shape.ndim(); };
  switch (kind) {
    case OpKind::Unary:
    case OpKind::Binary:
    case OpKind::Compare:
    case OpKind::Ternary:
      for (size_t i = 0; i < n.inputs.size(); ++i)
        if (batched[n.inputs[i]] && operand_rank(static_cast<int>(i)) != rank) return false;
      break;
    case OpKind::Reduce:
      if (any) {
        if (n.attrs.ints.ndim() == 0) return false;  // all dims
        for (int64_t d : n.attrs.ints.vec())
          if ((d < 0 ? d + operand_rank(0) : d) == 0) return false;
      }
      break;
    case OpKind::NN:
      if (n.op == OpId::softmax || n.op == OpId::log_softmax) {
        if (any && (n.attrs.dim < 0 ? n.attrs.dim + rank : n.attrs.dim) == 0) return false;
      } else if (n.op == OpId::layer_norm) {
        if (any && n.attrs.index >= rank) return false;  // normalizes over the rows too
        for (size_t i = 1; i < n.inputs.size(); ++i)
          if (batched[n.inputs[i]]) return false;  // weight and bias are per feature
      } else {
        return false;
      }
      break;
    default:
      return false;
  }
  batched[n.outputs[0]] = any;
  return true;
}

}  // namespace

std::optional<RowSplit> row_split(const tracer::Graph& g, int64_t chunks, int64_t min_elements) {
  if (chunks < 2 || g.inputs.empty() || g.outputs.empty() || !g.writebacks.empty() || !g.grad_writes.empty())
    return std::nullopt;
  const Shape& first = g.values[g.inputs[0]].shape;
  if (first.ndim() == 0) return std::nullopt;
  RowSplit split;
  split.rows = first[0];
  split.chunks = chunks;
  if (split.rows % chunks != 0 || split.rows < chunks) return std::nullopt;
  split.batched.assign(g.values.size(), false);
  for (size_t v = 0; v < g.values.size(); ++v) {
    const tracer::Value& value = g.values[v];
    const bool argument = value.kind == tracer::ValueKind::Input || value.kind == tracer::ValueKind::Captured;
    if (argument && value.shape.ndim() > 0 && value.shape[0] == split.rows) split.batched[v] = true;
  }
  for (const tracer::Node& n : g.nodes)
    if (!row_wise(g, n, split.batched)) return std::nullopt;
  int64_t elements = 0;
  for (int v : g.outputs) {
    if (!split.batched[v]) return std::nullopt;
    elements += g.values[v].shape.numel();
  }
  if (elements < min_elements) return std::nullopt;
  return split;
}

tracer::Graph chunk_graph(const tracer::Graph& graph, const RowSplit& split) {
  tracer::Graph g = graph;
  for (size_t v = 0; v < g.values.size(); ++v)
    if (split.batched[v]) {
      std::vector<int64_t> shape = g.values[v].shape.vec();
      shape[0] = split.rows / split.chunks;
      g.values[v].shape = Shape(shape);
    }
  return g;
}

}  // namespace ember::compiler
