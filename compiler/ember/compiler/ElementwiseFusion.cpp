//===- ElementwiseFusion.cpp - MLIR's elementwise fusion, GEMMs left whole -===//
//
// See EmberFuseElementwise in Passes.td: MLIR's --linalg-fuse-elementwise-ops
// with a control function that keeps every matmul whole (is_gemm), so that
// ember-matmul-to-blas can make it a BLAS call.
//
//===----------------------------------------------------------------------===//

#include "ember/compiler/Passes.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace ember::compiler {

#define GEN_PASS_DEF_EMBERFUSEELEMENTWISE
#include "ember/compiler/Passes.h.inc"

namespace {

struct EmberFuseElementwise : impl::EmberFuseElementwiseBase<EmberFuseElementwise> {
  void runOnOperation() override {
    mlir::MLIRContext* context = &getContext();
    mlir::RewritePatternSet patterns(context);
    // MLIR's own rule (a producer with one use), and never into or out of a
    // GEMM: folding a reshape through one rewrites it as a generic.
    const mlir::linalg::ControlFusionFn control = [](mlir::OpOperand* operand) {
      mlir::Operation* producer = operand->get().getDefiningOp();
      return producer && producer->hasOneUse() && !is_gemm(producer) && !is_gemm(operand->getOwner());
    };
    mlir::linalg::populateElementwiseOpsFusionPatterns(patterns, control);
    mlir::linalg::populateFoldReshapeOpsByExpansionPatterns(patterns, control);
    // The canonicalizations MLIR's pass runs with them.
    mlir::affine::AffineApplyOp::getCanonicalizationPatterns(patterns, context);
    mlir::linalg::GenericOp::getCanonicalizationPatterns(patterns, context);
    mlir::tensor::ExpandShapeOp::getCanonicalizationPatterns(patterns, context);
    mlir::tensor::CollapseShapeOp::getCanonicalizationPatterns(patterns, context);
    context->getLoadedDialect<mlir::linalg::LinalgDialect>()->getCanonicalizationPatterns(patterns);
    mlir::linalg::populateConstantFoldLinalgOperations(patterns, control);
    mlir::GreedyRewriteConfig config;
    config.useTopDownTraversal = true;  // as MLIR's pass: for compile time
    (void)mlir::applyPatternsAndFoldGreedily(getOperation(), std::move(patterns), config);
  }
};

}  // namespace
}  // namespace ember::compiler
