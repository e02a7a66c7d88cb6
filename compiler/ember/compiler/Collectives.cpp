//===- Collectives.cpp - ember.all_reduce as a call into the runtime -------===//
//
// See EmberCollectivesToCalls in Passes.td and Note [Collectives in
// compiled code] (runtime/ember/collectives.h).
//
//===----------------------------------------------------------------------===//

#include <set>
#include <string>

#include "ember/compiler/ExternalCalls.h"
#include "ember/compiler/LoweringUtils.h"
#include "ember/compiler/Passes.h"
#include "ember/ir/Dialect.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace ember::compiler {

#define GEN_PASS_DEF_EMBERCOLLECTIVESTOCALLS
#include "ember/compiler/Passes.h.inc"

namespace {

using lowering::as_strided;
using lowering::as_tensor;
using lowering::reshape_to;
using lowering::tensor_type;
using mlir::Value;

// The runtime function for `element`, or "" (no compiled form).
std::string kernel_name(mlir::Type element) {
  if (element.isF32()) return "ember_all_reduce_f32";
  if (element.isF64()) return "ember_all_reduce_f64";
  return "";
}

// x flattened and read from its buffer; the result a fresh buffer the call
// fills, a tensor again after it (as attention's, Attention.cpp).
void lower(ir::AllReduceOp op, mlir::func::FuncOp callee) {
  mlir::OpBuilder b(op);
  const mlir::Location l = op.getLoc();
  auto type = tensor_type(op.getResult());
  const int64_t n = type.getNumElements();
  auto flat_type = mlir::RankedTensorType::get({n}, type.getElementType());
  Value flat = reshape_to(b, l, op.getX(), flat_type);
  auto in_type = mlir::MemRefType::get({n}, type.getElementType());
  Value in = b.create<mlir::bufferization::ToMemrefOp>(l, in_type, flat, /*read_only=*/true);
  Value out = b.create<mlir::memref::AllocOp>(l, in_type);
  Value which = b.create<mlir::arith::ConstantIntOp>(l, static_cast<int64_t>(op.getOp()), 64);
  b.create<mlir::func::CallOp>(l, callee,
                               mlir::ValueRange{as_strided(b, l, in), as_strided(b, l, out), which});
  Value result = as_tensor(b, l, out);
  op.getResult().replaceAllUsesWith(reshape_to(b, l, result, type));
  op.erase();
}

struct EmberCollectivesToCalls : impl::EmberCollectivesToCallsBase<EmberCollectivesToCalls> {
  void runOnOperation() override {
    mlir::ModuleOp module = getOperation();
    llvm::SmallVector<ir::AllReduceOp> ops;
    module.walk([&](ir::AllReduceOp op) { ops.push_back(op); });
    for (ir::AllReduceOp op : ops) {
      const std::string name = kernel_name(tensor_type(op.getResult()).getElementType());
      if (name.empty()) {
        op.emitError() << "all_reduce of " << tensor_type(op.getResult()).getElementType()
                       << " has no compiled form (float32 and float64 do)";
        return signalPassFailure();
      }
      lower(op, declare_external(module, name));  // Note [External calls]
    }
  }
};

}  // namespace
}  // namespace ember::compiler
