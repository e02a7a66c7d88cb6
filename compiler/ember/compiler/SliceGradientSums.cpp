//===- SliceGradientSums.cpp - sums of slice gradients as one cat ----------===//
//
// Note [Slice gradients that tile their input]
// A tensor split into slices (`qkv.select(0, i)` for q, k and v; `chunk`;
// `narrow`) gets one gradient per slice from autograd: each a zero tensor
// of the whole shape with the slice's gradient written in
// (select_backward, slice_backward), summed by the accumulation. In a GPT
// block that is three zero-filled [3, B, H, T, D] buffers and two adds of
// them, 6 MB each at the benchmark's size, to build a tensor whose every
// element is one of the slice gradients. When the slices tile the dim
// (disjoint, and together covering it) the sum is their concatenation:
// one cat, which writes each gradient once and reads no zeros.
//
// Only adds whose inner adds have no other use are merged, so no partial
// sum is computed twice; slices that leave gaps keep their zeros (the adds
// stay as they are).
//
//===----------------------------------------------------------------------===//

#include <algorithm>

#include "ember/compiler/Passes.h"
#include "ember/ir/Dialect.h"
#include "mlir/IR/PatternMatch.h"

namespace ember::compiler {
namespace {

using mlir::Value;

// One slice gradient: `value` (the slice, with the dim kept) goes to
// [start, start + size) along the dim.
struct Piece {
  int64_t start = 0, size = 0;
  Value value;
  bool unsqueeze = false;  // a select's gradient, which dropped the dim
  mlir::Location loc;
};

int64_t wrap(int64_t i, int64_t n) { return i < 0 ? i + n : i; }

// The pieces a value sums along `dim`, or false if it is not such a sum.
bool collect(Value v, mlir::RankedTensorType type, int64_t& dim, bool root,
             llvm::SmallVectorImpl<Piece>& pieces) {
  mlir::Operation* op = v.getDefiningOp();
  if (!op || v.getType() != type) return false;
  if (!root && !v.hasOneUse()) return false;  // its own uses need the zeros or the partial sum
  const auto same_dim = [&](int64_t d) {
    d = wrap(d, type.getRank());
    if (dim < 0) dim = d;
    return d == dim;
  };
  if (auto add = mlir::dyn_cast<ir::AddOp>(op))
    return collect(add.getLhs(), type, dim, false, pieces) && collect(add.getRhs(), type, dim, false, pieces);
  if (auto select = mlir::dyn_cast<ir::SelectBackwardOp>(op)) {
    if (!same_dim(static_cast<int64_t>(select.getDim()))) return false;
    pieces.push_back({wrap(static_cast<int64_t>(select.getIndex()), type.getDimSize(dim)), 1, select.getX(),
                      true, select.getLoc()});
    return true;
  }
  if (auto slice = mlir::dyn_cast<ir::SliceBackwardOp>(op)) {
    if (!same_dim(static_cast<int64_t>(slice.getDim())) || slice.getStep() != 1) return false;
    const auto x = mlir::cast<mlir::RankedTensorType>(slice.getX().getType());
    pieces.push_back(
        {static_cast<int64_t>(slice.getStart()), x.getDimSize(dim), slice.getX(), false, slice.getLoc()});
    return true;
  }
  return false;
}

struct SliceGradientSumToCat : mlir::OpRewritePattern<ir::AddOp> {
  using OpRewritePattern::OpRewritePattern;
  mlir::LogicalResult matchAndRewrite(ir::AddOp op, mlir::PatternRewriter& r) const override {
    auto type = mlir::cast<mlir::RankedTensorType>(op.getType());
    if (!type.hasStaticShape()) return mlir::failure();
    int64_t dim = -1;
    llvm::SmallVector<Piece> pieces;
    if (!collect(op.getResult(), type, dim, true, pieces)) return mlir::failure();
    llvm::sort(pieces, [](const Piece& a, const Piece& b) { return a.start < b.start; });
    int64_t covered = 0;  // the pieces must tile [0, size): no gap, no overlap
    for (const Piece& p : pieces) {
      if (p.start != covered) return mlir::failure();
      covered += p.size;
    }
    if (covered != type.getDimSize(dim)) return mlir::failure();
    llvm::SmallVector<Value> parts;
    for (const Piece& p : pieces)
      parts.push_back(p.unsqueeze ? Value(r.create<ir::UnsqueezeOp>(p.loc, p.value, r.getI64IntegerAttr(dim)))
                                  : p.value);
    r.replaceOpWithNewOp<ir::CatOp>(op, type, parts, r.getI64IntegerAttr(dim));
    return mlir::success();
  }
};

}  // namespace

void populate_slice_gradient_sum_patterns(mlir::RewritePatternSet& patterns) {
  patterns.add<SliceGradientSumToCat>(patterns.getContext());
}

}  // namespace ember::compiler
