//===- TransfersInBounds.cpp - in_bounds for provably inside transfers -----===//
//
// See EmberTransfersInBounds in Passes.td: masked transfers become masked
// loads and stores, several times slower on an AMD Zen 5, so every transfer dim
// whose lanes provably stay inside the buffer is marked in bounds (but for
// buffers of i1, see below).
//
//===----------------------------------------------------------------------===//

#include <optional>

#include "ember/compiler/Passes.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Interfaces/VectorInterfaces.h"

namespace ember::compiler {

#define GEN_PASS_DEF_EMBERTRANSFERSINBOUNDS
#include "ember/compiler/Passes.h.inc"

namespace {

// The largest value `index` takes: a constant, or the last iteration of an
// affine.for with constant bounds.
std::optional<int64_t> largest_value(mlir::Value index) {
  if (auto c = index.getDefiningOp<mlir::arith::ConstantIndexOp>()) return c.value();
  auto loop = mlir::affine::getForInductionVarOwner(index);
  if (!loop || !loop.hasConstantBounds()) return std::nullopt;
  const int64_t lower = loop.getConstantLowerBound(), upper = loop.getConstantUpperBound();
  if (upper <= lower) return std::nullopt;  // no iteration: nothing to prove
  const int64_t step = loop.getStepAsInt();
  return lower + (upper - 1 - lower) / step * step;
}

void mark_in_bounds(mlir::VectorTransferOpInterface op) {
  auto buffer = mlir::dyn_cast<mlir::MemRefType>(op.getShapedType());
  // i1: ember-bool-transfers-to-scalars runs first and leaves no transfer
  // of an i1 buffer; one marked here would be a store of 16 packed bits
  // where the buffer has 16 bytes.
  if (!buffer || buffer.getElementTypeBitWidth() % 8 != 0) return;
  mlir::AffineMap map = op.getPermutationMap();
  llvm::SmallVector<bool> in_bounds;
  bool changed = false;
  for (unsigned i = 0; i < map.getNumResults(); ++i) {
    bool inside = op.isDimInBounds(i);
    auto dim = mlir::dyn_cast<mlir::AffineDimExpr>(map.getResult(i));
    if (!inside && dim && !buffer.isDynamicDim(dim.getPosition())) {
      const std::optional<int64_t> last = largest_value(op.getIndices()[dim.getPosition()]);
      inside = last && *last >= 0 &&
               *last + op.getVectorType().getDimSize(i) <= buffer.getDimSize(dim.getPosition());
      changed |= inside;
    }
    in_bounds.push_back(inside);
  }
  if (changed) op->setAttr("in_bounds", mlir::OpBuilder(op).getBoolArrayAttr(in_bounds));
}

struct EmberTransfersInBounds : impl::EmberTransfersInBoundsBase<EmberTransfersInBounds> {
  void runOnOperation() override {
    getOperation().walk([](mlir::VectorTransferOpInterface op) { mark_in_bounds(op); });
  }
};

}  // namespace
}  // namespace ember::compiler
