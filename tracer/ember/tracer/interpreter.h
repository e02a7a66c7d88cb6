// interpreter.h - re-executes a Graph with the eager kernels.
//
// The reference the compiler is tested against, and the proof that a trace
// is complete: replaying a traced training step must change the parameters
// (and their .grad) exactly as the eager step did.
#pragma once

#include "ember/tracer/graph.h"

namespace ember::tracer {

// Runs the graph on `inputs` (shapes and dtypes as traced), reading captured
// tensors as they are now, then performs the write-backs. Returns the outputs.
std::vector<Tensor> run_graph(const Graph& graph, const std::vector<Tensor>& inputs,
                              const Loc& loc = Loc::current());

}  // namespace ember::tracer
