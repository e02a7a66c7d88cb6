//===- ReductionLoops.cpp - reduction generics to scf loops ----------------===//
//
// MLIR 19's affine super-vectorizer mistakes a reduction written as a load
// and store of an invariant accumulator for a parallel loop when the
// innermost loop has one iteration (a [16, 1] -> [1] sum), and emits an
// invalid broadcasting vector.transfer_write. Reductions therefore become
// scf loops before the affine lowering, which the vectorizer leaves alone
// (LLVM still unrolls and interleaves them).
//
//===----------------------------------------------------------------------===//

#include "ember/compiler/Passes.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/PatternMatch.h"

namespace ember::compiler {

#define GEN_PASS_DEF_EMBERREDUCTIONSTOLOOPS
#include "ember/compiler/Passes.h.inc"

namespace {

struct EmberReductionsToLoops : impl::EmberReductionsToLoopsBase<EmberReductionsToLoops> {
  void runOnOperation() override {
    llvm::SmallVector<mlir::linalg::GenericOp> reductions;
    getOperation().walk([&](mlir::linalg::GenericOp op) {
      if (op.hasPureBufferSemantics() && op.getNumReductionLoops() > 0) reductions.push_back(op);
    });
    mlir::IRRewriter rewriter(&getContext());
    for (auto op : reductions) {
      rewriter.setInsertionPoint(op);
      if (mlir::failed(mlir::linalg::linalgOpToLoops(rewriter, op))) return signalPassFailure();
      rewriter.eraseOp(op);
    }
  }
};

}  // namespace
}  // namespace ember::compiler
