//===- Dialect.cpp - the ember dialect --------------------------------------===//
//
// Registers the ops generated from EmberOps.td and implements what ODS
// promises for ember.constant (verifier, folder); result types are checked
// through InferTypeOpInterface (TypeInference.cpp).
//
//===----------------------------------------------------------------------===//

#include "ember/ir/Dialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

#include "ember/ir/EmberDialect.cpp.inc"

namespace ember::ir {

void EmberDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "ember/ir/EmberOps.cpp.inc"
      >();
}

llvm::LogicalResult ConstantOp::verify() {
  if (getValue().getType() != getType()) return emitOpError("the value's type must be the result type");
  return llvm::success();
}

mlir::OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValue(); }

}  // namespace ember::ir

#define GET_OP_CLASSES
#include "ember/ir/EmberOps.cpp.inc"
