// graph.cpp - the text and Graphviz dumps of a Graph.
#include "ember/tracer/graph.h"

#include "ember/op_attrs.h"

#include <sstream>

namespace ember::tracer {

std::string Node::location() const { return where.empty() ? format_loc(loc) : where; }

namespace {
const char* short_dtype(DType t) {
  switch (t) {
    case DType::Bool:
      return "i1";
    case DType::Int32:
      return "i32";
    case DType::Int64:
      return "i64";
    case DType::Float32:
      return "f32";
    case DType::Float64:
      return "f64";
  }
  return "?";
}

std::string describe(const Value& v) {
  switch (v.kind) {
    case ValueKind::Input:
      return "input " + std::to_string(v.index);
    case ValueKind::Captured:
      return "captured " + std::to_string(v.index);
    case ValueKind::Constant:
      return "constant " + std::to_string(v.index);
    case ValueKind::Op:
      return "";
  }
  return "";
}
}  // namespace

int Graph::add_value(Value v) {
  values.push_back(v);
  return static_cast<int>(values.size()) - 1;
}

std::string type_string(const Shape& shape, DType dtype) { return short_dtype(dtype) + to_string(shape); }

std::string attrs_string(OpId op, const OpAttrs& a) {
  std::ostringstream s;
  attrs::print_attrs(s, op, a);  // by name, from the op's schema row
  if (a.has(kScalarLhs | kScalarRhs))
    s << (s.tellp() > 0 ? ", " : "") << (a.has(kScalarLhs) ? "scalar_lhs=" : "scalar_rhs=") << a.scalar;
  return s.str();
}

std::string Graph::to_text() const {
  std::ostringstream out;
  out << "graph(";
  for (size_t i = 0; i < inputs.size(); ++i)
    out << (i ? ", " : "") << "%" << inputs[i] << ": "
        << type_string(values[inputs[i]].shape, values[inputs[i]].dtype);
  out << ") {\n";
  for (size_t i = 0; i < captured_values.size(); ++i) {
    const Value& v = values[captured_values[i]];
    out << "  %" << captured_values[i] << ": " << type_string(v.shape, v.dtype) << " = captured " << i
        << "\n";
  }
  for (size_t i = 0; i < constant_values.size(); ++i) {
    const Value& v = values[constant_values[i]];
    out << "  %" << constant_values[i] << ": " << type_string(v.shape, v.dtype) << " = constant " << i
        << "\n";
  }
  for (const Node& n : nodes) {
    std::ostringstream line;
    line << "  ";
    for (size_t k = 0; k < n.outputs.size(); ++k) {
      const Value& v = values[n.outputs[k]];
      line << (k ? ", " : "") << "%" << n.outputs[k] << ": " << type_string(v.shape, v.dtype);
    }
    line << " = " << op_name(n.op) << "(";
    for (size_t k = 0; k < n.inputs.size(); ++k) line << (k ? ", " : "") << "%" << n.inputs[k];
    const std::string attrs = attrs_string(n.op, n.attrs);
    if (!attrs.empty()) line << (n.inputs.empty() ? "" : ", ") << attrs;
    line << ")";
    std::string text = line.str();
    if (text.size() < 64) text.append(64 - text.size(), ' ');
    out << text << "  # " << n.location() << "\n";
  }
  out << "  return";
  for (size_t i = 0; i < outputs.size(); ++i) out << (i ? ", %" : " %") << outputs[i];
  out << "\n";
  for (const auto& w : writebacks)
    out << "  write " << (w.target == ValueKind::Input ? "input " : "captured ") << w.index << " <- %"
        << w.value << "\n";
  for (const auto& g : grad_writes) {
    out << "  write captured " << g.captured_index << ".grad <- ";
    if (g.value < 0)
      out << "undefined\n";
    else
      out << "%" << g.value << "\n";
  }
  for (const auto& r : data_reads) out << "  # data-dependent: values read at " << r << "\n";
  for (const auto& u : unsupported) out << "  # not replayable: " << u << "\n";
  out << "}\n";
  return out.str();
}

std::string Graph::to_dot() const {
  std::ostringstream out;
  out << "digraph ember {\n  rankdir=TB;\n  node [fontname=\"monospace\", fontsize=10];\n";
  for (size_t i = 0; i < values.size(); ++i) {
    const Value& v = values[i];
    if (v.kind == ValueKind::Op) continue;
    out << "  v" << i << " [shape=box, label=\"%" << i << " " << describe(v) << "\\n"
        << type_string(v.shape, v.dtype) << "\"];\n";
  }
  for (size_t n = 0; n < nodes.size(); ++n) {
    const Node& node = nodes[n];
    out << "  n" << n << " [shape=ellipse, label=\"" << op_name(node.op) << "\\n"
        << node.location() << "\"];\n";
    for (int in : node.inputs) {
      const Value& v = values[in];
      if (v.kind == ValueKind::Op) {
        out << "  n" << v.index << " -> n" << n << " [label=\"" << type_string(v.shape, v.dtype) << "\"];\n";
      } else {
        out << "  v" << in << " -> n" << n << ";\n";
      }
    }
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    const Value& v = values[outputs[i]];
    out << "  out" << i << " [shape=box, style=bold, label=\"output " << i << "\\n"
        << type_string(v.shape, v.dtype) << "\"];\n";
    if (v.kind == ValueKind::Op)
      out << "  n" << v.index << " -> out" << i << ";\n";
    else
      out << "  v" << outputs[i] << " -> out" << i << ";\n";
  }
  out << "}\n";
  return out.str();
}

}  // namespace ember::tracer
