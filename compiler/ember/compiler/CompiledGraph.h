// CompiledGraph.h - a traced Graph lowered through MLIR and LLVM to native
// code, and run. No MLIR in this header: callers stay fast to compile.
//
//   auto [graph, eager_out] = tracer::trace(fn, inputs);
//   auto compiled = compiler::CompiledGraph::compile(graph);
//   std::vector<Tensor> out = compiled->run(inputs);     // native, same numbers
//   std::cout << compiled->stage(compiler::Stage::Linalg);
//
// Pipeline (Pipeline.h): ember -> linalg on tensors -> elementwise fusion ->
// destination passing (outputs are written into buffers the runtime
// allocates) -> bufferization -> BLAS calls for matmuls -> loops ->
// polynomial math -> LLVM -> ORC JIT at -O3 for the host CPU. A graph with
// an op that has no lowering is an ember::Error naming the first such op.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ember/tracer/graph.h"

namespace ember::compiler {

// Ember: as traced; Linalg: lowered and fused, on tensors; Buffers: on
// memrefs with BLAS calls; LLVM: the optimized LLVM IR for the host CPU.
enum class Stage { Ember, Linalg, Buffers, LLVM };

class CompiledGraph {
 public:
  static std::unique_ptr<CompiledGraph> compile(const tracer::Graph& graph, const Loc& loc = Loc::current());
  ~CompiledGraph();

  // Inputs as traced (shapes and dtypes are checked); captured tensors are
  // read as they are now. Returns the outputs, then performs the write-backs.
  std::vector<Tensor> run(const std::vector<Tensor>& inputs, const Loc& loc = Loc::current());

  // The program at each stage, as text (for debugging and tests).
  const std::string& stage(Stage s) const;
  double compile_ms() const;
  const tracer::Graph& graph() const;
  // How many chunks of rows a call runs in parallel (Note [Row-parallel
  // graphs] in RowParallel.h); 1 when the graph is not row-parallel.
  int64_t row_chunks() const;
  // How many matmul weights it keeps in oneDNN's layout (Note [Pre-packed weights]).
  int64_t packed_weights() const;

 private:
  CompiledGraph();
  std::vector<std::pair<const void*, uint64_t>> unchanged_operands(const std::vector<Tensor>& args,
                                                                   size_t inputs) const;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ember::compiler
