// Pipeline.h - the stages from an ember module to native code, shared by
// CompiledGraph (traced graphs) and ember-compile (saved .mlir files).
//
//   lower_to_linalg(module)     ember -> linalg on tensors, fused
//   bufferize(module, "forward") results become out-parameters, memrefs,
//                               matmuls become BLAS calls
//   lower_to_llvm(module)       loops, vectors, polynomial math, LLVM dialect
//   jit(module) / llvm_ir(module)
//
// Each throws ember::Error with MLIR's diagnostics when a stage fails.
#pragma once

#include <memory>
#include <string>

#include <vector>

#include "ember/compiler/CallingConvention.h"
#include "ember/error.h"
#include "ember/tensor.h"

namespace llvm {
class TargetMachine;
}
namespace mlir {
class DialectRegistry;
class ExecutionEngine;
class MLIRContext;
class ModuleOp;
class OpPassManager;
}  // namespace mlir

namespace ember::compiler {

// Every dialect and interface the pipeline touches.
void register_dialects(mlir::DialectRegistry& registry);
// A context with all of them loaded.
std::unique_ptr<mlir::MLIRContext> make_context();

// The stages as pass pipelines, registered (register_pipelines) for
// ember-opt as ember-jit-linalg, ember-jit-bufferize{function=... in-place=...},
// ember-jit-llvm{parallel-loops=...} and ember-jit-pipeline (all three), so
// that a dumped module (EMBER_JIT_DUMP) is lowered by hand exactly as the
// JIT lowered it. The functions below run the same builders.
void build_linalg_pipeline(mlir::OpPassManager& pm);
void build_bufferize_pipeline(mlir::OpPassManager& pm, const std::string& function, bool in_place);
// `cached_temporaries`: the allocations left after ember-pack-buffers (the
// temporaries of `?` size) come from ember's caching allocator rather than
// malloc (Note [Temporaries of run-time size]); JIT code only, an export
// has no ember runtime.
void build_llvm_pipeline(mlir::OpPassManager& pm, bool parallel_loops, bool cached_temporaries = false);
void register_pipelines();

void lower_to_linalg(mlir::ModuleOp module, const Loc& loc);
// Note [Destination passing]: `function`'s results become memref arguments,
// but write-backs marked ember.in_place, which are computed into their
// argument when bufferization can prove that safe (Note [In-place
// write-backs]).
void bufferize(mlir::ModuleOp module, const std::string& function, const Loc& loc);
// After bufferize: the indices (among the ember function's results) of the
// results computed in place, which are no longer parameters.
std::vector<int64_t> in_place_results(mlir::ModuleOp module, const std::string& function);
// After bufferize: the name of the function that computes only `function`'s
// failure counts, to be called first when it writes in place (Note [Checks
// before in-place writes]); empty if there is none.
std::string checks_function(mlir::ModuleOp module, const std::string& function);
// parallel_loops: large parallel loop nests run on the OpenMP pool
// (ParallelLoops.cpp); off for exports, which have no ember runtime.
void lower_to_llvm(mlir::ModuleOp module, const Loc& loc, bool parallel_loops = true,
                   bool cached_temporaries = false);

// The host CPU's target machine (LLVM's vectorizers need its vector width);
// position-independent code for objects linked into other programs.
std::unique_ptr<llvm::TargetMachine> host_target_machine(const Loc& loc, bool position_independent = false);
// The module (in the LLVM dialect) as an object file for the host CPU, -O3.
std::string object_code(mlir::ModuleOp module, const Loc& loc);
// The optimized (-O3, host CPU) LLVM IR of a module in the LLVM dialect.
std::string llvm_ir(mlir::ModuleOp module, const Loc& loc);
// The module compiled by ORC at -O3 for the host CPU.
std::unique_ptr<mlir::ExecutionEngine> jit(mlir::ModuleOp module, const Loc& loc);
// With EMBER_PERF_MAP set: appends the engine's functions to
// /tmp/perf-<pid>.map, once its entry points have been looked up (the JIT
// compiles on first lookup); Note [Compiled code in perf].
bool perf_map_requested();
void write_perf_map(mlir::ExecutionEngine& engine);

// Appends to `out` the inputs of a compiled call, each checked against its
// type ("<what>: input i must be f32[128, 784]") and made contiguous.
void append_checked_inputs(const std::vector<Tensor>& inputs,
                           const std::vector<std::pair<Shape, DType>>& types, const std::string& what,
                           const Loc& loc, std::vector<Tensor>& out);
// Raises "<what>: <message>" for the first failure count that is not zero;
// count i belongs to messages[i % messages.size()] (one set per chunk).
void raise_failed_checks(const std::vector<Tensor>& counts, const std::vector<std::string>& messages,
                         const std::string& what, const Loc& loc);
// The workspace argument's bytes (the ember.workspace_bytes attribute).
int64_t workspace_bytes(mlir::ModuleOp module, const std::string& function);
// The messages of the checks whose failure counts follow the results (the
// ember.checks attribute of --ember-lower-checks), in order.
std::vector<std::string> check_messages(mlir::ModuleOp module, const std::string& function);

}  // namespace ember::compiler
