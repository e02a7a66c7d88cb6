// GraphToMLIR.h - a traced Graph as a func.func of ember ops.
//
//   auto [graph, outputs] = tracer::trace(fn, inputs);
//   mlir::MLIRContext context;
//   auto module = ir::graph_to_mlir(context, graph);      // verified
//   std::string text = ir::graph_to_mlir_text(graph);     // or just the text
//
// The function takes the graph's inputs, then its captured tensors (bound by
// reference at run time), and returns its outputs, then the values a replay
// writes back (into captured tensors, inputs, and .grad). The
// `ember.arguments` and `ember.results` attributes of the function say which
// is which; every op has the `loc` of the user's source line. A write-back
// result of its target's type carries `ember.in_place = <argument index>`:
// compiled code writes it into that argument's buffer.
#pragma once

#include <string>
#include <string_view>

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include "ember/tracer/graph.h"

namespace ember::ir {

// The result attribute naming the argument a write-back is computed into.
inline constexpr const char* kInPlaceAttr = "ember.in_place";
// On a creation op with `?` dims: (dim, argument, argument dim) triples, the
// function argument dim each `?` dim's size is (Note [Sizes in a
// generalized graph], tracer/dynamic.h).
inline constexpr const char* kSizeArgsAttr = "ember.size_args";

// Builds and verifies the module; an ember::Error names the first problem.
mlir::OwningOpRef<mlir::ModuleOp> graph_to_mlir(mlir::MLIRContext& context, const tracer::Graph& graph,
                                                std::string_view name = "forward");
std::string graph_to_mlir_text(const tracer::Graph& graph, std::string_view name = "forward",
                               bool with_locations = false);
// Loads the dialects an ember module uses (ember, func).
void load_dialects(mlir::MLIRContext& context);
// Prints a module (with `loc(...)` when with_locations).
std::string to_text(mlir::ModuleOp module, bool with_locations = false);

}  // namespace ember::ir
