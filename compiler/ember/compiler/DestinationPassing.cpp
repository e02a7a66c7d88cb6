//===- DestinationPassing.cpp - results as caller buffers, or in place ----===//
//
// See DestinationPassing.h.
//
//===----------------------------------------------------------------------===//

#include "ember/compiler/DestinationPassing.h"

#include "ember/compiler/Passes.h"
#include "ember/ir/Dialect.h"
#include "ember/ir/GraphToMLIR.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace ember::compiler {

// Note [Destination passing]
// The function's results become memref arguments that the runtime
// allocates (from its caching allocator) and the code writes into:
// `bufferization.materialize_in_destination` plus empty-tensor elimination
// make the last loop of each result write straight into its argument, so a
// replay allocates nothing it does not return.
//
// Note [In-place write-backs]
// A result marked `ember.in_place = j` (a write-back: the new parameters and
// momentum buffers of a training step) is instead materialized in argument
// j and stays a result until one-shot bufferization has shown it equivalent
// to that argument, which drop-equivalent-buffer-results then removes. The
// analysis writes in place when nothing reads the old value afterwards and
// through a temporary otherwise; where it cannot decide (a row loop reading
// the old rows while it writes the new ones), bufferize() starts again with
// every result an out-parameter. Every other argument is marked read-only:
// the code never writes into an input. An SGD step with momentum then reads
// parameter, momentum and gradient once each and writes the first two back
// where they were, as eager's in-place ops do.
void to_destination_passing(mlir::func::FuncOp func) {
  mlir::OpBuilder b(func.getContext());
  auto ret = mlir::cast<mlir::func::ReturnOp>(func.getBody().front().getTerminator());
  llvm::SmallVector<bool> written(func.getNumArguments(), false);
  llvm::SmallVector<int64_t> in_place_results;
  llvm::SmallVector<mlir::Type> inputs(func.getArgumentTypes());
  llvm::SmallVector<mlir::Value> in_place;
  b.setInsertionPoint(ret);
  for (auto [i, v] : llvm::enumerate(ret.getOperands())) {
    if (auto arg = func.getResultAttrOfType<mlir::IntegerAttr>(static_cast<unsigned>(i), ir::kInPlaceAttr)) {
      written[arg.getInt()] = true;
      in_place_results.push_back(static_cast<int64_t>(i));
      mlir::Value dest = func.getArgument(static_cast<unsigned>(arg.getInt()));
      in_place.push_back(
          b.create<mlir::bufferization::MaterializeInDestinationOp>(ret.getLoc(), v, dest).getResult());
      continue;
    }
    auto t = mlir::cast<mlir::RankedTensorType>(v.getType());
    auto memref = mlir::MemRefType::get(t.getShape(), t.getElementType());
    mlir::Value out = func.getBody().front().addArgument(memref, func.getLoc());
    inputs.push_back(memref);
    auto m =
        b.create<mlir::bufferization::MaterializeInDestinationOp>(ret.getLoc(), mlir::TypeRange{}, v, out);
    m.setWritable(true);
    m.setRestrict(true);
  }
  ret->setOperands(in_place);
  func.setType(b.getFunctionType(inputs, mlir::ValueRange(in_place).getTypes()));
  func.removeResAttrsAttr();
  for (auto [j, w] : llvm::enumerate(written))
    func.setArgAttr(static_cast<unsigned>(j), mlir::bufferization::BufferizationDialect::kWritableAttrName,
                    b.getBoolAttr(w));
  if (!in_place_results.empty())
    func->setAttr("ember.in_place_results", b.getDenseI64ArrayAttr(in_place_results));
}

bool has_in_place_results(mlir::func::FuncOp func) {
  for (unsigned i = 0; i < func.getNumResults(); ++i)
    if (func.getResultAttr(i, ir::kInPlaceAttr)) return true;
  return false;
}

void drop_in_place_marks(mlir::func::FuncOp func) {
  for (unsigned i = 0; i < func.getNumResults(); ++i)
    func.removeResultAttr(i, mlir::StringAttr::get(func.getContext(), ir::kInPlaceAttr));
}

// Note [Checks before in-place writes]
// A failed check must leave every tensor as it was, as eager's exception
// does; but in-place write-backs happen inside the call, before the runtime
// sees the failure counts. So a function that has both gets a twin that
// computes only the counts (the checks' inputs: targets, indices; usually a
// few hundred elements), which the runtime calls first.
mlir::func::FuncOp split_checks(mlir::func::FuncOp func) {
  auto messages = func->getAttrOfType<mlir::ArrayAttr>("ember.checks");
  if (!messages || messages.empty() || !has_in_place_results(func)) return {};
  mlir::OpBuilder b(func);
  b.setInsertionPointAfter(func);
  auto checks = mlir::cast<mlir::func::FuncOp>(b.clone(*func));
  checks.setSymName(checks_function_name(func.getSymName().str()));
  // The failure counts are the last results (--ember-lower-checks).
  auto ret = mlir::cast<mlir::func::ReturnOp>(checks.getBody().front().getTerminator());
  const unsigned first = ret.getNumOperands() - static_cast<unsigned>(messages.size());
  llvm::SmallVector<mlir::Value> counts(ret.getOperands().drop_front(first));
  ret->setOperands(counts);
  checks.setType(b.getFunctionType(checks.getArgumentTypes(), mlir::ValueRange(counts).getTypes()));
  checks.removeResAttrsAttr();
  // Everything the counts do not need goes (bottom-up: users first).
  // An all_reduce is not dead code (it communicates), but the twin must not
  // communicate a second time: the counts never need it unless a check reads it.
  for (mlir::Operation& op : llvm::make_early_inc_range(llvm::reverse(checks.getBody().front())))
    if (mlir::isOpTriviallyDead(&op) || (mlir::isa<ir::AllReduceOp>(op) && op.use_empty())) op.erase();
  return checks;
}

std::string checks_function_name(const std::string& function) { return function + "_checks"; }

void erase_self_copies(mlir::func::FuncOp func) {
  func.walk([](mlir::memref::CopyOp copy) {
    if (copy.getSource() == copy.getTarget()) copy.erase();
  });
}

#define GEN_PASS_DEF_EMBERDESTINATIONPASSING
#define GEN_PASS_DEF_EMBERERASESELFCOPIES
#include "ember/compiler/Passes.h.inc"

namespace {

struct DestinationPassingPass : impl::EmberDestinationPassingBase<DestinationPassingPass> {
  using EmberDestinationPassingBase::EmberDestinationPassingBase;
  void runOnOperation() override {
    mlir::ModuleOp module = getOperation();
    auto func = module.lookupSymbol<mlir::func::FuncOp>(function);
    if (!func) {
      module.emitError() << "ember-destination-passing: no function @" << function;
      return signalPassFailure();
    }
    if (!inPlace) drop_in_place_marks(func);
    llvm::SmallVector<mlir::func::FuncOp> entries{func};
    if (auto checks = split_checks(func)) entries.push_back(checks);
    for (auto f : entries) {
      to_destination_passing(f);
      f->setAttr("llvm.emit_c_interface", mlir::UnitAttr::get(module.getContext()));
    }
  }
};

struct EraseSelfCopiesPass : impl::EmberEraseSelfCopiesBase<EraseSelfCopiesPass> {
  void runOnOperation() override {
    getOperation().walk([](mlir::func::FuncOp f) { erase_self_copies(f); });
  }
};

}  // namespace

}  // namespace ember::compiler
