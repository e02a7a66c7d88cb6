// dynamic.h - graphs with `?` dims: one trace standing for every size.
//
//   auto general = generalize(trace_at_128, trace_at_37);   // dims that differ become kDynamic
//   std::string why;
//   if (instance_of(general->graph, trace_at_64, &why)) ... // the same program at another size
//
// Note [Automatic dynamic dims]
// A C++ or Python function may turn a size into a number the graph bakes
// (loss / x.size(0), a view's shape), and ember has no symbolic sizes to
// see that happen. So a graph with `?` dims is never trusted on its own: it
// is made from two traces at different sizes that are the same program
// (the same ops, wiring, attributes, constants and captured tensors) whose
// shapes differ only in some dims, and it serves a new size only after a
// trace at that size is the same program again (instance_of). A size that
// reached a constant or an attribute makes the traces differ, and the jit
// compiles that size on its own: never a wrong answer, at the cost of one
// eager trace per new size (a compile is 100x that). One kind of attribute
// is let differ: an op's output shape (a view's shape, a gradient's
// result_shape) that equals its output's shape in both traces is the same
// attribute, and the general graph's holds the `?` dims.
//
// Note [Sizes in a generalized graph]
// A number that is a size can be let differ too, when the two traces say
// which: a binary op's scalar that is k times the size of one input dim in
// both traces (k the same; a mean's gradient divides by its count, a user's
// x / x.size(0)) becomes Graph::size_scalars, computed from that dim at run
// time; and each `?` dim of a value that equals one input dim in both
// traces is recorded in Graph::dim_sources, so that an op with no operand
// of that size (an expand to the batch, in a sum's gradient) can read it.
// A slice of a static dim whose end is start + such a length (a buffer cut
// to the sequence: mask[:T, :T], pos[2:2+T]) and its gradient keep their
// end as `?` (kDynamic; Tensor::slice never dispatches that end), and the
// lowering reads the length from the input dim, checked against the buffer
// (ShapeOps.cpp: an export's caller passes any length).
// Both are relations the two traces showed, not proofs: instance_of checks
// every one of them against each new size's trace before it runs the code,
// so a relation that does not hold at a size compiles that size on its own.
#pragma once

#include <optional>
#include <string>

#include "ember/tracer/graph.h"

namespace ember::tracer {

// generalize's why_not for two traces whose sizes are all the same.
inline constexpr const char* kSameSizes = "the traces have the same sizes";

struct Generalized {
  Graph graph;         // `b`'s graph with kDynamic where a's and b's sizes differ
  std::string reason;  // "input 0 dim 0 became dynamic (128 -> 37)", one line per input dim
};

// The graph both traces are instances of, with each dim that differs
// between them made kDynamic; nullopt with `why_not` set when they are not
// the same program, or when a `?` dim would hide a broadcast (a size-1 dim
// of one operand against a larger one of another: Note [Dynamic dims in
// lowerings]).
std::optional<Generalized> generalize(const Graph& a, const Graph& b, std::string* why_not);

// Whether `specific` is `general` at some sizes: the same program, every
// static dim of `general` equal, and no broadcast behind a `?` dim.
bool instance_of(const Graph& general, const Graph& specific, std::string* why_not);

bool has_dynamic_dims(const Graph& g);
bool has_dynamic_dims_of(const Graph& g, int value);

// `g` with the given (input, dim) pairs made kDynamic, and every shape that
// follows from them by the shape rules (a view that keeps its input's shape
// keeps its `?` dims); nullopt with `why_not` set when a pair names no such
// dim or a rule refuses. Sizes that reached attributes or constants are not
// found here: jit::compile admits each new size by instance_of, as ever.
std::optional<Graph> mark_dynamic(const Graph& g, const std::vector<std::pair<int, int>>& input_dims,
                                  std::string* why_not);

}  // namespace ember::tracer
