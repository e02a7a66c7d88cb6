//===- EmberToLinalg.cpp - ember elementwise ops to linalg.generic ---------===//
//
// One pattern for the whole elementwise family: the op selects a scalar body
// from a table (generated from the `body` of its schema row), and the pattern
// builds the linalg.generic around it: broadcasting as indexing maps (a
// broadcast dimension reads index 0), type promotion as arith casts of the
// body's arguments to the type the eager kernel computes in.
//
//===----------------------------------------------------------------------===//

#include <cmath>
#include <functional>
#include <limits>
#include <unordered_map>

#include "ember/compiler/LoweringUtils.h"
#include "ember/compiler/Passes.h"
#include "ember/ir/Dialect.h"
#include "mlir/Dialect/MemRef/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace ember::compiler {

#define GEN_PASS_DEF_CONVERTEMBERTOLINALG
#include "ember/compiler/Passes.h.inc"

namespace {

using mlir::OpBuilder;
using mlir::Type;
using mlir::Value;
using namespace lowering;

// The scalar computation of one op: `args` already cast to the compute type
// (except where's condition), `op` for its attributes.
using Body = std::function<Value(OpBuilder&, mlir::Location, llvm::ArrayRef<Value>, mlir::Operation*)>;

enum class Compute { Result, Promoted };  // the type the body computes in

struct Row {
  Compute compute;
  Body body;
};

template <typename FloatOp, typename IntOp, typename BoolOp = IntOp>
Body arith_op() {
  return [](OpBuilder& b, mlir::Location l, llvm::ArrayRef<Value> a, mlir::Operation*) -> Value {
    const Type t = a[0].getType();
    if (is_float(t)) return b.create<FloatOp>(l, a[0], a[1]);
    if (t.isInteger(1)) return b.create<BoolOp>(l, a[0], a[1]);
    return b.create<IntOp>(l, a[0], a[1]);
  };
}

template <typename MathOp>
Body math_op() {
  return [](OpBuilder& b, mlir::Location l, llvm::ArrayRef<Value> a, mlir::Operation*) -> Value {
    return b.create<MathOp>(l, a[0]);
  };
}

Body compare(mlir::arith::CmpFPredicate f, mlir::arith::CmpIPredicate i, mlir::arith::CmpIPredicate u) {
  return [=](OpBuilder& b, mlir::Location l, llvm::ArrayRef<Value> a, mlir::Operation*) -> Value {
    const Type t = a[0].getType();
    if (is_float(t)) return b.create<mlir::arith::CmpFOp>(l, f, a[0], a[1]);
    return b.create<mlir::arith::CmpIOp>(l, t.isInteger(1) ? u : i, a[0], a[1]);
  };
}

Value sigmoid(OpBuilder& b, mlir::Location l, Value x) {
  const Type t = x.getType();
  Value e = b.create<mlir::math::ExpOp>(l, b.create<mlir::arith::NegFOp>(l, x));
  return b.create<mlir::arith::DivFOp>(l, constant(b, l, t, 1.0),
                                       b.create<mlir::arith::AddFOp>(l, constant(b, l, t, 1.0), e));
}

Value less_than(OpBuilder& b, mlir::Location l, Value x, Value y) {
  if (is_float(x.getType())) return b.create<mlir::arith::CmpFOp>(l, mlir::arith::CmpFPredicate::OLT, x, y);
  return b.create<mlir::arith::CmpIOp>(l, mlir::arith::CmpIPredicate::slt, x, y);
}

// The bodies the schema rows name (ops.yaml `body: {fn: ...}`): one scalar
// computation each, in the type the row computes in.
using mlir::ArrayRef;
using mlir::Location;
using mlir::Operation;

Value neg_body(OpBuilder& b, Location l, ArrayRef<Value> a, Operation*) {
  if (is_float(a[0].getType())) return b.create<mlir::arith::NegFOp>(l, a[0]);
  return b.create<mlir::arith::SubIOp>(l, constant(b, l, a[0].getType(), 0), a[0]);
}

Value abs_body(OpBuilder& b, Location l, ArrayRef<Value> a, Operation*) {
  if (is_float(a[0].getType())) return b.create<mlir::math::AbsFOp>(l, a[0]);
  return b.create<mlir::math::AbsIOp>(l, a[0]);
}

Value sign_body(OpBuilder& b, Location l, ArrayRef<Value> a, Operation*) {
  const Type t = a[0].getType();
  const Value zero = constant(b, l, t, 0);
  Value pos = cast_to(b, l, less_than(b, l, zero, a[0]), t),
        neg = cast_to(b, l, less_than(b, l, a[0], zero), t);
  return is_float(t) ? Value(b.create<mlir::arith::SubFOp>(l, pos, neg))
                     : Value(b.create<mlir::arith::SubIOp>(l, pos, neg));
}

Value sigmoid_body(OpBuilder& b, Location l, ArrayRef<Value> a, Operation*) { return sigmoid(b, l, a[0]); }

Value silu_body(OpBuilder& b, Location l, ArrayRef<Value> a, Operation*) {
  return b.create<mlir::arith::MulFOp>(l, a[0], sigmoid(b, l, a[0]));
}

Value relu_body(OpBuilder& b, Location l, ArrayRef<Value> a, Operation*) {
  const Value zero = constant(b, l, a[0].getType(), 0);
  return b.create<mlir::arith::SelectOp>(l, less_than(b, l, a[0], zero), zero, a[0]);  // NaN stays NaN
}

Value gelu_body(OpBuilder& b, Location l, ArrayRef<Value> a, Operation*) {
  const Type t = a[0].getType();
  Value cdf =
      b.create<mlir::math::ErfOp>(l, b.create<mlir::arith::MulFOp>(l, a[0], constant(b, l, t, M_SQRT1_2)));
  cdf = b.create<mlir::arith::MulFOp>(l, b.create<mlir::arith::AddFOp>(l, cdf, constant(b, l, t, 1.0)),
                                      constant(b, l, t, 0.5));
  return b.create<mlir::arith::MulFOp>(l, a[0], cdf);
}

// max(x, 0) + log(1 + exp(-|x|)), as the eager kernel computes it.
Value softplus_body(OpBuilder& b, Location l, ArrayRef<Value> a, Operation*) {
  const Type t = a[0].getType();
  const Value zero = constant(b, l, t, 0);
  Value positive = b.create<mlir::arith::MaximumFOp>(l, a[0], zero);
  Value minus_abs = b.create<mlir::arith::NegFOp>(l, b.create<mlir::math::AbsFOp>(l, a[0]));
  return b.create<mlir::arith::AddFOp>(
      l, positive, b.create<mlir::math::Log1pOp>(l, b.create<mlir::math::ExpOp>(l, minus_abs)));
}

Value clamp_body(OpBuilder& b, Location l, ArrayRef<Value> a, Operation* op) {
  Value x = a[0];
  const Type t = x.getType();
  if (auto lo = op->getAttrOfType<mlir::FloatAttr>("min")) {
    const Value v = constant(b, l, t, lo.getValueAsDouble());
    x = b.create<mlir::arith::SelectOp>(l, less_than(b, l, x, v), v, x);
  }
  if (auto hi = op->getAttrOfType<mlir::FloatAttr>("max")) {
    const Value v = constant(b, l, t, hi.getValueAsDouble());
    x = b.create<mlir::arith::SelectOp>(l, less_than(b, l, v, x), v, x);
  }
  return x;
}

// copy and expand: the operand as it is (its indexing map broadcasts it;
// the cast to the result type converts it).
Value copy_body(OpBuilder&, Location, ArrayRef<Value> a, Operation*) { return a[0]; }

Value full_like_body(OpBuilder& b, Location l, ArrayRef<Value> a, Operation* op) {
  return constant(b, l, a[0].getType(), op->getAttrOfType<mlir::FloatAttr>("value").getValueAsDouble());
}

Value select_body(OpBuilder& b, Location l, ArrayRef<Value> a, Operation*) {
  return b.create<mlir::arith::SelectOp>(l, a[0], a[1], a[2]);
}

// The elementwise ops of the schema with the body each names.
const std::unordered_map<OpId, Row>& rows() {
  static const std::unordered_map<OpId, Row> table = {
#include "ember/elementwise_bodies.inc"
  };
  return table;
}

struct ElementwiseToGeneric : mlir::RewritePattern {
  explicit ElementwiseToGeneric(mlir::MLIRContext* ctx) : RewritePattern(MatchAnyOpTypeTag(), 1, ctx) {}

