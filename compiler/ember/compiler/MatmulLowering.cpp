//===- MatmulLowering.cpp - ember.matmul to linalg contractions -------------===//
//
// Every form of matmul eager supports becomes one linalg contraction into a
// zero-filled accumulator, shaped so that ember-matmul-to-blas can make it
// BLAS calls (Note [Matmuls become BLAS calls] in MatmulToBlas.cpp):
//
//   rhs a matrix or a vector     one 2-D product: the batch dims of an N-D
//                                lhs are rows (a 3-D `linear` is one GEMM
//                                over B*T rows); linalg.matmul, or its
//                                transpose_a/b form when a 2-D transpose
//                                feeds it (Linear's `x @ W.t()`)
//   rhs with batch dims          a linalg.generic contraction over
//                                (batch..., m, n, k): batch dims broadcast
//                                as indexing maps (a broadcast operand just
//                                lacks the dim), a transpose of the last two
//                                dims read through the map (attention's
//                                `q @ k.transpose(-2, -1)`), never a copy
//
// A 1-D operand is a matrix of one row (lhs) or one column (rhs); the result
// is reshaped back to what eager returns.
//
//===----------------------------------------------------------------------===//

#include "ember/compiler/LoweringUtils.h"
#include "ember/ir/Dialect.h"

