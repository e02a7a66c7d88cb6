//===- Decompose.cpp - nn ops as reductions and elementwise ops ------------===//
//
// softmax, log_softmax and layer_norm written with the ember ops that lower
// to linalg, exactly as the eager kernels compute them (max-shifted
// exponentials; two-pass mean and variance).
//
//===----------------------------------------------------------------------===//

#include <cmath>

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
  auto type =
      mlir::RankedTensorType::get({}, mlir::cast<mlir::RankedTensorType>(like.getType()).getElementType());
  return r.create<ir::ConstantOp>(
      loc, mlir::DenseElementsAttr::get(type, r.getFloatAttr(type.getElementType(), v)));
}

int64_t wrap(int64_t dim, Value x) {
  const int64_t rank = mlir::cast<mlir::RankedTensorType>(x.getType()).getRank();
  return dim < 0 ? dim + rank : dim;
}

template <typename Op>
struct SoftmaxDecomposition : mlir::OpRewritePattern<Op> {
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
    if constexpr (kLog)
      r.replaceOpWithNewOp<ir::SubOp>(op, z, r.create<ir::LogOp>(loc, s));
    else
      r.replaceOpWithNewOp<ir::DivOp>(op, e, s);
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
    const Value var =
        r.create<ir::MeanOp>(loc, r.create<ir::MulOp>(loc, centered, centered), dims, r.getBoolAttr(true));
    const Value rstd = r.create<ir::RsqrtOp>(
        loc, r.create<ir::AddOp>(loc, var, scalar(r, loc, x, op.getEps().convertToDouble())));
    Value y = r.create<ir::MulOp>(loc, centered, rstd);
    if (inputs.size() > 1) y = r.create<ir::MulOp>(loc, y, inputs[1]);
    if (inputs.size() > 2) y = r.create<ir::AddOp>(loc, y, inputs[2]);
    r.replaceOp(op, y);
    return mlir::success();
  }
};

// var: the sum of squared deviations over count - correction. The count is
// a constant when the reduced dims are static (their product: the element
// count of a shape with a `?` dim elsewhere is not a number); with a `?` one
// among them it is counted at run time (a sum of ones over the same dims).
// A count from all of x's elements was the dynamic sweep's wrong answer.
struct VarDecomposition : mlir::OpRewritePattern<ir::VarOp> {
  using OpRewritePattern::OpRewritePattern;
  mlir::LogicalResult matchAndRewrite(ir::VarOp op, mlir::PatternRewriter& r) const override {
    const mlir::Location loc = op.getLoc();
    const Value x = op.getX();
    auto type = mlir::cast<mlir::RankedTensorType>(x.getType());
    if (!mlir::isa<mlir::FloatType>(type.getElementType()))
      return mlir::failure();  // left to the eager kernel
    const Value mean = r.create<ir::MeanOp>(loc, x, op.getDimsAttr(), r.getBoolAttr(true));
    const Value d = r.create<ir::SubOp>(loc, x, mean);
    const Value ss =
        r.create<ir::SumOp>(loc, r.create<ir::MulOp>(loc, d, d), op.getDimsAttr(), op.getKeepdimAttr());
    const double correction = double(static_cast<int64_t>(op.getCorrection()));
    // The reduced dims (none listed: every dim), and their element count.
    llvm::SmallVector<int64_t> reduced;
    for (int64_t dim : op.getDims()) reduced.push_back(wrap(dim, x));
    if (reduced.empty())
      for (int64_t d = 0; d < type.getRank(); ++d) reduced.push_back(d);
    bool dynamic_count = false;
    int64_t count = 1;
    for (int64_t d : reduced) {
      dynamic_count = dynamic_count || type.isDynamicDim(d);
      count *= type.isDynamicDim(d) ? 1 : type.getDimSize(d);
    }
    if (dynamic_count) {
      const Value ones = r.create<ir::FullLikeOp>(loc, x, r.getF64FloatAttr(1.0));
      const Value count = r.create<ir::SumOp>(loc, ones, op.getDimsAttr(), op.getKeepdimAttr());
      r.replaceOpWithNewOp<ir::DivOp>(op, ss,
                                      r.create<ir::SubOp>(loc, count, scalar(r, loc, ss, correction)));
      return mlir::success();
    }
    r.replaceOpWithNewOp<ir::DivOp>(
        op, ss, scalar(r, loc, ss, double(count) - correction));  // dof <= 0: inf or NaN, as eager
    return mlir::success();
  }
};

