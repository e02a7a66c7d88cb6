//===- Decompose.cpp - nn ops as reductions and elementwise ops ------------===//
//
// softmax, log_softmax and layer_norm written with the ember ops that lower
// to linalg, exactly as the eager kernels compute them (max-shifted
// exponentials; two-pass mean and variance).
//
//===----------------------------------------------------------------------===//

#include "ember/compiler/Passes.h"
#include "ember/ir/Dialect.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace ember::compiler {

#define GEN_PASS_DEF_EMBERDECOMPOSE
#include "ember/compiler/Passes.h.inc"

namespace {

using mlir::Value;

mlir::DenseI64ArrayAttr dims_attr(mlir::PatternRewriter& r, llvm::ArrayRef<int64_t> dims) {
  return r.getDenseI64ArrayAttr(dims);
}

// x's element type as a 0-d constant `v`.
Value scalar(mlir::PatternRewriter& r, mlir::Location loc, Value like, double v) {
  auto type = mlir::RankedTensorType::get({}, mlir::cast<mlir::RankedTensorType>(like.getType()).getElementType());
  return r.create<ir::ConstantOp>(loc, mlir::DenseElementsAttr::get(type, r.getFloatAttr(type.getElementType(), v)));
}

int64_t wrap(int64_t dim, Value x) {
  const int64_t rank = mlir::cast<mlir::RankedTensorType>(x.getType()).getRank();
  return dim < 0 ? dim + rank : dim;
}

template <typename Op> struct SoftmaxDecomposition : mlir::OpRewritePattern<Op> {
  using mlir::OpRewritePattern<Op>::OpRewritePattern;
  mlir::LogicalResult matchAndRewrite(Op op, mlir::PatternRewriter& r) const override {
    constexpr bool kLog = std::is_same_v<Op, ir::LogSoftmaxOp>;
    const mlir::Location loc = op.getLoc();
    const Value x = op.getX();
    const auto dims = dims_attr(r, {wrap(static_cast<int64_t>(op.getDim()), x)});
    const Value m = r.create<ir::AmaxOp>(loc, x, dims, r.getBoolAttr(true));
    const Value z = r.create<ir::SubOp>(loc, x, m);
    const Value e = r.create<ir::ExpOp>(loc, z);
    const Value s = r.create<ir::SumOp>(loc, e, dims, r.getBoolAttr(true));
    if constexpr (kLog) r.replaceOpWithNewOp<ir::SubOp>(op, z, r.create<ir::LogOp>(loc, s));
    else r.replaceOpWithNewOp<ir::DivOp>(op, e, s);
    return mlir::success();
  }
};

struct LayerNormDecomposition : mlir::OpRewritePattern<ir::LayerNormOp> {
  using OpRewritePattern::OpRewritePattern;
  mlir::LogicalResult matchAndRewrite(ir::LayerNormOp op, mlir::PatternRewriter& r) const override {
    const mlir::Location loc = op.getLoc();
    const auto inputs = op.getInputs();
    const Value x = inputs[0];
    const int64_t rank = mlir::cast<mlir::RankedTensorType>(x.getType()).getRank();
    llvm::SmallVector<int64_t> norm;
    for (int64_t d = rank - static_cast<int64_t>(op.getNormalizedDims()); d < rank; ++d) norm.push_back(d);
    const auto dims = dims_attr(r, norm);
    const Value mean = r.create<ir::MeanOp>(loc, x, dims, r.getBoolAttr(true));
    const Value centered = r.create<ir::SubOp>(loc, x, mean);
    const Value var = r.create<ir::MeanOp>(loc, r.create<ir::MulOp>(loc, centered, centered), dims, r.getBoolAttr(true));
    const Value rstd =
        r.create<ir::RsqrtOp>(loc, r.create<ir::AddOp>(loc, var, scalar(r, loc, x, op.getEps().convertToDouble())));
    Value y = r.create<ir::MulOp>(loc, centered, rstd);
    if (inputs.size() > 1) y = r.create<ir::MulOp>(loc, y, inputs[1]);
    if (inputs.size() > 2) y = r.create<ir::AddOp>(loc, y, inputs[2]);
    r.replaceOp(op, y);
    return mlir::success();
  }
};

struct EmberDecompose : impl::EmberDecomposeBase<EmberDecompose> {
  void runOnOperation() override {
    mlir::RewritePatternSet patterns(&getContext());
    patterns.add<SoftmaxDecomposition<ir::SoftmaxOp>, SoftmaxDecomposition<ir::LogSoftmaxOp>, LayerNormDecomposition>(
        &getContext());
    if (mlir::failed(mlir::applyPatternsAndFoldGreedily(getOperation(), std::move(patterns)))) signalPassFailure();
  }
};

}  // namespace
}  // namespace ember::compiler
