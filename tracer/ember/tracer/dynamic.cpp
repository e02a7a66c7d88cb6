// dynamic.cpp - see dynamic.h and Note [Automatic dynamic dims].
#include "ember/tracer/dynamic.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <functional>

#include "ember/meta.h"

namespace ember::tracer {
namespace {

bool same_attrs(const OpAttrs& a, const OpAttrs& b) {
  return a.ints == b.ints && a.ints2 == b.ints2 && a.dim == b.dim && a.index == b.index &&
         std::bit_cast<uint64_t>(a.scalar) == std::bit_cast<uint64_t>(b.scalar) &&
         std::bit_cast<uint64_t>(a.scalar2) == std::bit_cast<uint64_t>(b.scalar2) && a.dtype == b.dtype &&
         a.flags == b.flags;
}

bool same_values(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype() || a.sizes() != b.sizes()) return false;
  const Tensor ca = a.contiguous(), cb = b.contiguous();
  return std::memcmp(ca.data_ptr(), cb.data_ptr(), static_cast<size_t>(ca.numel()) * itemsize(ca.dtype())) ==
         0;
}

// The attribute of an op that is its output's shape, or null: a view's, an
// expand's, full's or arange's shape, the input_shape of the slice and
// select gradients, the
// result_shape of the conv2d and avg_pool2d input gradients.
Shape* output_shape_attr(OpId op, OpAttrs& attrs) {
  switch (op) {
    case OpId::view:
    case OpId::expand:
    case OpId::full:
    case OpId::arange:
    case OpId::slice_backward:
    case OpId::select_backward:
      return &attrs.ints;
    case OpId::conv2d_backward_input:
    case OpId::avg_pool2d_backward:
      return &attrs.ints2;
    default:
      return nullptr;
  }
}

// A slice of a static dim (a buffer's: the lowering reads only such a
// slice's length at run time) from a non-negative start with step 1, whose
// end is where its output's length says in `g` (or whose length is `?`: a
// general graph's): not cut short by the sliced dim's end. The sliced dim's
// size is `whole`. (slice_backward: its [start, end, step] are ints2, the
// part its operand is, and the whole its input_shape.)
bool slice_reaches_end(const Graph& g, const Node& n, int64_t* whole) {
  const bool forward = n.op == OpId::slice;
  const Shape& window = forward ? n.attrs.ints : n.attrs.ints2;
  const int64_t start = window[0], end = window[1], step = window[2];
  const Shape& part = g.values[forward ? n.outputs[0] : n.inputs[0]].shape;
  const Shape& full = forward ? g.values[n.inputs[0]].shape : n.attrs.ints;
  const int64_t dim = n.attrs.dim < 0 ? n.attrs.dim + part.ndim() : n.attrs.dim;
  if (step != 1 || start < 0 || dim < 0 || dim >= part.ndim() || full.ndim() != part.ndim() ||
      full[dim] == kDynamic)
    return false;
  *whole = full[dim];
  return part[dim] == kDynamic || (end >= start && part[dim] == end - start);
}

// The slice's (or its gradient's) end attribute.
int64_t* slice_end(Node& n) {
  Shape& window = n.op == OpId::slice ? n.attrs.ints : n.attrs.ints2;
  return window.ndim() == 3 ? &window[1] : nullptr;
}

// Whether x and y (of graphs a and b) differ only in an output-shape
// attribute that is their output's shape in each.
bool same_but_shape_attr(const Graph& a, const Graph& b, const Node& x, const Node& y) {
  OpAttrs rest_x = x.attrs, rest_y = y.attrs;
  Shape *shape_x = output_shape_attr(x.op, rest_x), *shape_y = output_shape_attr(y.op, rest_y);
  if (!shape_x) return false;
  const bool tracks = *shape_x == a.values[x.outputs[0]].shape && *shape_y == b.values[y.outputs[0]].shape;
  *shape_x = *shape_y = Shape();
  return tracks && same_attrs(rest_x, rest_y);
}

// Where an op's output-shape attribute tracks the sizes in both graphs, the
// two are the same op (the general graph's attribute holds the `?` dims of
// its output). So are two slices (or slice gradients) whose end is start +
// a length that varies (mask[:T] of a buffer: the length is read at run
// time, Note [Sizes in a generalized graph]; the general graph's end is `?`).
bool same_but_output_shape(const Graph& a, const Graph& b, const Node& x, const Node& y) {
  if (x.op == y.op && (x.op == OpId::slice || x.op == OpId::slice_backward)) {
    Node rest_x = x, rest_y = y;
    int64_t *end_x = slice_end(rest_x), *end_y = slice_end(rest_y);
    if (!end_x || !end_y) return false;
    *end_x = *end_y = 0;
    const bool rest_same = same_attrs(rest_x.attrs, rest_y.attrs) ||
                           (x.op == OpId::slice_backward && same_but_shape_attr(a, b, rest_x, rest_y));
    int64_t whole_x = 0, whole_y = 0;
    return rest_same && slice_reaches_end(a, x, &whole_x) && slice_reaches_end(b, y, &whole_y) &&
           whole_x == whole_y;
  }
  return same_but_shape_attr(a, b, x, y);
}

int64_t input_size(const Graph& g, int input, int dim) { return g.values[g.inputs[input]].shape[dim]; }

// "input 0 dim 0", "2 x input 0 dim 0"
std::string size_text(double factor, int input, int dim) {
  std::ostringstream text;
  if (factor != 1) text << factor << " x ";
  text << "input " << input << " dim " << dim;
  return text.str();
}

std::string node_name(const Graph& g, size_t n) {
  return "op " + std::to_string(n) + " (" + op_name(g.nodes[n].op) + " at " + g.nodes[n].location() + ")";
}

// Whether two nodes' attributes differ in a binary op's scalar only.
bool differ_in_scalar_only(const Node& x, const Node& y) {
  if (!x.attrs.has(kScalarLhs | kScalarRhs)) return false;
  OpAttrs rest_x = x.attrs, rest_y = y.attrs;
  rest_x.scalar = rest_y.scalar = 0;
  return same_attrs(rest_x, rest_y);
}

// Whether `a` and `b` are one program: the same ops, wiring, attributes,
// constants and captured tensors; shapes may differ in their sizes only.
// The nodes `scalar_may_differ` accepts may differ in their scalar; they
// are listed in `differing` (Note [Sizes in a generalized graph]).
bool same_program(const Graph& a, const Graph& b, std::string* why,
                  const std::function<bool(size_t)>& scalar_may_differ = {},
                  std::vector<size_t>* differing = nullptr) {
  const auto fail = [&](const std::string& reason) {
    if (why) *why = reason;
    return false;
  };
  if (!a.replayable() || !b.replayable()) return fail("a trace cannot be replayed");
  if (a.nodes.size() != b.nodes.size() || a.values.size() != b.values.size())
    return fail("the traces have different ops (" + std::to_string(a.nodes.size()) + " and " +
                std::to_string(b.nodes.size()) + ")");
  for (size_t n = 0; n < a.nodes.size(); ++n) {
    const Node &x = a.nodes[n], &y = b.nodes[n];
    if (x.op != y.op || x.inputs != y.inputs || x.outputs != y.outputs)
      return fail(node_name(a, n) + " is " + node_name(b, n) + " in the other trace");
    if (!same_attrs(x.attrs, y.attrs) && !same_but_output_shape(a, b, x, y)) {
      if (scalar_may_differ && scalar_may_differ(n) && differ_in_scalar_only(x, y)) {
        if (differing) differing->push_back(n);
        continue;
      }
      return fail(node_name(b, n) + " has attributes that depend on the sizes (" +
                  attrs_string(x.op, x.attrs) + " / " + attrs_string(y.op, y.attrs) + ")");
    }
  }
  for (size_t v = 0; v < a.values.size(); ++v) {
    const Value &x = a.values[v], &y = b.values[v];
    if (x.kind != y.kind || x.index != y.index || x.output != y.output || x.dtype != y.dtype ||
        x.shape.ndim() != y.shape.ndim())
      return fail("value %" + std::to_string(v) + " differs in kind, dtype or rank");
  }
  if (a.inputs != b.inputs || a.outputs != b.outputs || a.captured_values != b.captured_values ||
      a.constant_values != b.constant_values || a.captured.size() != b.captured.size() ||
      a.constants.size() != b.constants.size() || a.writebacks.size() != b.writebacks.size() ||
      a.grad_writes.size() != b.grad_writes.size())
    return fail("the traces have different inputs, outputs, captured tensors or write-backs");
  for (size_t c = 0; c < a.captured.size(); ++c)
    if (!a.captured[c].is_same(b.captured[c]))
      return fail("captured tensor " + std::to_string(c) + " differs");
  for (size_t c = 0; c < a.constants.size(); ++c)
    if (!same_values(a.constants[c], b.constants[c]))
      return fail("constant " + std::to_string(c) + " depends on the sizes");
  for (size_t w = 0; w < a.writebacks.size(); ++w) {
    const auto &x = a.writebacks[w], &y = b.writebacks[w];
    if (x.target != y.target || x.index != y.index || x.value != y.value)
      return fail("write-back " + std::to_string(w) + " differs");
  }
  for (size_t w = 0; w < a.grad_writes.size(); ++w)
    if (a.grad_writes[w].captured_index != b.grad_writes[w].captured_index ||
        a.grad_writes[w].value != b.grad_writes[w].value)
      return fail(".grad write " + std::to_string(w) + " differs");
  return true;
}

}  // namespace