// logsumexp: max-shifted, as the eager kernel computes it.
struct LogsumexpDecomposition : mlir::OpRewritePattern<ir::LogsumexpOp> {
  using OpRewritePattern::OpRewritePattern;
  mlir::LogicalResult matchAndRewrite(ir::LogsumexpOp op, mlir::PatternRewriter& r) const override {
    const mlir::Location loc = op.getLoc();
    const Value x = op.getX();
    if (!mlir::isa<mlir::FloatType>(mlir::cast<mlir::RankedTensorType>(x.getType()).getElementType()))
      return mlir::failure();
    const Value m = r.create<ir::AmaxOp>(loc, x, op.getDimsAttr(), r.getBoolAttr(true));
    // An all -inf slice: shift by 0, not by -inf (which would give NaN).
    const Value finite = r.create<ir::WhereOp>(
        loc, r.create<ir::EqOp>(loc, r.create<ir::AbsOp>(loc, m), scalar(r, loc, m, INFINITY)),
        scalar(r, loc, m, 0), m);
    const Value s = r.create<ir::SumOp>(loc, r.create<ir::ExpOp>(loc, r.create<ir::SubOp>(loc, x, finite)),
                                        op.getDimsAttr(), op.getKeepdimAttr());
    Value shift = finite;
    if (!op.getKeepdim())
      shift = r.create<ir::ViewOp>(
          loc, finite, r.getDenseI64ArrayAttr(mlir::cast<mlir::RankedTensorType>(s.getType()).getShape()));
    r.replaceOpWithNewOp<ir::AddOp>(op, r.create<ir::LogOp>(loc, s), shift);
    return mlir::success();
  }
};

