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
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace ember::compiler {

#define GEN_PASS_DEF_EMBERPARALLELLOOPS
#define GEN_PASS_DEF_EMBERINLINEALLOCASCOPES
#include "ember/compiler/Passes.h.inc"

namespace {

// Iterations of the innermost loops (a vectorized one covers 16 elements):
// below this, waking the pool costs more than it saves.
constexpr int64_t kMinIterations = 16384;

// Note [Loops of run-time trip count]
// A nest over a `?` dim (a dynamic graph's batch) has no trip count to
// weigh at compile time. Its outer loop is versioned instead: an scf.if on
// the trip count, computed at run time from the loop's bounds, runs a
// parallel copy of the nest when it reaches the same threshold as static
// nests (kMinIterations over the static inner work) and the serial loop
// otherwise, so a batch of 1 does not wake the pool and a batch of 4096
// uses it. Only nests whose inner loops are all static are versioned.

// Innermost iterations of one outer iteration: the inner loops' static
// trip counts multiplied down the deepest path; nullopt when one is not static.
std::optional<int64_t> inner_work(mlir::affine::AffineForOp loop) {
  std::optional<int64_t> inner = 1;
  loop.getBody()->walk<mlir::WalkOrder::PreOrder>([&](mlir::affine::AffineForOp child) {
    const std::optional<uint64_t> trips = mlir::affine::getConstantTripCount(child);
    const std::optional<int64_t> below = inner_work(child);
    if (!trips || !below || !inner) {
      inner = std::nullopt;
      return mlir::WalkResult::interrupt();
    }
    inner = std::max(*inner, static_cast<int64_t>(*trips) * *below);
    return mlir::WalkResult::skip();
  });
  return inner;
}

// The nest of `loop` (outer trip count known at run time only) versioned on
// that count (Note [Loops of run-time trip count]); false when its bounds
// are not one affine expression.
bool version_on_trip_count(mlir::affine::AffineForOp loop, int64_t inner) {
  mlir::AffineMap map;
  llvm::SmallVector<mlir::Value> operands;
  mlir::affine::getTripCountMapAndOperands(loop, &map, &operands);
  if (!map || map.getNumResults() != 1) return false;
  mlir::OpBuilder b(loop);
  const mlir::Location l = loop.getLoc();
  mlir::Value trips = b.create<mlir::affine::AffineApplyOp>(l, map, operands);
  const int64_t needed = (kMinIterations + inner - 1) / inner;
  mlir::Value large =
      b.create<mlir::arith::CmpIOp>(l, mlir::arith::CmpIPredicate::sge, trips,
                                    b.create<mlir::arith::ConstantIndexOp>(l, std::max<int64_t>(needed, 2)));
  auto branch = b.create<mlir::scf::IfOp>(l, large, /*withElseRegion=*/true);
  b.setInsertionPoint(branch.thenBlock()->getTerminator());
  auto parallel = mlir::cast<mlir::affine::AffineForOp>(b.clone(*loop));
  loop->moveBefore(branch.elseBlock()->getTerminator());
  (void)mlir::affine::affineParallelize(parallel);  // Note [Top-level affine loops are parallel]
  return true;
}

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
        if (loop.getNumIterOperands() != 0) continue;
        const auto trips = mlir::affine::getConstantTripCount(loop);
        if (!trips) {  // Note [Loops of run-time trip count]
          if (const auto inner = inner_work(loop)) (void)version_on_trip_count(loop, *inner);
          continue;
        }
        if (*trips < 2 || work(loop) < kMinIterations) continue;
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