  mlir::LogicalResult matchAndRewrite(mlir::Operation* op, mlir::PatternRewriter& rewriter) const override {
    const std::optional<OpId> id = ir::op_id_of(op);
    auto it = id ? rows().find(*id) : rows().end();
    if (it == rows().end()) return mlir::failure();
    const Row& row = it->second;
    auto result = mlir::cast<mlir::RankedTensorType>(op->getResult(0).getType());
    const mlir::Location loc = op->getLoc();

    // The type the eager kernel computes in.
    Type compute = result.getElementType();
    if (row.compute == Compute::Promoted) {
      auto l = mlir::cast<mlir::RankedTensorType>(op->getOperand(0).getType());
      auto r = mlir::cast<mlir::RankedTensorType>(op->getOperand(1).getType());
      compute = ir::promote(l.getElementType(), l.getRank(), r.getElementType(), r.getRank());
    }
    const bool is_where = *id == OpId::where;
    // An expand to a `?` dim its operand lacks has no size to read (graph_to_mlir
    // widens it from Graph::dim_sources where it can: Note [Sizes in a generalized graph]).
    if (!has_dynamic_sources(result.getShape(), op->getOperands()))
      return rewriter.notifyMatchFailure(op, "a `?` dim no operand has");

    llvm::SmallVector<mlir::AffineMap> maps;
    llvm::SmallVector<Value> operands;
    for (Value v : op->getOperands()) {
      auto [operand, map] = broadcast_operand(rewriter, loc, v, result);
      operands.push_back(operand);
      maps.push_back(map);
    }
    const auto loops = without_unit_dims(result);
    maps.push_back(rewriter.getMultiDimIdentityMap(loops.getRank()));
    llvm::SmallVector<mlir::utils::IteratorType> iterators(loops.getRank(),
                                                           mlir::utils::IteratorType::parallel);
    // The loops drop size-1 dims only, so the result's `?` sizes are the loops' in order.
    Value init = rewriter.create<mlir::tensor::EmptyOp>(
        loc, loops.getShape(), result.getElementType(),
        dynamic_sizes(rewriter, loc, result.getShape(), op->getOperands()));
    auto generic = rewriter.create<mlir::linalg::GenericOp>(
        loc, mlir::TypeRange{loops}, operands, mlir::ValueRange{init}, maps, iterators,
        [&](OpBuilder& b, mlir::Location l, mlir::ValueRange args) {
          llvm::SmallVector<Value> scalars;
          for (size_t i = 0; i + 1 < args.size(); ++i)
            scalars.push_back(is_where && i == 0 ? args[i] : cast_to(b, l, args[i], compute));
          Value r = row.body(b, l, scalars, op);
          b.create<mlir::linalg::YieldOp>(l, cast_to(b, l, r, result.getElementType()));
        });
    rewriter.replaceOp(op, reshape_to(rewriter, loc, generic.getResult(0), result));
    return mlir::success();
  }
};

// Reductions (sum, mean, amax, amin): one linalg.generic with reduction
// iterators over the reduced dims into a filled accumulator of the
// non-keepdim shape, then (mean) a division by the count and (keepdim) a
// tensor.expand_shape back to size-1 dims.
struct ReductionToGeneric : mlir::RewritePattern {
  explicit ReductionToGeneric(mlir::MLIRContext* ctx) : RewritePattern(MatchAnyOpTypeTag(), 1, ctx) {}