bool has_dynamic_dims_of(const Graph& g, int value) {
  for (int64_t d : g.values[value].shape)
    if (d == kDynamic) return true;
  return false;
}

bool has_dynamic_dims(const Graph& g) {
  for (const Value& v : g.values)
    for (int64_t d : v.shape)
      if (d == kDynamic) return true;
  return false;
}

bool instance_of(const Graph& general, const Graph& specific, std::string* why_not) {
  const auto is_size_scalar = [&](size_t n) {
    for (const Graph::SizeScalar& s : general.size_scalars)
      if (s.node == static_cast<int>(n)) return true;
    return false;
  };
  if (!same_program(general, specific, why_not, is_size_scalar)) return false;
  const auto fail = [&](const std::string& reason) {
    if (why_not) *why_not = reason;
    return false;
  };
  // The relations the generalizing traces showed (Note [Sizes in a
  // generalized graph]) hold at this size too.
  for (const Graph::SizeScalar& s : general.size_scalars) {
    const double size = double(input_size(specific, s.input, s.input_dim));
    if (specific.nodes[s.node].attrs.scalar != s.factor * size)
      return fail(node_name(specific, s.node) + "'s number is not " +
                  size_text(s.factor, s.input, s.input_dim) + " here");
  }
  for (const Graph::DimSource& d : general.dim_sources)
    if (specific.values[d.value].shape[d.dim] != input_size(specific, d.input, d.input_dim))
      return fail("value %" + std::to_string(d.value) + " dim " + std::to_string(d.dim) + " is not input " +
                  std::to_string(d.input) + " dim " + std::to_string(d.input_dim) + " here");
  for (size_t v = 0; v < general.values.size(); ++v) {
    const Shape &g = general.values[v].shape, &s = specific.values[v].shape;
    for (int64_t d = 0; d < g.ndim(); ++d)
      if (g[d] != kDynamic && g[d] != s[d])
        return fail("value %" + std::to_string(v) + " dim " + std::to_string(d) + " is " +
                    std::to_string(s[d]) + ", not " + std::to_string(g[d]));
  }
  for (size_t n = 0; n < general.nodes.size(); ++n) {
    const Node& node = general.nodes[n];
    // A batched matmul reads an operand's `?` batch dim as the result's
    // (MatmulLowering.cpp): never a broadcast.
    if (node.op == OpId::matmul) {
      int64_t batch = 0;  // the result's leading batch dims
      for (int in : node.inputs) batch = std::max<int64_t>(batch, general.values[in].shape.ndim() - 2);
      const Shape& s_out = specific.values[node.outputs[0]].shape;
      for (int in : node.inputs) {
        const Shape &g_in = general.values[in].shape, &s_in = specific.values[in].shape;
        for (int64_t i = 0; i + 2 < g_in.ndim(); ++i) {
          const int64_t at = batch - (g_in.ndim() - 2) + i;
          if (g_in[i] == kDynamic && s_in[i] != s_out[at])
            return fail(node_name(specific, n) + " broadcasts a batch dim of size " +
                        std::to_string(s_in[i]) + " to " + std::to_string(s_out[at]) +
                        " where the sizes vary");
        }
      }
      continue;
    }
    // Elementwise lowerings (expand's too) read an operand's `?` dim as the
    // result's dim at the same position from the end, never as a broadcast
    // (Note [Dynamic dims in lowerings]): at every size the two are equal,
    // whether the result's dim is `?` or static (x[?, 4] + y[3, 4] is [3, 4]
    // at x's 3 and a broadcast at x's 1).
    if (!is_elementwise(node.op) && node.op != OpId::expand) continue;
    for (int out : node.outputs) {
      const Shape &g_out = general.values[out].shape, &s_out = specific.values[out].shape;
      const int64_t out_rank = g_out.ndim();
      for (int64_t d = 0; d < out_rank; ++d) {
        for (int in : node.inputs) {
          const Shape &g_in = general.values[in].shape, &s_in = specific.values[in].shape;
          const int64_t at = d - out_rank + g_in.ndim();
          if (at >= 0 && g_in[at] == kDynamic && s_in[at] != s_out[d])
            return fail(node_name(specific, n) + " broadcasts a dim of size " + std::to_string(s_in[at]) +
                        " to " + std::to_string(s_out[d]) + " where the sizes vary");
        }
      }
    }
  }
  return true;
}

