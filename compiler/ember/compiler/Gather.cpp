//===- Gather.cpp - index reductions and embeddings to linalg --------------===//
//
// max_dim/min_dim/argmax/argmin: one generic with two accumulators (value,
// index) and the eager kernel's rules: the first NaN wins, else the first
// strict maximum (minimum). embedding: a generic over the result that reads
// weight[index, d] with tensor.extract, after an ember.check that every
// index is in range (compiled code must not read outside the table).
// (embedding_backward is a scatter-add loop: ScatterLoops.cpp.)
//
//===----------------------------------------------------------------------===//

#include <limits>

#include "ember/compiler/LoweringUtils.h"
#include "ember/ir/Dialect.h"

namespace ember::compiler::lowering {
namespace {

using mlir::OpBuilder;
using mlir::Value;

template <typename Op, bool kMax>
struct IndexReduceLowering : mlir::OpRewritePattern<Op> {
  using mlir::OpRewritePattern<Op>::OpRewritePattern;
  mlir::LogicalResult matchAndRewrite(Op op, mlir::PatternRewriter& r) const override {
    const auto type = tensor_type(op.getX());
    const mlir::Type element = type.getElementType();
    if (element.isInteger(1) || type.getRank() == 0) return mlir::failure();
    const mlir::Location l = op.getLoc();
    const int64_t rank = type.getRank();
    const int64_t dim = static_cast<int64_t>(op.getDim()) < 0 ? static_cast<int64_t>(op.getDim()) + rank
                                                              : static_cast<int64_t>(op.getDim());
    llvm::SmallVector<int64_t> kept;
    llvm::SmallVector<Value> kept_sizes;  // of kept `?` dims (Note [Dynamic dims in lowerings])
    llvm::SmallVector<mlir::AffineExpr> out_exprs;
    llvm::SmallVector<mlir::utils::IteratorType> iterators;
    for (int64_t d = 0; d < rank; ++d) {
      iterators.push_back(d == dim ? mlir::utils::IteratorType::reduction
                                   : mlir::utils::IteratorType::parallel);
      if (d == dim) continue;
      kept.push_back(type.getDimSize(d));
      if (type.isDynamicDim(d)) kept_sizes.push_back(r.create<mlir::tensor::DimOp>(l, op.getX(), d));
      out_exprs.push_back(r.getAffineDimExpr(d));
    }
    // The start: the worst value (so the first element wins at index 0).
    Value worst;
    if (is_float(element)) {
      worst =
          constant(r, l, element,
                   kMax ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity());
    } else {
      const unsigned width = element.getIntOrFloatBitWidth();
      worst = r.create<mlir::arith::ConstantOp>(
          l, r.getIntegerAttr(element, kMax ? llvm::APInt::getSignedMinValue(width)
                                            : llvm::APInt::getSignedMaxValue(width)));
    }
    const auto fill = [&](mlir::Type t, Value v) {
      return r
          .create<mlir::linalg::FillOp>(l, v,
                                        r.create<mlir::tensor::EmptyOp>(l, kept, t, kept_sizes).getResult())
          .getResult(0);
    };
    Value values = fill(element, worst);
    Value indices = fill(r.getI64Type(), r.create<mlir::arith::ConstantIntOp>(l, 0, 64));
    auto out_map = mlir::AffineMap::get(rank, 0, out_exprs, r.getContext());
    llvm::SmallVector<mlir::AffineMap> maps{r.getMultiDimIdentityMap(rank), out_map, out_map};
    auto generic = r.create<mlir::linalg::GenericOp>(
        l, mlir::TypeRange{values.getType(), indices.getType()}, mlir::ValueRange{op.getX()},
        mlir::ValueRange{values, indices}, maps, iterators,
        [&](OpBuilder& b, mlir::Location nl, mlir::ValueRange a) {
          const Value x = a[0], best = a[1], best_index = a[2];
          Value i = b.create<mlir::arith::IndexCastOp>(nl, b.getI64Type(),
                                                       b.create<mlir::linalg::IndexOp>(nl, dim));
          Value take;
          if (is_float(element)) {
            const auto pred = kMax ? mlir::arith::CmpFPredicate::OGT : mlir::arith::CmpFPredicate::OLT;
            Value better = b.create<mlir::arith::CmpFOp>(nl, pred, x, best);
            Value x_nan = b.create<mlir::arith::CmpFOp>(nl, mlir::arith::CmpFPredicate::UNO, x, x);
            Value best_nan = b.create<mlir::arith::CmpFOp>(nl, mlir::arith::CmpFPredicate::UNO, best, best);
            Value candidate = b.create<mlir::arith::OrIOp>(nl, better, x_nan);
            Value keep_nan =
                b.create<mlir::arith::XOrIOp>(nl, best_nan, b.create<mlir::arith::ConstantIntOp>(nl, 1, 1));
            take = b.create<mlir::arith::AndIOp>(nl, candidate, keep_nan);  // a NaN already found stays
          } else {
            take = b.create<mlir::arith::CmpIOp>(
                nl, kMax ? mlir::arith::CmpIPredicate::sgt : mlir::arith::CmpIPredicate::slt, x, best);
          }
          b.create<mlir::linalg::YieldOp>(
              nl, mlir::ValueRange{b.create<mlir::arith::SelectOp>(nl, take, x, best),
                                   b.create<mlir::arith::SelectOp>(nl, take, i, best_index)});
        });
    llvm::SmallVector<Value> results;
    const auto op_results = op->getResults();
    if (op_results.size() == 2)
      results.push_back(reshape_to(r, l, generic.getResult(0), tensor_type(op_results[0])));
    results.push_back(reshape_to(r, l, generic.getResult(1), tensor_type(op_results.back())));
    if (llvm::is_contained(results, Value())) return mlir::failure();  // a reshape of `?` dims it cannot make
    r.replaceOp(op, results);
    return mlir::success();
  }
};

struct EmbeddingLowering : mlir::OpRewritePattern<ir::EmbeddingOp> {
  using OpRewritePattern::OpRewritePattern;
  mlir::LogicalResult matchAndRewrite(ir::EmbeddingOp op, mlir::PatternRewriter& r) const override {
    const mlir::Location l = op.getLoc();
    const Value weight = op.getWeight(), indices = op.getIndices();
    const auto wt = tensor_type(weight), it = tensor_type(indices), result = tensor_type(op.getResult());
    const int64_t rows = wt.getDimSize(0), rank = result.getRank();
    const mlir::Type index_type = it.getElementType();
    if (!wt.hasStaticShape())
      return mlir::failure();  // the table is a weight: static (the range check bakes its rows)
    // The indices' `?` sizes are the result's leading ones (Note [Dynamic dims in lowerings]).
    llvm::SmallVector<Value> index_sizes;
    for (int64_t d = 0; d < it.getRank(); ++d)
      if (it.isDynamicDim(d)) index_sizes.push_back(r.create<mlir::tensor::DimOp>(l, indices, d));
    // In range: 0 <= index < rows, elementwise over the indices.
    llvm::SmallVector<mlir::utils::IteratorType> par_i(it.getRank(), mlir::utils::IteratorType::parallel);
    auto ok_type = mlir::RankedTensorType::get(it.getShape(), r.getI1Type());
    Value ok_init = r.create<mlir::tensor::EmptyOp>(l, it.getShape(), r.getI1Type(), index_sizes);
    Value ok =
        r.create<mlir::linalg::GenericOp>(
             l, mlir::TypeRange{ok_type}, mlir::ValueRange{indices}, mlir::ValueRange{ok_init},
             llvm::SmallVector<mlir::AffineMap>(2, r.getMultiDimIdentityMap(it.getRank())), par_i,
             [&](OpBuilder& b, mlir::Location nl, mlir::ValueRange a) {
               Value lo = b.create<mlir::arith::CmpIOp>(nl, mlir::arith::CmpIPredicate::sge, a[0],
                                                        constant(b, nl, index_type, 0));
               Value hi = b.create<mlir::arith::CmpIOp>(nl, mlir::arith::CmpIPredicate::slt, a[0],
                                                        constant(b, nl, index_type, double(rows)));
               b.create<mlir::linalg::YieldOp>(nl, mlir::Value(b.create<mlir::arith::AndIOp>(nl, lo, hi)));
             })
            .getResult(0);
    r.create<ir::CheckOp>(
        l, ok, r.getStringAttr("embedding: an index is outside [0, " + std::to_string(rows) + ")"));
    // result[i..., d] = weight[indices[i...], d]
    llvm::SmallVector<mlir::AffineExpr> index_exprs;
    for (int64_t d = 0; d + 1 < rank; ++d) index_exprs.push_back(r.getAffineDimExpr(d));
    llvm::SmallVector<mlir::AffineMap> maps{mlir::AffineMap::get(rank, 0, index_exprs, r.getContext()),
                                            r.getMultiDimIdentityMap(rank)};
    llvm::SmallVector<mlir::utils::IteratorType> par(rank, mlir::utils::IteratorType::parallel);
    Value init = r.create<mlir::tensor::EmptyOp>(l, result.getShape(), result.getElementType(), index_sizes);
    // Clamped, so that the read stays inside the table even on the call that
    // the check then fails.
    auto generic = r.create<mlir::linalg::GenericOp>(
        l, mlir::TypeRange{result}, mlir::ValueRange{indices}, mlir::ValueRange{init}, maps, par,
        [&](OpBuilder& b, mlir::Location nl, mlir::ValueRange a) {
          Value row = b.create<mlir::arith::IndexCastOp>(nl, b.getIndexType(), a[0]);
          Value zero = b.create<mlir::arith::ConstantIndexOp>(nl, 0),
                last = b.create<mlir::arith::ConstantIndexOp>(nl, rows - 1);
          row = b.create<mlir::arith::MaxSIOp>(nl, b.create<mlir::arith::MinSIOp>(nl, row, last), zero);
          Value d = b.create<mlir::linalg::IndexOp>(nl, rank - 1);
          b.create<mlir::linalg::YieldOp>(
              nl, mlir::Value(b.create<mlir::tensor::ExtractOp>(nl, weight, mlir::ValueRange{row, d})));
        });
    r.replaceOp(op, generic.getResult(0));
    return mlir::success();
  }
};

}  // namespace

void populate_gather_lowerings(mlir::RewritePatternSet& patterns) {
  patterns.add<IndexReduceLowering<ir::MaxDimOp, true>, IndexReduceLowering<ir::MinDimOp, false>,
               IndexReduceLowering<ir::ArgmaxOp, true>, IndexReduceLowering<ir::ArgminOp, false>,
               EmbeddingLowering>(patterns.getContext());
}

}  // namespace ember::compiler::lowering