namespace ember::compiler::lowering {
namespace {

using mlir::OpBuilder;
using mlir::Type;
using mlir::Value;

// Whether `perm` swaps the last two dims and keeps the others in place.
bool swaps_last_two(llvm::ArrayRef<int64_t> perm) {
  const int64_t r = static_cast<int64_t>(perm.size());
  if (r < 2) return false;
  for (int64_t i = 0; i < r - 2; ++i)
    if (perm[i] != i && perm[i] != i - r) return false;
  return (perm[r - 2] == r - 1 || perm[r - 2] == -1) && (perm[r - 1] == r - 2 || perm[r - 1] == -2);
}

// The operand a transpose of the last two dims read, or null; a permute
// still in the ember dialect or one already lowered to linalg.transpose.
Value transposed_source(Value v) {
  if (auto p = v.getDefiningOp<ir::PermuteOp>(); p && swaps_last_two(p.getDims())) return p.getX();
  if (auto t = v.getDefiningOp<mlir::linalg::TransposeOp>(); t && swaps_last_two(t.getPermutation()))
    return t.getInput();
  return {};
}

mlir::RankedTensorType tensor_of(llvm::ArrayRef<int64_t> shape, Type element) {
  return mlir::RankedTensorType::get(shape, element);
}

// rows [m, k] @ cols [k, n] accumulated into `zeros`: a 2-D transpose
// feeding an operand is read through matmul_transpose_a/b (Linear's
// `x @ W.t()`), never made (the lhs's only when `lhs_may_transpose`).
Value contraction(OpBuilder& b, mlir::Location loc, Value rows, Value cols, Value zeros,
                  bool lhs_may_transpose) {
  const Type matrix = zeros.getType();  // (a TypeRange of a temporary would dangle)
  if (lhs_may_transpose)
    if (Value source = transposed_source(rows))
      return b
          .create<mlir::linalg::MatmulTransposeAOp>(loc, mlir::TypeRange{matrix},
                                                    mlir::ValueRange{source, cols}, zeros)
          .getResult(0);
  if (Value source = transposed_source(cols))
    return b
        .create<mlir::linalg::MatmulTransposeBOp>(loc, mlir::TypeRange{matrix},
                                                  mlir::ValueRange{rows, source}, zeros)
        .getResult(0);
  return b.create<mlir::linalg::MatmulOp>(loc, mlir::TypeRange{matrix}, mlir::ValueRange{rows, cols}, zeros)
      .getResult(0);
}

// The zero accumulator of rows @ cols when `matrix` has `?` dims (Note
// [Dynamic dims in lowerings]): each read from its operand, or from the
// source of a transpose, which contraction() reads instead.
Value dynamic_zeros(OpBuilder& b, mlir::Location loc, mlir::RankedTensorType matrix, Value rows, Value cols) {
  llvm::SmallVector<Value> sizes;
  if (matrix.isDynamicDim(0)) {
    Value source = transposed_source(rows);
    sizes.push_back(source ? b.create<mlir::tensor::DimOp>(loc, source, 1)
                           : b.create<mlir::tensor::DimOp>(loc, rows, 0));
  }
  if (matrix.isDynamicDim(1)) {
    Value source = transposed_source(cols);
    sizes.push_back(source ? b.create<mlir::tensor::DimOp>(loc, source, 0)
                           : b.create<mlir::tensor::DimOp>(loc, cols, 1));
  }
  Value empty = b.create<mlir::tensor::EmptyOp>(loc, matrix.getShape(), matrix.getElementType(), sizes);
  return b.create<mlir::linalg::FillOp>(loc, constant(b, loc, matrix.getElementType(), 0.0), empty)
      .getResult(0);
}

// lhs [..., m, k] @ rhs [k, n] (or rhs [k]): one 2-D product. With `?`
// dims: lhs of rank 2 or more with a static k, rhs a matrix or a static
// vector; other forms stay unlowered (an Error).
Value matrix_product(OpBuilder& b, mlir::Location loc, Value lhs, Value rhs, Type element) {
  auto lt = tensor_type(lhs), rt = tensor_type(rhs);
  const bool dynamic = !lt.hasStaticShape() || !rt.hasStaticShape();
  if (dynamic && (lt.getRank() < 2 || (rt.getRank() != 2 && !rt.hasStaticShape()) ||
                  (lt.getRank() > 2 && lt.isDynamicDim(lt.getRank() - 1))))
    return {};
  const int64_t k = lt.getShape().back(), n = rt.getRank() == 1 ? 1 : rt.getShape().back();
  int64_t m = 1;  // the rows its leading dims make: `?` when one of them is
  if (lt.getRank() == 2)
    m = lt.getDimSize(0);
  else if (lt.getRank() > 2)
    m = dynamic ? mlir::ShapedType::kDynamic : lt.getNumElements() / std::max<int64_t>(k, 1);
  const auto matrix = tensor_of({m, n}, element);
  Value zeros = dynamic ? Value() : filled(b, loc, matrix, 0.0);
  Value rows = reshape_to(b, loc, lhs, tensor_of({m, k}, element));
  Value cols = reshape_to(b, loc, rhs, tensor_of({k, n}, element));
  if (!rows || !cols) return {};
  if (dynamic) zeros = dynamic_zeros(b, loc, matrix, rows, cols);
  return contraction(b, loc, rows, cols, zeros, lt.getRank() == 2 && rt.getRank() == 2);
}

// One operand of the batched contraction: the value it reads (a transpose's
// source, broadcast batch dims collapsed away) and its indexing map.
struct ContractionOperand {
  Value value;
  mlir::AffineMap map;
};

// `v` ([..., rows, cols] after a 1-D operand became a matrix) as read by a
// contraction whose loops are (batch[0..nb), m, n, k). `row_dim`/`col_dim`
// are the loops its matrix dims run over.
ContractionOperand contraction_operand(OpBuilder& b, mlir::Location loc, Value v,
                                       llvm::ArrayRef<int64_t> batch, unsigned row_dim, unsigned col_dim) {
  const int64_t nb = static_cast<int64_t>(batch.size());
  bool transposed = false;
  if (Value source = transposed_source(v)) v = source, transposed = true;
  auto type = tensor_type(v);
  const int64_t rank = type.getRank(), own_batch = rank - 2;
  llvm::SmallVector<int64_t> kept_shape;
  llvm::SmallVector<mlir::AffineExpr> results;
  for (int64_t i = 0; i < own_batch; ++i) {
    const int64_t loop = nb - own_batch + i;                    // batch dims align from the right
    if (type.getDimSize(i) == 1 && batch[loop] != 1) continue;  // broadcast: not read along this loop
    kept_shape.push_back(type.getDimSize(i));
    results.push_back(b.getAffineDimExpr(loop));
  }
  kept_shape.push_back(type.getDimSize(rank - 2));
  kept_shape.push_back(type.getDimSize(rank - 1));
  // The matrix as stored: a transposed operand's storage dims are swapped.
  results.push_back(b.getAffineDimExpr(transposed ? col_dim : row_dim));
  results.push_back(b.getAffineDimExpr(transposed ? row_dim : col_dim));
  return {reshape_to(b, loc, v, tensor_of(kept_shape, type.getElementType())),
          mlir::AffineMap::get(nb + 3, 0, results, b.getContext())};
}

// lhs [..., m, k] @ rhs [..., k, n] with batch dims that may broadcast.
// `out_shape`: the result's shape, [batch..., rows, cols].
Value batched_product(OpBuilder& b, mlir::Location loc, Value lhs, Value rhs, Type element,
                      llvm::ArrayRef<int64_t> out_shape) {
  const llvm::ArrayRef<int64_t> batch = out_shape.drop_back(2);
  const unsigned nb = static_cast<unsigned>(batch.size()), m = nb, n = nb + 1, k = nb + 2;
  ContractionOperand a = contraction_operand(b, loc, lhs, batch, m, k);
  ContractionOperand c = contraction_operand(b, loc, rhs, batch, k, n);
  llvm::SmallVector<mlir::AffineExpr> out_results;
  for (unsigned d = 0; d < nb; ++d) out_results.push_back(b.getAffineDimExpr(d));
  out_results.push_back(b.getAffineDimExpr(m));
  out_results.push_back(b.getAffineDimExpr(n));
  llvm::SmallVector<mlir::AffineMap> maps{a.map, c.map,
                                          mlir::AffineMap::get(nb + 3, 0, out_results, b.getContext())};
  llvm::SmallVector<mlir::utils::IteratorType> iterators(nb + 2, mlir::utils::IteratorType::parallel);
  iterators.push_back(mlir::utils::IteratorType::reduction);
  const auto out = tensor_of(out_shape, element);
  // `?` result dims (Note [Dynamic dims in lowerings]): a batch dim from an
  // operand that has it `?` at that position (the jit guards that a `?`
  // batch dim is never a broadcast), rows from lhs, cols from rhs.
  llvm::SmallVector<Value> sizes;
  for (unsigned d = 0; d < nb + 2; ++d) {
    if (!mlir::ShapedType::isDynamic(out_shape[d])) continue;
    Value size;
    if (d == m) size = b.create<mlir::tensor::DimOp>(loc, lhs, tensor_type(lhs).getRank() - 2);
    if (d == n) size = b.create<mlir::tensor::DimOp>(loc, rhs, tensor_type(rhs).getRank() - 1);
    for (Value v : {lhs, rhs}) {
      const int64_t at = int64_t(d) - int64_t(nb) + (tensor_type(v).getRank() - 2);
      if (!size && d < nb && at >= 0 && tensor_type(v).isDynamicDim(at))
        size = b.create<mlir::tensor::DimOp>(loc, v, at);
    }
    if (!size) return {};
    sizes.push_back(size);
  }
  Value zeros =
      b.create<mlir::linalg::FillOp>(loc, constant(b, loc, element, 0.0),
                                     Value(b.create<mlir::tensor::EmptyOp>(loc, out_shape, element, sizes)))
          .getResult(0);
  return b
      .create<mlir::linalg::GenericOp>(
          loc, mlir::TypeRange{out}, mlir::ValueRange{a.value, c.value}, mlir::ValueRange{zeros}, maps,
          iterators,
          [&](OpBuilder& body, mlir::Location l, mlir::ValueRange args) {
            Value sum;
            if (is_float(element))
              sum = body.create<mlir::arith::AddFOp>(l, args[2],
                                                     body.create<mlir::arith::MulFOp>(l, args[0], args[1]));
            else
              sum = body.create<mlir::arith::AddIOp>(l, args[2],
                                                     body.create<mlir::arith::MulIOp>(l, args[0], args[1]));
            body.create<mlir::linalg::YieldOp>(l, sum);
          })
      .getResult(0);
}

struct MatmulToLinalg : mlir::OpRewritePattern<ir::MatmulOp> {
  using OpRewritePattern::OpRewritePattern;
  mlir::LogicalResult matchAndRewrite(ir::MatmulOp op, mlir::PatternRewriter& rewriter) const override {
    auto result = mlir::cast<mlir::RankedTensorType>(op.getType());
    const Type element = result.getElementType();
    if (element.isInteger(1)) return mlir::failure();  // eager has no bool matmul either
    const mlir::Location loc = op.getLoc();
    Value lhs = op.getLhs(), rhs = op.getRhs();
    auto lt = tensor_type(lhs), rt = tensor_type(rhs);
    Value product;
    if (rt.getRank() <= 2) {
      product = matrix_product(rewriter, loc, lhs, rhs, element);
      if (!product) return mlir::failure();
    } else {
      if (lt.getRank() == 1 && !lt.hasStaticShape()) return mlir::failure();  // a `?` vector times a batch
      if (lt.getRank() == 1) lhs = reshape_to(rewriter, loc, lhs, tensor_of({1, lt.getDimSize(0)}, element));
      // The result's batch dims are the broadcast of both operands' (eager's
      // meta rule has already checked they broadcast); a 1-D lhs's result
      // has no row dim, the product's has one row.
      llvm::SmallVector<int64_t> out_shape(result.getShape());
      if (lt.getRank() == 1) out_shape.insert(out_shape.end() - 1, 1);
      product = batched_product(rewriter, loc, lhs, rhs, element, out_shape);
      if (!product) return mlir::failure();
    }
    Value reshaped = reshape_to(rewriter, loc, product, result);
    if (!reshaped) return mlir::failure();
    rewriter.replaceOp(op, reshaped);
    return mlir::success();
  }
};

}  // namespace

void populate_matmul_lowerings(mlir::RewritePatternSet& patterns) {
  patterns.add<MatmulToLinalg>(patterns.getContext());
}

}  // namespace ember::compiler::lowering
