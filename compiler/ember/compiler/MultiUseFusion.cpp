//===- MultiUseFusion.cpp - elementwise producers with several uses, fused --===//
//
// MLIR's elementwise fusion pass fuses a producer only into its single user.
// A training step's optimizer makes producers with two: SGD's new momentum
// is written back and also read by the parameter update; Adam's moments the
// same. Each such pair was two passes over the parameters' size. Fusing the
// producer into its elementwise consumer anyway, with its result kept as a
// second result of the fused op (linalg::fuseElementwiseOps preserves
// results that have other uses), makes the pair one pass that writes both.
// Only where nothing is computed twice: both ops all-parallel over the same
// loops, the consumer reading the producer's result at the same index.
//
//===----------------------------------------------------------------------===//

#include "ember/compiler/Passes.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace ember::compiler {

#define GEN_PASS_DEF_EMBERFUSEMULTIUSE
#include "ember/compiler/Passes.h.inc"

namespace {

bool all_parallel(mlir::linalg::GenericOp op) { return op.getNumParallelLoops() == op.getNumLoops(); }

bool fuse_without_recomputing(mlir::OpOperand* operand) {
  auto producer = operand->get().getDefiningOp<mlir::linalg::GenericOp>();
  auto consumer = mlir::dyn_cast<mlir::linalg::GenericOp>(operand->getOwner());
  if (!producer || !consumer || producer->hasOneUse()) return false;  // one use: MLIR's own pass fused it
  if (!all_parallel(producer) || !all_parallel(consumer) || producer.getNumLoops() != consumer.getNumLoops())
    return false;
  auto result = mlir::cast<mlir::OpResult>(operand->get());
  return consumer.getMatchingIndexingMap(operand).isIdentity() &&
         producer.getIndexingMapMatchingResult(result).isIdentity();
}

// MLIR 19's fusion pattern keeps a multi-use producer and recomputes it in
// the fused op (it only redirects the consumer's uses), so the fusion is
// driven here: every use of the producer moves to the fused op's preserved
// result. The producer's other users must come after the consumer, where
// the fused op is.
struct FuseMultiUseProducer : mlir::OpRewritePattern<mlir::linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;
  mlir::LogicalResult matchAndRewrite(mlir::linalg::GenericOp consumer,
                                      mlir::PatternRewriter& rewriter) const override {
    for (mlir::OpOperand& operand : consumer->getOpOperands()) {
      if (!fuse_without_recomputing(&operand) || !mlir::linalg::areElementwiseOpsFusable(&operand)) continue;
      mlir::Operation* producer = operand.get().getDefiningOp();
      const bool users_after = llvm::all_of(producer->getUsers(), [&](mlir::Operation* user) {
        return user == consumer ||
               (user->getBlock() == consumer->getBlock() && consumer->isBeforeInBlock(user));
      });
      if (!users_after) continue;
      mlir::FailureOr<mlir::linalg::ElementwiseOpFusionResult> fused =
          mlir::linalg::fuseElementwiseOps(rewriter, &operand);
      if (mlir::failed(fused)) continue;
      for (auto [original, replacement] : fused->replacements)
        rewriter.replaceAllUsesWith(original, replacement);
      rewriter.eraseOp(consumer);
      if (producer->use_empty()) rewriter.eraseOp(producer);
      return mlir::success();
    }
    return mlir::failure();
  }
};

struct EmberFuseMultiUse : impl::EmberFuseMultiUseBase<EmberFuseMultiUse> {
  void runOnOperation() override {
    mlir::RewritePatternSet patterns(&getContext());
    patterns.add<FuseMultiUseProducer>(&getContext());
    if (mlir::failed(mlir::applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

}  // namespace
}  // namespace ember::compiler