  mlir::LogicalResult matchAndRewrite(mlir::Operation* op, mlir::PatternRewriter& rewriter) const override {
    const llvm::StringRef name = op->getName().getStringRef();
    const bool is_sum = name == "ember.sum", is_mean = name == "ember.mean";
    const bool is_max = name == "ember.amax", is_min = name == "ember.amin";
    if (!is_sum && !is_mean && !is_max && !is_min) return mlir::failure();
    auto input = mlir::cast<mlir::RankedTensorType>(op->getOperand(0).getType());
    auto result = mlir::cast<mlir::RankedTensorType>(op->getResult(0).getType());
    const Type acc_type = result.getElementType();
    const int64_t rank = input.getRank();
    auto dims = op->getAttrOfType<mlir::DenseI64ArrayAttr>("dims").asArrayRef();
    llvm::SmallVector<bool> reduced(rank, dims.empty());
    for (int64_t d : dims) reduced[d < 0 ? d + rank : d] = true;
    if (rank == 0) {  // a reduction of one element is that element, in the result's type
      rewriter.replaceOpWithNewOp<ir::CopyOp>(op, result, op->getOperand(0), mlir::TypeAttr::get(acc_type));
      return mlir::success();
    }
    mlir::MLIRContext* ctx = op->getContext();
    const mlir::Location loc = op->getLoc();

    llvm::SmallVector<int64_t> kept_shape;
    llvm::SmallVector<mlir::AffineExpr> out_exprs;
    llvm::SmallVector<mlir::utils::IteratorType> iterators;
    llvm::SmallVector<int64_t> reduced_dims;
    llvm::SmallVector<Value> kept_sizes;  // of kept `?` dims
    for (int64_t d = 0; d < rank; ++d) {
      if (reduced[d]) {
        iterators.push_back(mlir::utils::IteratorType::reduction);
        reduced_dims.push_back(d);
      } else {
        if (input.isDynamicDim(d))
          kept_sizes.push_back(rewriter.create<mlir::tensor::DimOp>(loc, op->getOperand(0), d));
        iterators.push_back(mlir::utils::IteratorType::parallel);
        kept_shape.push_back(input.getDimSize(d));
        out_exprs.push_back(mlir::getAffineDimExpr(d, ctx));
      }
    }
    // A full reduction accumulates into a 1-element 1-D tensor, not a 0-d one:
    // MLIR's affine vectorizer makes an invalid broadcasting transfer_write
    // for a store into a 0-d memref.
    if (kept_shape.empty()) {
      kept_shape.push_back(1);
      out_exprs.push_back(mlir::getAffineConstantExpr(0, ctx));
    }
    auto kept_type = mlir::RankedTensorType::get(kept_shape, acc_type);
    // The accumulator starts at the reduction's identity.
    double identity = 0;
    if (is_max) identity = -std::numeric_limits<double>::infinity();
    if (is_min) identity = std::numeric_limits<double>::infinity();
    Value init_value;
    if (is_float(acc_type)) {
      init_value = constant(rewriter, loc, acc_type, identity);
    } else {
      const unsigned width = acc_type.getIntOrFloatBitWidth();
      const llvm::APInt v = is_max   ? llvm::APInt::getSignedMinValue(width)
                            : is_min ? llvm::APInt::getSignedMaxValue(width)
                                     : llvm::APInt(width, 0);
      init_value = rewriter.create<mlir::arith::ConstantOp>(loc, rewriter.getIntegerAttr(acc_type, v));
    }
    Value accumulator = rewriter.create<mlir::tensor::EmptyOp>(loc, kept_shape, acc_type, kept_sizes);
    Value init = rewriter.create<mlir::linalg::FillOp>(loc, init_value, accumulator).getResult(0);
    llvm::SmallVector<mlir::AffineMap> maps{rewriter.getMultiDimIdentityMap(rank),
                                            mlir::AffineMap::get(rank, 0, out_exprs, ctx)};
    auto generic = rewriter.create<mlir::linalg::GenericOp>(
        loc, mlir::TypeRange{kept_type}, mlir::ValueRange{op->getOperand(0)}, mlir::ValueRange{init}, maps,
        iterators, [&](OpBuilder& b, mlir::Location l, mlir::ValueRange args) {
          const Value x = cast_to(b, l, args[0], acc_type), acc = args[1];
          Value r;
          if (is_float(acc_type)) {
            if (is_max)
              r = b.create<mlir::arith::MaximumFOp>(l, acc, x);
            else if (is_min)
              r = b.create<mlir::arith::MinimumFOp>(l, acc, x);
            else
              r = b.create<mlir::arith::AddFOp>(l, acc, x);
          } else {
            if (is_max)
              r = b.create<mlir::arith::MaxSIOp>(l, acc, x);
            else if (is_min)
              r = b.create<mlir::arith::MinSIOp>(l, acc, x);
            else
              r = b.create<mlir::arith::AddIOp>(l, acc, x);
          }
          b.create<mlir::linalg::YieldOp>(l, r);
        });
    Value value = generic.getResult(0);
    if (is_mean) {
      const int64_t kept_rank = static_cast<int64_t>(kept_shape.size());
      Value out = rewriter.create<mlir::tensor::EmptyOp>(loc, kept_shape, acc_type, kept_sizes);
      // The count: a constant, or (a `?` dim reduced) the product of sizes read at run time.
      Value count = count_of(rewriter, loc, op->getOperand(0), reduced_dims);
      Value count_float = rewriter.create<mlir::arith::UIToFPOp>(
          loc, acc_type, rewriter.create<mlir::arith::IndexCastUIOp>(loc, rewriter.getI64Type(), count));
      llvm::SmallVector<mlir::AffineMap> id(2, rewriter.getMultiDimIdentityMap(kept_rank));
      llvm::SmallVector<mlir::utils::IteratorType> par(kept_rank, mlir::utils::IteratorType::parallel);
      value =
          rewriter
              .create<mlir::linalg::GenericOp>(
                  loc, mlir::TypeRange{kept_type}, mlir::ValueRange{value}, mlir::ValueRange{out}, id, par,
                  [&](OpBuilder& b, mlir::Location l, mlir::ValueRange args) {
                    b.create<mlir::linalg::YieldOp>(
                        l, Value(b.create<mlir::arith::DivFOp>(l, args[0], count_float)));
                  })
              .getResult(0);
    }
    // keepdim's size-1 dims, or the 0-d result of a full reduction.
    value = reshape_to(rewriter, loc, value, result);
    rewriter.replaceOp(op, value);
    return mlir::success();
  }
};

// permute: linalg.transpose into a new tensor (value semantics).
struct PermuteToTranspose : mlir::OpRewritePattern<ir::PermuteOp> {
  using OpRewritePattern::OpRewritePattern;
  mlir::LogicalResult matchAndRewrite(ir::PermuteOp op, mlir::PatternRewriter& rewriter) const override {
    auto result = mlir::cast<mlir::RankedTensorType>(op.getType());
    const int64_t rank = result.getRank();
    llvm::SmallVector<int64_t> perm;
    for (int64_t d : op.getDims()) perm.push_back(d < 0 ? d + rank : d);
    llvm::SmallVector<Value> sizes;
    for (int64_t d = 0; d < rank; ++d)
      if (result.isDynamicDim(d))
        sizes.push_back(rewriter.create<mlir::tensor::DimOp>(op.getLoc(), op.getX(), perm[d]));
    Value init = rewriter.create<mlir::tensor::EmptyOp>(op.getLoc(), result.getShape(),
                                                        result.getElementType(), sizes);
    rewriter.replaceOpWithNewOp<mlir::linalg::TransposeOp>(op, op.getX(), init, perm);
    return mlir::success();
  }
};

struct ConstantToArith : mlir::OpRewritePattern<ir::ConstantOp> {
  using OpRewritePattern::OpRewritePattern;
  mlir::LogicalResult matchAndRewrite(ir::ConstantOp op, mlir::PatternRewriter& rewriter) const override {
    rewriter.replaceOpWithNewOp<mlir::arith::ConstantOp>(op, mlir::cast<mlir::TypedAttr>(op.getValue()));
    return mlir::success();
  }
};

struct ConvertEmberToLinalg : impl::ConvertEmberToLinalgBase<ConvertEmberToLinalg> {
  void runOnOperation() override {
    declare_random_draw(getOperation());
    mlir::RewritePatternSet patterns(&getContext());
    patterns.add<ElementwiseToGeneric, ReductionToGeneric, PermuteToTranspose, ConstantToArith>(
        &getContext());
    populate_matmul_lowerings(patterns);
    populate_shape_lowerings(patterns);
    populate_conv_pool_lowerings(patterns);
    populate_gather_lowerings(patterns);
    if (mlir::failed(mlir::applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
    resolve_dynamic_sizes();
  }

  // Note [Dynamic dims in lowerings]: a `?` size read from an op's result
  // (tensor.dim of a generic) becomes the size that result was made with, so
  // that the read is not a second use that stops fusion. Graphs without `?`
  // dims have no tensor.dim and are left as they are.
  void resolve_dynamic_sizes() {
    bool any = false;
    getOperation().walk([&](mlir::tensor::DimOp) { any = true; });
    if (!any) return;
    mlir::RewritePatternSet patterns(&getContext());
    mlir::memref::populateResolveRankedShapedTypeResultDimsPatterns(patterns);
    mlir::tensor::DimOp::getCanonicalizationPatterns(patterns, &getContext());
    mlir::tensor::EmptyOp::getCanonicalizationPatterns(patterns, &getContext());
    if (mlir::failed(mlir::applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

}  // namespace
}  // namespace ember::compiler
