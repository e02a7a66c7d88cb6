//===- Checks.cpp - ember.check as counts of failures the function returns -===//
//
// Compiled code cannot throw, so each ember.check becomes a 0-d i64 count of
// the elements of its condition that are false, appended to the function's
// results; the function's `ember.checks` attribute holds each message with
// the op's source line, and the runtime raises the first whose count is not
// zero (CompiledGraph::run), before it writes anything back.
//
//===----------------------------------------------------------------------===//

#include "ember/compiler/LoweringUtils.h"
#include "ember/compiler/Passes.h"
#include "ember/ir/Dialect.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace ember::compiler {

#define GEN_PASS_DEF_EMBERLOWERCHECKS
#include "ember/compiler/Passes.h.inc"

namespace {

// "file:line" of the first file location inside `loc`, or "".
std::string source_line(mlir::Location loc) {
  std::string found;
  loc->walk([&](mlir::Location l) {
    if (auto f = mlir::dyn_cast<mlir::FileLineColLoc>(l)) {
      found = f.getFilename().str() + ":" + std::to_string(f.getLine());
      return mlir::WalkResult::interrupt();
    }
    return mlir::WalkResult::advance();
  });
  return found;
}

mlir::Value count_false(mlir::OpBuilder& b, mlir::Location l, mlir::Value ok) {
  auto type = mlir::cast<mlir::RankedTensorType>(ok.getType());
  // Into tensor<1xi64>, as full reductions do (EmberToLinalg.cpp), then 0-d.
  auto one = mlir::RankedTensorType::get({1}, b.getI64Type());
  mlir::Value zero = b.create<mlir::arith::ConstantIntOp>(l, 0, 64);
  mlir::Value init = lowering::filled(b, l, {1}, b.getI64Type(), zero);
  llvm::SmallVector<mlir::utils::IteratorType> reduce(type.getRank(), mlir::utils::IteratorType::reduction);
  llvm::SmallVector<mlir::AffineMap> maps{
      b.getMultiDimIdentityMap(type.getRank()),
      mlir::AffineMap::get(type.getRank(), 0, b.getAffineConstantExpr(0))};
  mlir::Value count =
      b.create<mlir::linalg::GenericOp>(
           l, mlir::TypeRange{one}, mlir::ValueRange{ok}, mlir::ValueRange{init}, maps, reduce,
           [](mlir::OpBuilder& nb, mlir::Location nl, mlir::ValueRange a) {
             mlir::Value one = nb.create<mlir::arith::ConstantIntOp>(nl, 1, 64);
             mlir::Value zero = nb.create<mlir::arith::ConstantIntOp>(nl, 0, 64);
             mlir::Value bad = nb.create<mlir::arith::SelectOp>(nl, a[0], zero, one);
             nb.create<mlir::linalg::YieldOp>(nl, mlir::Value(nb.create<mlir::arith::AddIOp>(nl, a[1], bad)));
           })
          .getResult(0);
  return lowering::reshape_to(b, l, count, mlir::RankedTensorType::get({}, b.getI64Type()));
}

struct EmberLowerChecks : impl::EmberLowerChecksBase<EmberLowerChecks> {
  void runOnOperation() override {
    getOperation().walk([](mlir::func::FuncOp func) {
      llvm::SmallVector<ir::CheckOp> checks;
      func.walk([&](ir::CheckOp c) { checks.push_back(c); });
      if (checks.empty()) return;
      auto ret = mlir::cast<mlir::func::ReturnOp>(func.getBody().front().getTerminator());
      llvm::SmallVector<mlir::Value> results(ret.getOperands());
      llvm::SmallVector<mlir::Attribute> messages;
      mlir::OpBuilder b(func.getContext());
      for (ir::CheckOp c : checks) {
        b.setInsertionPoint(c);
        results.push_back(count_false(b, c.getLoc(), c.getOk()));
        const std::string where = source_line(c.getLoc());
        messages.push_back(
            b.getStringAttr(c.getMessage().str() + (where.empty() ? "" : " (at " + where + ")")));
        c.erase();
      }
      // insertResult keeps the other results' attributes in step.
      for (size_t i = ret.getNumOperands(); i < results.size(); ++i)
        (void)func.insertResult(static_cast<unsigned>(i), results[i].getType(), mlir::DictionaryAttr());
      ret->setOperands(results);
      func->setAttr("ember.checks", b.getArrayAttr(messages));
    });
  }
};

}  // namespace
}  // namespace ember::compiler
