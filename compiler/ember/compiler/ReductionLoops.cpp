//===- ReductionLoops.cpp - bufferized linalg made ready for affine loops --===//
//
// MLIR 19's affine super-vectorizer mistakes a reduction written as a load
// and store of an invariant accumulator for a parallel loop when the
// innermost loop has one iteration (a [16, 1] -> [1] sum, a pooling window),
// and emits an invalid broadcasting vector.transfer_write. Linalg ops with
// reduction loops (generics, convolutions, pooling) therefore become scf
// loops before the affine lowering, which the vectorizer leaves alone (LLVM
// still unrolls and interleaves them). And memref.copy, which lowers to a
// call into MLIR's runtime library for strided buffers (not available to an
// exported object), becomes linalg.copy, i.e. loops.
//
//===----------------------------------------------------------------------===//

#include "ember/compiler/Passes.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/PatternMatch.h"

namespace ember::compiler {

#define GEN_PASS_DEF_EMBERREDUCTIONSTOLOOPS
#include "ember/compiler/Passes.h.inc"

namespace {

struct EmberReductionsToLoops : impl::EmberReductionsToLoopsBase<EmberReductionsToLoops> {
  void runOnOperation() override {
    llvm::SmallVector<mlir::linalg::LinalgOp> reductions;
    getOperation().walk([&](mlir::linalg::LinalgOp op) {
      if (op.hasPureBufferSemantics() && op.getNumReductionLoops() > 0) reductions.push_back(op);
    });
    mlir::IRRewriter rewriter(&getContext());
    llvm::SmallVector<mlir::memref::CopyOp> copies;
    getOperation().walk([&](mlir::memref::CopyOp op) { copies.push_back(op); });
    for (auto copy : copies) {
      rewriter.setInsertionPoint(copy);
      rewriter.replaceOpWithNewOp<mlir::linalg::CopyOp>(copy, copy.getSource(), copy.getTarget());
    }
    for (auto op : reductions) {
      rewriter.setInsertionPoint(op);
      if (mlir::failed(mlir::linalg::linalgOpToLoops(rewriter, op))) return signalPassFailure();
      rewriter.eraseOp(op);
    }
  }
};

}  // namespace
}  // namespace ember::compiler
