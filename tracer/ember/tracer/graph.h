// graph.h - a traced program: SSA values with shapes and dtypes, the op
// nodes that compute them, and what a replay must write back.
//
// A Graph is plain C++ (no MLIR): the tracer builds it from one eager run
// (trace.h), the interpreter re-executes it (interpreter.h), and ir/ turns it
// into the ember MLIR dialect.
#pragma once

#include <string>
#include <vector>

#include "ember/op_table.h"

namespace ember::tracer {

enum class ValueKind : uint8_t {
  Input,     // the traced function's tensor argument number `index`
  Captured,  // a tensor that existed before the call (a parameter, a buffer, a
             // .grad, an optimizer's state), read by reference at replay
  Constant,  // a tensor made inside the call without an op (e.g. tensor({...})): its values are baked
  Op,        // output `output` of node `index`
};

struct Value {
  ValueKind kind;
  Shape shape;
  DType dtype;
  int index = 0;
  int output = 0;
};

struct Node {
  OpId op;
  std::vector<int> inputs;  // value ids
  OpAttrs attrs;
  std::vector<int> outputs;  // value ids
  Loc loc;                   // the user's call site
  // "train.py:42" when the op was called from Python (Note [Lines of other languages], dispatch.h):
  // the user's line, in place of `loc` (a line of the bindings).
  std::string where = {};
  // The user's line as text: `where`, or `loc`'s file:line.
  std::string location() const;
};

struct Graph {
  std::vector<Value> values;
  std::vector<Node> nodes;
  std::vector<int> inputs;       // value id of each function argument
  std::vector<Tensor> captured;  // bound by reference
  std::vector<int> captured_values;
  std::vector<Tensor> constants;  // baked
  std::vector<int> constant_values;
  std::vector<int> outputs;  // value ids returned by the function

  // Functionalized in-place updates: after a replay, captured[captured_index]
  // (or the input) receives the value computed for it, in place.
  struct WriteBack {
    ValueKind target;  // Captured or Input
    int index;
    int value;
  };
  std::vector<WriteBack> writebacks;
  // `.grad` of captured[captured_index] set to a value (-1: to undefined).
  struct GradWrite {
    int captured_index;
    int value;
  };
  std::vector<GradWrite> grad_writes;

  // Note [Sizes in a generalized graph] (dynamic.h): what a graph with `?`
  // dims knows of them. A `?` dim of a value that is a dim of an input in
  // every trace (`dim` of value `value` is `input_dim` of input `input`),
  // and a binary op's scalar that is an input dim's size times `factor` (a
  // mean's count, x / x.size(0)): computed from that size at run time.
  struct DimSource {
    int value, dim, input, input_dim;
  };
  std::vector<DimSource> dim_sources;
  struct SizeScalar {
    int node, input, input_dim;
    double factor;
  };
  std::vector<SizeScalar> size_scalars;

  std::vector<std::string> data_reads;   // "file:line" of each item()/to_vector() during the trace
  std::vector<std::string> unsupported;  // why a replay would not do what the eager run did

  bool data_dependent() const { return !data_reads.empty(); }
  bool replayable() const { return data_reads.empty() && unsupported.empty(); }

  // One op per line with shapes and the source line, e.g.
  //   %7: f32[128, 1024] = matmul(%0, %6)    # model.cpp:42
  std::string to_text() const;
  // Graphviz: inputs, captured tensors and constants as boxes, ops as ellipses.
  std::string to_dot() const;

  int add_value(Value v);
};

std::string type_string(const Shape& shape, DType dtype);  // "f32[128, 784]"
std::string attrs_string(OpId op, const OpAttrs& attrs);   // only the fields the op uses

}  // namespace ember::tracer
