//===- ResultSizes.cpp - the argument dims of a function's `?` results -----===//
//
// See Note [Sizes of a loaded export's results] in ResultSizes.h.
//
//===----------------------------------------------------------------------===//

#include "ember/compiler/ResultSizes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"

namespace ember::compiler {

std::vector<ResultDim> dynamic_result_dims(mlir::ModuleOp module, const std::string& function) {
  mlir::OwningOpRef<mlir::ModuleOp> copy(module.clone());
  auto f = copy->lookupSymbol<mlir::func::FuncOp>(function);
  std::vector<ResultDim> dims;
  if (!f) return dims;
  auto ret = mlir::cast<mlir::func::ReturnOp>(f.getBody().front().getTerminator());
  const unsigned results = ret.getNumOperands();
  // The dims become extra results, so that folding keeps them.
  mlir::OpBuilder b(ret);
  llvm::SmallVector<mlir::Value> operands(ret.getOperands());
  for (unsigned k = 0; k < results; ++k) {
    auto type = mlir::dyn_cast<mlir::RankedTensorType>(operands[k].getType());
    if (!type) continue;
    for (int64_t d = 0; d < type.getRank(); ++d)
      if (type.isDynamicDim(d)) {
        dims.push_back({k, d});
        operands.push_back(b.create<mlir::tensor::DimOp>(ret.getLoc(), operands[k], d));
      }
  }
  if (dims.empty()) return dims;
  ret->setOperands(operands);
  f.setType(b.getFunctionType(f.getArgumentTypes(), mlir::ValueRange(operands).getTypes()));
  mlir::PassManager pm(copy->getContext());
  for (int round = 0; round < 2; ++round) {  // reification exposes ops that fold, and back
    pm.addPass(mlir::memref::createResolveRankedShapeTypeResultDimsPass());
    pm.addPass(mlir::createCanonicalizerPass());
  }
  if (mlir::failed(pm.run(*copy))) return dims;  // nothing proven
  ret = mlir::cast<mlir::func::ReturnOp>(f.getBody().front().getTerminator());
  for (size_t j = 0; j < dims.size(); ++j) {
    auto dim = ret.getOperand(results + static_cast<unsigned>(j)).getDefiningOp<mlir::tensor::DimOp>();
    if (!dim) continue;
    auto arg = mlir::dyn_cast<mlir::BlockArgument>(dim.getSource());
    const std::optional<int64_t> index = dim.getConstantIndex();
    if (!arg || arg.getOwner() != &f.getBody().front() || !index) continue;
    dims[j].argument = static_cast<int>(arg.getArgNumber());
    dims[j].argument_dim = *index;
  }
  return dims;
}

}  // namespace ember::compiler