std::optional<Graph> mark_dynamic(const Graph& g, const std::vector<std::pair<int, int>>& input_dims,
                                  std::string* why_not) {
  const auto fail = [&](const std::string& reason) -> std::optional<Graph> {
    if (why_not) *why_not = reason;
    return std::nullopt;
  };
  Graph out = g;
  for (const auto& [input, dim] : input_dims) {
    if (input < 0 || input >= static_cast<int>(g.inputs.size()))
      return fail("input " + std::to_string(input) + " does not exist");
    Shape& shape = out.values[g.inputs[input]].shape;
    if (dim < 0 || dim >= shape.ndim())
      return fail("input " + std::to_string(input) + " has no dim " + std::to_string(dim));
    shape[dim] = kDynamic;
  }
  for (Node& n : out.nodes) {
    std::vector<TensorMeta> in;
    for (int v : n.inputs) in.push_back({out.values[v].shape, out.values[v].dtype});
    // A view to its input's own shape keeps the input's `?` dims.
    if (n.op == OpId::view && g.values[n.inputs[0]].shape == g.values[n.outputs[0]].shape) {
      n.attrs.ints = out.values[n.inputs[0]].shape;
      out.values[n.outputs[0]].shape = n.attrs.ints;
      continue;
    }
    TensorMeta results[2];
    try {
      infer_meta(n.op, in.data(), static_cast<int>(in.size()), n.attrs, results);
    } catch (const Error& e) {
      return fail(std::string("the shape rules refuse a dynamic dim: ") + e.what());
    }
    for (size_t k = 0; k < n.outputs.size(); ++k) out.values[n.outputs[k]].shape = results[k].sizes;
  }
  for (size_t v = 0; v < g.values.size(); ++v)
    for (int64_t d = 0; d < g.values[v].shape.ndim(); ++d) {
      const int64_t general = out.values[v].shape[d];
      if (general != kDynamic && general != g.values[v].shape[d])
        return fail("value %" + std::to_string(v) + " changes shape when marked dynamic");
    }
  return out;
}

