//===- ParallelLoops.cpp - large top-level loop nests over the thread pool -===//
//
// The loop nests a compiled function runs one after another (an optimizer
// update over a million parameters, an activation over a batch) run on one
// thread unless marked parallel. This pass marks the outermost loop of each
// large top-level affine nest as affine.parallel; the pipeline lowers it
// through scf.parallel and the OpenMP dialect to calls that run on ember's
// libgomp pool (OpenMPShim.cpp): the same threads as the eager kernels and
// BLAS.
//
// Note [Top-level affine loops are parallel]
// Why no dependence analysis (MLIR's does not look into the vector
// transfers the vectorizer made, so it would refuse every nest): by the time
// this runs, every linalg op with a reduction loop has become scf loops
// (ember-reductions-to-loops), so each affine nest directly in a function
// body comes from a linalg op whose loops are all parallel, and
// bufferization only writes in place where each element is read and written
// at the same index. The outermost loop of such a nest has independent
// iterations.
//
//===----------------------------------------------------------------------===//

#include "ember/compiler/Passes.h"
#include "mlir/Dialect/Affine/Analysis/LoopAnalysis.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Affine/Utils.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace ember::compiler {

#define GEN_PASS_DEF_EMBERPARALLELLOOPS
#define GEN_PASS_DEF_EMBERINLINEALLOCASCOPES
#include "ember/compiler/Passes.h.inc"

namespace {

// Iterations of the innermost loops (a vectorized one covers 16 elements):
// below this, waking the pool costs more than it saves.
constexpr int64_t kMinIterations = 16384;

// Innermost iterations of a nest: trip counts multiplied down the deepest path.
int64_t work(mlir::affine::AffineForOp loop) {
  const std::optional<uint64_t> trips = mlir::affine::getConstantTripCount(loop);
  int64_t inner = 1;
  loop.getBody()->walk<mlir::WalkOrder::PreOrder>([&](mlir::affine::AffineForOp child) {
    inner = std::max(inner, work(child));
    return mlir::WalkResult::skip();
  });
  return trips ? static_cast<int64_t>(*trips) * inner : 0;
}

struct EmberParallelLoops : impl::EmberParallelLoopsBase<EmberParallelLoops> {
  void runOnOperation() override {
    getOperation().walk([](mlir::func::FuncOp func) {
      if (func.isExternal()) return;
      llvm::SmallVector<mlir::affine::AffineForOp> nests;
      for (mlir::Operation& op : func.getBody().front())
        if (auto loop = mlir::dyn_cast<mlir::affine::AffineForOp>(op)) nests.push_back(loop);
      for (auto loop : nests) {
        const auto trips = mlir::affine::getConstantTripCount(loop);
        if (!trips || *trips < 2 || loop.getNumIterOperands() != 0 || work(loop) < kMinIterations) continue;
        (void)mlir::affine::affineParallelize(loop);  // Note [Top-level affine loops are parallel]
      }
    });
  }
};

// --convert-scf-to-openmp wraps each parallel body in a memref.alloca_scope,
// which must not hold the blocks scf-to-cf makes of an inner loop. Only
// these ops are rewritten (MLIR's own inlining pattern: a scope without
// allocas of its own joins its parent's): a full canonicalization at this
// point changed what a compiled training step computes.
struct EmberInlineAllocaScopes : impl::EmberInlineAllocaScopesBase<EmberInlineAllocaScopes> {
  void runOnOperation() override {
    llvm::SmallVector<mlir::Operation*> scopes;
    getOperation().walk([&](mlir::memref::AllocaScopeOp op) { scopes.push_back(op); });
    if (scopes.empty()) return;
    mlir::RewritePatternSet patterns(&getContext());
    mlir::memref::AllocaScopeOp::getCanonicalizationPatterns(patterns, &getContext());
    mlir::GreedyRewriteConfig config;
    config.strictMode = mlir::GreedyRewriteStrictness::ExistingOps;
    if (mlir::failed(mlir::applyOpPatternsAndFold(scopes, std::move(patterns), config))) signalPassFailure();
  }
};

}  // namespace
}  // namespace ember::compiler