// cross_entropy and nll_loss: the log-probability at each row's target, by
// comparing the target with arange(C) (a gather that fuses), then the
// reduction over the rows whose target is not ignore_index. A target outside
// [0, C) is an ember.check, as the eager kernel's error. cross_entropy picks
// the target's logit and subtracts the row's logsumexp, as the eager kernel
// does: picking from log_softmax instead fused the row's log into the pick,
// one log per element instead of per row (a fifth of the compiled
// char-LSTM step's code outside GEMMs, AMD EPYC Zen 5). An all -inf row
// gives NaN, as eager.
template <typename Op>
struct LossDecomposition : mlir::OpRewritePattern<Op> {
  using mlir::OpRewritePattern<Op>::OpRewritePattern;
  mlir::LogicalResult matchAndRewrite(Op op, mlir::PatternRewriter& r) const override {
    constexpr bool kLogits = std::is_same_v<Op, ir::CrossEntropyOp>;
    const mlir::Location loc = op.getLoc();
    const Value x = op.getInput(), t = op.getTargets();
    auto type = mlir::cast<mlir::RankedTensorType>(x.getType());
    auto target_type = mlir::cast<mlir::RankedTensorType>(t.getType());
    if (type.getRank() != 2 || !mlir::isa<mlir::FloatType>(type.getElementType())) return mlir::failure();
    const int64_t classes = type.getDimSize(1), ignore = static_cast<int64_t>(op.getIgnoreIndex());
    const auto target_scalar = [&](int64_t v) {
      auto t0 = mlir::RankedTensorType::get({}, target_type.getElementType());
      return r.create<ir::ConstantOp>(
          loc, mlir::DenseElementsAttr::get(t0, r.getIntegerAttr(target_type.getElementType(), v)));
    };
    const Value range = r.create<ir::ArangeOp>(loc, r.getDenseI64ArrayAttr({classes}),
                                               mlir::TypeAttr::get(target_type.getElementType()),
                                               r.getF64FloatAttr(0), r.getF64FloatAttr(1));
    const Value hot =
        r.create<ir::EqOp>(loc, r.create<ir::UnsqueezeOp>(loc, t, r.getI64IntegerAttr(1)), range);
    Value picked = r.create<ir::SumOp>(loc, r.create<ir::WhereOp>(loc, hot, x, scalar(r, loc, x, 0)),
                                       dims_attr(r, {1}), r.getBoolAttr(false));
    if (kLogits) {
      // log p = x[target] - logsumexp(x), with logsumexp's terms built as
      // softmax's decomposition builds them: CSE then computes the row's
      // exponentials once for the loss and the softmax of its gradient.
      const auto row = dims_attr(r, {1});
      const Value m = r.create<ir::AmaxOp>(loc, x, row, r.getBoolAttr(true));
      const Value s = r.create<ir::SumOp>(loc, r.create<ir::ExpOp>(loc, r.create<ir::SubOp>(loc, x, m)), row,
                                          r.getBoolAttr(true));
      const Value lse = r.create<ir::AddOp>(loc, r.create<ir::LogOp>(loc, s), m);
      picked = r.create<ir::SubOp>(loc, picked, r.create<ir::SqueezeOp>(loc, lse, row));
    }
    const Value valid = r.create<ir::NeOp>(loc, t, target_scalar(ignore));
    const Value in_range = r.create<ir::MulOp>(loc, r.create<ir::GeOp>(loc, t, target_scalar(0)),
                                               r.create<ir::LtOp>(loc, t, target_scalar(classes)));
    const Value ok =
        r.create<ir::WhereOp>(loc, valid, in_range, r.create<ir::EqOp>(loc, t, target_scalar(ignore)));
    r.create<ir::CheckOp>(
        loc, ok,
        r.getStringAttr(std::string(op->getName().stripDialect()) + ": a target is outside [0, " +
                        std::to_string(classes) + ") and is not ignore_index " + std::to_string(ignore)));
    const Value rows =
        r.create<ir::WhereOp>(loc, valid, r.create<ir::NegOp>(loc, picked), scalar(r, loc, x, 0));
    const auto reduction = static_cast<int64_t>(op.getReduction());
    if (reduction == 0) {
      r.replaceOp(op, rows);
      return mlir::success();
    }
    const Value total = r.create<ir::SumOp>(loc, rows, dims_attr(r, {}), r.getBoolAttr(false));
    if (reduction == 2) {
      r.replaceOp(op, total);
      return mlir::success();
    }
    const Value count = r.create<ir::SumOp>(
        loc, r.create<ir::WhereOp>(loc, valid, scalar(r, loc, x, 1), scalar(r, loc, x, 0)), dims_attr(r, {}),
        r.getBoolAttr(false));
    r.replaceOpWithNewOp<ir::DivOp>(op, total, count);  // no valid row: 0/0 = NaN, as eager and PyTorch
    return mlir::success();
  }
};

struct EmberDecompose : impl::EmberDecomposeBase<EmberDecompose> {
  void runOnOperation() override {
    mlir::RewritePatternSet patterns(&getContext());
    patterns.add<SoftmaxDecomposition<ir::SoftmaxOp>, SoftmaxDecomposition<ir::LogSoftmaxOp>,
                 LayerNormDecomposition, VarDecomposition, LogsumexpDecomposition,
                 LossDecomposition<ir::CrossEntropyOp>, LossDecomposition<ir::NllLossOp>>(&getContext());
    populate_slice_gradient_sum_patterns(patterns);
    if (mlir::failed(mlir::applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

}  // namespace
}  // namespace ember::compiler