std::optional<Generalized> generalize(const Graph& a, const Graph& b, std::string* why_not) {
  std::vector<size_t> differing_scalars;
  if (!same_program(
          a, b, why_not, [](size_t) { return true; }, &differing_scalars))
    return std::nullopt;
  Generalized out{b, {}};
  bool any = false;
  for (size_t v = 0; v < a.values.size(); ++v) {
    Shape& shape = out.graph.values[v].shape;
    for (int64_t d = 0; d < shape.ndim(); ++d)
      if (a.values[v].shape[d] != b.values[v].shape[d]) {
        shape[d] = kDynamic;
        any = true;
      }
  }
  if (!any) {
    if (why_not) *why_not = kSameSizes;
    return std::nullopt;
  }
  for (Node& n : out.graph.nodes) {
    if (Shape* shape = output_shape_attr(n.op, n.attrs); shape && *shape == b.values[n.outputs[0]].shape)
      *shape = out.graph.values[n.outputs[0]].shape;
    // A slice to a length that varies: its end is read at run time.
    if ((n.op == OpId::slice || n.op == OpId::slice_backward) && slice_end(n)) {
      const Node& was = a.nodes[size_t(&n - out.graph.nodes.data())];
      if (*slice_end(n) != (was.op == OpId::slice ? was.attrs.ints[1] : was.attrs.ints2[1]))
        *slice_end(n) = kDynamic;
    }
  }
  for (size_t i = 0; i < a.inputs.size(); ++i) {
    const Shape &was = a.values[a.inputs[i]].shape, &now = b.values[b.inputs[i]].shape;
    for (int64_t d = 0; d < was.ndim(); ++d)
      if (was[d] != now[d])
        out.reason += std::string(out.reason.empty() ? "" : "; ") + "input " + std::to_string(i) + " dim " +
                      std::to_string(d) + " became dynamic (" + std::to_string(was[d]) + " -> " +
                      std::to_string(now[d]) + ")";
  }
  // Note [Sizes in a generalized graph]: the input dims that vary and can
  // stand for a size at run time (their other dims static and nonzero).
  std::vector<std::pair<int, int>> sizes;
  for (size_t i = 0; i < a.inputs.size(); ++i) {
    const Shape &was = a.values[a.inputs[i]].shape, &now = b.values[b.inputs[i]].shape;
    for (int64_t d = 0; d < was.ndim(); ++d) {
      bool line = was[d] != now[d] && was[d] > 0 && now[d] > 0;
      for (int64_t o = 0; o < was.ndim(); ++o) line = line && (o == d || (was[o] == now[o] && was[o] > 0));
      if (line) sizes.push_back({static_cast<int>(i), static_cast<int>(d)});
    }
  }
  for (size_t n : differing_scalars) {
    const double sa = a.nodes[n].attrs.scalar, sb = b.nodes[n].attrs.scalar;
    bool found = false;
    for (const auto& [input, dim] : sizes) {
      const double na = double(input_size(a, input, dim)), nb = double(input_size(b, input, dim));
      const double factor = sa / na;
      if (factor == 0 || !std::isfinite(factor) || factor * na != sa || factor * nb != sb) continue;
      out.graph.size_scalars.push_back({static_cast<int>(n), input, dim, factor});
      out.reason += "; " + node_name(b, n) + "'s number is " + size_text(factor, input, dim);
      found = true;
      break;
    }
    if (!found) {
      if (why_not)
        *why_not = node_name(b, n) + " has attributes that depend on the sizes (" +
                   attrs_string(a.nodes[n].op, a.nodes[n].attrs) + " / " +
                   attrs_string(b.nodes[n].op, b.nodes[n].attrs) + ")";
      return std::nullopt;
    }
  }
  for (size_t v = 0; v < a.values.size(); ++v)
    for (int64_t d = 0; d < a.values[v].shape.ndim(); ++d) {
      if (out.graph.values[v].shape[d] != kDynamic) continue;
      for (const auto& [input, dim] : sizes)
        if (a.values[v].shape[d] == input_size(a, input, dim) &&
            b.values[v].shape[d] == input_size(b, input, dim)) {
          out.graph.dim_sources.push_back({static_cast<int>(v), static_cast<int>(d), input, dim});
          break;
        }
    }
  if (!instance_of(out.graph, a, why_not) || !instance_of(out.graph, b, why_not)) return std::nullopt;
  return out;
}

}  // namespace ember::tracer
