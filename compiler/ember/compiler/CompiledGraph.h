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

#include "ember/compiler/CompileBudget.h"
#include "ember/tracer/graph.h"

namespace ember::compiler {

// Whether `op`'s lowering takes `?` dims (Note [Dynamic dims in lowerings]);
// a graph with `?` dims and another op is refused by compile().
bool lowers_dynamic(OpId op);
// An Error naming the first op of `g` with a `?` dim in its operands or
// results whose lowering does not take them; `what` begins the message.
void check_dynamic_lowerings(const tracer::Graph& g, const char* what, const Loc& loc);

// Ember: as traced; Linalg: lowered and fused, on tensors; Buffers: on
// memrefs with BLAS calls; LLVM: the optimized LLVM IR for the host CPU.
enum class Stage { Ember, Linalg, Buffers, LLVM };

class CompiledGraph {
 public:
  static std::unique_ptr<CompiledGraph> compile(const tracer::Graph& graph, const Loc& loc = Loc::current());
  // Within `budget` (Note [A compile never runs away silently]), else an
  // Error naming the stage and the line whose code is the largest share.
  static std::unique_ptr<CompiledGraph> compile(const tracer::Graph& graph, const CompileBudget& budget,
                                                const Loc& loc = Loc::current());
  ~CompiledGraph();

  // Inputs as traced (shapes and dtypes are checked); captured tensors are
  // read as they are now, and must still have the dtype, shape, strides and
  // requires_grad they had when traced (an Error naming the change
  // otherwise: Note [Captured tensors are guarded]). Returns the outputs,
  // then performs the write-backs. Any number of threads may call run() at
  // once (Note [Per-call state]).
  std::vector<Tensor> run(const std::vector<Tensor>& inputs, const Loc& loc = Loc::current());
  // A graph with `?` dims (tracer/dynamic.h) takes inputs of any size in
  // those dims; its outputs' shapes at these sizes are `output_shapes` (from
  // the trace that showed the graph holds at these sizes: Note [Automatic
  // dynamic dims]).
  std::vector<Tensor> run(const std::vector<Tensor>& inputs, const std::vector<Shape>& output_shapes,
                          const Loc& loc = Loc::current());
  bool dynamic() const;
  // What changed in the captured tensors since they were traced, one line
  // each ("captured fc1.weight: float32[10, 64] -> float64[10, 64]"); empty
  // when nothing did. jit::compile recompiles on it.
  std::string captured_changes() const;

  // The program at each stage, as text (for debugging and tests).
  const std::string& stage(Stage s) const;
  double compile_ms() const;
  // Where the compile's time went, stage by stage ("linalg", "buffers",
  // "LLVM dialect", "LLVM -O3 and machine code"), in ms.
  const std::vector<std::pair<std::string, double>>& stage_ms() const;
  // The size of the module handed to LLVM, in LLVM-dialect ops.
  int64_t llvm_ops() const;
  // One line per matmul of the graph: the BLAS calls it became, or why it
  // stayed loops ("gpt.h:41: f32 16x4x[128x64 @ 64x128]: cblas_sgemm x64,
  // B transposed"; Note [Matmuls become BLAS calls]).
  const std::vector<std::string>& gemm_report() const;
  const tracer::Graph& graph() const;
  // How many chunks of rows a call runs in parallel (Note [Row-parallel
  // graphs] in RowParallel.h); 1 when the graph is not row-parallel.
  int64_t row_chunks() const;
  // How many matmul weights it keeps in oneDNN's layout (Note [Pre-packed weights]).
  int64_t packed_weights() const;
  // How many per-call states it has made: the most calls ever in flight at once.
  int64_t call_states() const;

 private:
  CompiledGraph();
  std::vector<Tensor> run_checked(const std::vector<Tensor>& inputs, const Loc& loc);
  struct CallState;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ember::compiler
