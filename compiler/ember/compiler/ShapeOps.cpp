//===- ShapeOps.cpp - views, slices, cat and creation ops to tensor/linalg -===//
//
// Views have value semantics in the IR (a functionalized trace), so each
// lowers to the tensor op that produces the same values: reshapes for
// view/squeeze/unsqueeze, extract_slice for slice/select, insert_slice into
// zeros for their backward ops and for cat. Creation ops are a fill or a
// generic over linalg.index, computed in f64 and cast as the eager kernels do.
//
//===----------------------------------------------------------------------===//

#include <functional>

#include "ember/compiler/ExternalCalls.h"
#include "ember/compiler/LoweringUtils.h"
#include "ember/ir/Dialect.h"
#include "ember/ir/GraphToMLIR.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/PatternMatch.h"

namespace ember::compiler::lowering {
namespace {

using mlir::OpBuilder;
using mlir::Value;

int64_t wrap(int64_t dim, int64_t rank) { return dim < 0 ? dim + rank : dim; }

template <typename Op>
struct ReshapeLowering : mlir::OpRewritePattern<Op> {
  using mlir::OpRewritePattern<Op>::OpRewritePattern;
  mlir::LogicalResult matchAndRewrite(Op op, mlir::PatternRewriter& r) const override {
    Value reshaped = reshape_to(r, op.getLoc(), op.getX(), tensor_type(op.getResult()));
    if (!reshaped) return mlir::failure();  // a reshape of `?` dims reshape_to does not make (an Error)
    r.replaceOp(op, reshaped);
    return mlir::success();
  }
};

// The size of dim `d` of tensor `v`: an attribute, or (a `?` dim) tensor.dim.
mlir::OpFoldResult size_of(OpBuilder& b, mlir::Location l, Value v, int64_t d) {
  auto type = tensor_type(v);
  if (!type.isDynamicDim(d)) return b.getIndexAttr(type.getDimSize(d));
  return b.create<mlir::tensor::DimOp>(l, v, d).getResult();
}

// The offsets, sizes and strides of a slice along `dim` of `full` (the
// tensor sliced, or the one a slice is inserted into): every other dim
// whole, a `?` one read at run time (Note [Dynamic dims in lowerings]).
struct Window {
  llvm::SmallVector<mlir::OpFoldResult> offsets, sizes, strides;
};
Window window(OpBuilder& b, mlir::Location l, Value full, int64_t dim, int64_t start, int64_t size,
              int64_t step) {
  Window w;
  for (int64_t d = 0; d < tensor_type(full).getRank(); ++d) {
    w.offsets.push_back(b.getIndexAttr(d == dim ? start : 0));
    w.sizes.push_back(d == dim ? mlir::OpFoldResult(b.getIndexAttr(size)) : size_of(b, l, full, d));
    w.strides.push_back(b.getIndexAttr(d == dim ? step : 1));
  }
  return w;
}

// The function argument dim graph_to_mlir names as `op`'s result dim `d`
// (ir::kSizeArgsAttr: Note [Sizes in a generalized graph]), or null.
Value named_size(OpBuilder& b, mlir::Operation* op, int64_t d) {
  auto named = op->getAttrOfType<mlir::DenseI64ArrayAttr>(ir::kSizeArgsAttr);
  auto function = op->getParentOfType<mlir::func::FuncOp>();
  for (size_t k = 0; named && function && k + 2 < size_t(named.size()); k += 3)
    if (named[k] == d && named[k + 1] >= 0 && named[k + 1] < int64_t(function.getNumArguments()))
      return b.create<mlir::tensor::DimOp>(op->getLoc(), function.getArgument(unsigned(named[k + 1])),
                                           named[k + 2]);
  return {};
}

// start + length, with an ember.check that it is at most `limit` (the
// static dim a run-time length is cut from or written into; an export's
// caller passes any length). `what` names the op in the message.
Value checked_end(OpBuilder& b, mlir::Location l, Value length, int64_t start, int64_t limit, int64_t dim,
                  const std::string& what) {
  Value end = b.create<mlir::arith::AddIOp>(l, length, b.create<mlir::arith::ConstantIndexOp>(l, start));
  Value fits = b.create<mlir::arith::CmpIOp>(l, mlir::arith::CmpIPredicate::ule, end,
                                             b.create<mlir::arith::ConstantIndexOp>(l, limit));
  b.create<ir::CheckOp>(
      l, b.create<mlir::tensor::FromElementsOp>(l, mlir::RankedTensorType::get({}, b.getI1Type()), fits),
      b.getStringAttr(what + ": a run-time length of dim " + std::to_string(dim) + " from " +
                      std::to_string(start) + " is past the dim's " + std::to_string(limit)));
  return end;
}

// A tensor of type `result` (its `?` dims `sizes`) whose element at
// `indices` (index values) is `element(indices)`.
using ElementAt = std::function<Value(OpBuilder&, mlir::Location, llvm::SmallVector<Value> indices)>;
Value tensor_of_elements(OpBuilder& b, mlir::Location l, mlir::RankedTensorType result,
                         mlir::ValueRange sizes, const ElementAt& element) {
  const int64_t rank = result.getRank();
  Value init = b.create<mlir::tensor::EmptyOp>(l, result.getShape(), result.getElementType(), sizes);
  llvm::SmallVector<mlir::utils::IteratorType> par(rank, mlir::utils::IteratorType::parallel);
  return b
      .create<mlir::linalg::GenericOp>(l, mlir::TypeRange{result}, mlir::ValueRange{}, mlir::ValueRange{init},
                                       llvm::SmallVector<mlir::AffineMap>{b.getMultiDimIdentityMap(rank)},
                                       par,
                                       [&](OpBuilder& nb, mlir::Location nl, mlir::ValueRange) {
                                         llvm::SmallVector<Value> at;
                                         for (int64_t d = 0; d < rank; ++d)
                                           at.push_back(nb.create<mlir::linalg::IndexOp>(nl, d));
                                         nb.create<mlir::linalg::YieldOp>(nl, element(nb, nl, at));
                                       })
      .getResult(0);
}

// A slice of a static dim to a length read at run time (x[:T] of a buffer,
// T an input's dim): result[..., i, ...] = x[..., start + i, ...], the
// length checked and the read index clamped, so that even the call the
// check then fails reads inside x (as embedding's gather does).
Value slice_to_length(OpBuilder& b, mlir::Location l, Value x, mlir::RankedTensorType result, int64_t dim,
                      int64_t start, Value length) {
  const int64_t limit = tensor_type(x).getDimSize(dim);
  checked_end(b, l, length, start, limit, dim, "slice");
  llvm::SmallVector<Value> sizes;
  for (int64_t d = 0; d < result.getRank(); ++d)
    if (result.isDynamicDim(d))
      sizes.push_back(d == dim ? length : b.create<mlir::tensor::DimOp>(l, x, d).getResult());
  return tensor_of_elements(
      b, l, result, sizes, [&](OpBuilder& nb, mlir::Location nl, llvm::SmallVector<Value> at) {
        Value i =
            nb.create<mlir::arith::AddIOp>(nl, at[dim], nb.create<mlir::arith::ConstantIndexOp>(nl, start));
        at[dim] =
            nb.create<mlir::arith::MinUIOp>(nl, i, nb.create<mlir::arith::ConstantIndexOp>(nl, limit - 1));
        return nb.create<mlir::tensor::ExtractOp>(nl, x, at).getResult();
      });
}

struct SliceLowering : mlir::OpRewritePattern<ir::SliceOp> {
  using OpRewritePattern::OpRewritePattern;
  mlir::LogicalResult matchAndRewrite(ir::SliceOp op, mlir::PatternRewriter& r) const override {
    auto type = tensor_type(op.getX());
    const int64_t dim = wrap(static_cast<int64_t>(op.getDim()), type.getRank());
    const auto result = tensor_type(op.getResult());
    const int64_t start = static_cast<int64_t>(op.getStart());
    if (!type.isDynamicDim(dim) && result.isDynamicDim(dim) && op.getStep() == 1 && start >= 0 &&
        type.getDimSize(dim) > 0) {
      if (Value length = named_size(r, op, dim)) {
        r.replaceOp(op, slice_to_length(r, op.getLoc(), op.getX(), result, dim, start, length));
        return mlir::success();
      }
    }
    if (type.isDynamicDim(dim) || result.isDynamicDim(dim)) return mlir::failure();  // along `?`: not yet
    const Window w = window(r, op.getLoc(), op.getX(), dim, static_cast<int64_t>(op.getStart()),
                            result.getDimSize(dim), static_cast<int64_t>(op.getStep()));
    r.replaceOpWithNewOp<mlir::tensor::ExtractSliceOp>(op, result, op.getX(), w.offsets, w.sizes, w.strides);
    return mlir::success();
  }
};

struct SelectLowering : mlir::OpRewritePattern<ir::SelectOp> {
  using OpRewritePattern::OpRewritePattern;
  mlir::LogicalResult matchAndRewrite(ir::SelectOp op, mlir::PatternRewriter& r) const override {
    auto type = tensor_type(op.getX());
    const int64_t dim = wrap(static_cast<int64_t>(op.getDim()), type.getRank());
    // From the end of a `?` dim: an offset known only at run time (not yet).
    if (type.isDynamicDim(dim) && static_cast<int64_t>(op.getIndex()) < 0) return mlir::failure();
    const int64_t index = wrap(static_cast<int64_t>(op.getIndex()), type.getDimSize(dim));
    const Window w = window(r, op.getLoc(), op.getX(), dim, index, 1, 1);
    // Rank-reducing: the selected dim is dropped.
    r.replaceOpWithNewOp<mlir::tensor::ExtractSliceOp>(op, tensor_type(op.getResult()), op.getX(), w.offsets,
                                                       w.sizes, w.strides);
    return mlir::success();
  }
};

// Zeros of the gradient ops' result; its `?` dims are x's at the same
// position, or (select, which drops `removed`) one position earlier past it.
Value zeros_like_result(mlir::OpBuilder& b, mlir::Location l, mlir::RankedTensorType result, Value x,
                        int64_t removed) {
  llvm::SmallVector<Value> sizes;
  for (int64_t d = 0; d < result.getRank(); ++d)
    if (result.isDynamicDim(d))
      sizes.push_back(b.create<mlir::tensor::DimOp>(l, x, removed >= 0 && d > removed ? d - 1 : d));
  Value init = b.create<mlir::tensor::EmptyOp>(l, result.getShape(), result.getElementType(), sizes);
  return b.create<mlir::linalg::FillOp>(l, constant(b, l, result.getElementType(), 0.0), init).getResult(0);
}

// The gradient of slice_to_length: x ([..., length, ...]) at start along
// the static `dim` of the result, zeros elsewhere; the length checked, and
// each element inside read at a clamped index (an scf.if, not a select: a
// length of 0 has no element to read), so that no call reads outside x.
Value pad_from_length(OpBuilder& b, mlir::Location l, Value x, mlir::RankedTensorType result, int64_t dim,
                      int64_t start) {
  Value length = b.create<mlir::tensor::DimOp>(l, x, dim);
  Value end = checked_end(b, l, length, start, result.getDimSize(dim), dim, "slice_backward");
  llvm::SmallVector<Value> sizes;
  for (int64_t d = 0; d < result.getRank(); ++d)
    if (result.isDynamicDim(d)) sizes.push_back(b.create<mlir::tensor::DimOp>(l, x, d));
  return tensor_of_elements(
      b, l, result, sizes, [&](OpBuilder& nb, mlir::Location nl, llvm::SmallVector<Value> at) {
        Value first = nb.create<mlir::arith::ConstantIndexOp>(nl, start);
        Value one = nb.create<mlir::arith::ConstantIndexOp>(nl, 1);
        Value inside = nb.create<mlir::arith::AndIOp>(
            nl, nb.create<mlir::arith::CmpIOp>(nl, mlir::arith::CmpIPredicate::uge, at[dim], first),
            nb.create<mlir::arith::CmpIOp>(nl, mlir::arith::CmpIPredicate::ult, at[dim], end));
        Value shifted =
            nb.create<mlir::arith::SubIOp>(nl, nb.create<mlir::arith::MaxUIOp>(nl, at[dim], first), first);
        Value last =
            nb.create<mlir::arith::SubIOp>(nl, nb.create<mlir::arith::MaxUIOp>(nl, length, one), one);
        at[dim] = nb.create<mlir::arith::MinUIOp>(nl, shifted, last);
        Value zero = constant(nb, nl, result.getElementType(), 0.0);
        return nb
            .create<mlir::scf::IfOp>(
                nl, inside,
                [&](OpBuilder& tb, mlir::Location tl) {
                  tb.create<mlir::scf::YieldOp>(tl,
                                                mlir::Value(tb.create<mlir::tensor::ExtractOp>(tl, x, at)));
                },
                [&](OpBuilder& eb, mlir::Location el) { eb.create<mlir::scf::YieldOp>(el, zero); })
            .getResult(0);
      });
}

// The gradients of slice and select: x written into zeros. Beside a `?` dim
// its size is x's; along one, a slice's gradient from a run-time length
// (pad_from_length), else not yet.
struct SliceBackwardLowering : mlir::OpRewritePattern<ir::SliceBackwardOp> {
  using OpRewritePattern::OpRewritePattern;
  mlir::LogicalResult matchAndRewrite(ir::SliceBackwardOp op, mlir::PatternRewriter& r) const override {
    const auto result = tensor_type(op.getResult());
    const int64_t dim = wrap(static_cast<int64_t>(op.getDim()), result.getRank());
    if (result.isDynamicDim(dim)) return r.notifyMatchFailure(op, "along a `?` dim");
    const int64_t start = static_cast<int64_t>(op.getStart()), step = static_cast<int64_t>(op.getStep());
    if (tensor_type(op.getX()).isDynamicDim(dim)) {  // the gradient of a slice to a run-time length
      if (step != 1 || start < 0) return r.notifyMatchFailure(op, "a run-time length needs step 1");
      r.replaceOp(op, pad_from_length(r, op.getLoc(), op.getX(), result, dim, start));
      return mlir::success();
    }
    Value zeros = zeros_like_result(r, op.getLoc(), result, op.getX(), -1);
    const Window w = window(r, op.getLoc(), zeros, dim, start, tensor_type(op.getX()).getDimSize(dim), step);
    r.replaceOpWithNewOp<mlir::tensor::InsertSliceOp>(op, op.getX(), zeros, w.offsets, w.sizes, w.strides);
    return mlir::success();
  }
};

struct SelectBackwardLowering : mlir::OpRewritePattern<ir::SelectBackwardOp> {
  using OpRewritePattern::OpRewritePattern;
  mlir::LogicalResult matchAndRewrite(ir::SelectBackwardOp op, mlir::PatternRewriter& r) const override {
    const auto result = tensor_type(op.getResult());
    const int64_t dim = wrap(static_cast<int64_t>(op.getDim()), result.getRank());
    if (result.isDynamicDim(dim)) return r.notifyMatchFailure(op, "along a `?` dim");
    const int64_t index = wrap(static_cast<int64_t>(op.getIndex()), result.getDimSize(dim));
    Value zeros = zeros_like_result(r, op.getLoc(), result, op.getX(), dim);
    const Window w = window(r, op.getLoc(), zeros, dim, index, 1, 1);
    r.replaceOpWithNewOp<mlir::tensor::InsertSliceOp>(op, op.getX(), zeros, w.offsets, w.sizes, w.strides);
    return mlir::success();
  }
};

// cat: each input inserted into one new tensor at its offset along `dim`;
// with `?` dims (Note [Dynamic dims in lowerings]) the offsets and sizes are
// read at run time.
struct CatLowering : mlir::OpRewritePattern<ir::CatOp> {
  using OpRewritePattern::OpRewritePattern;
  mlir::LogicalResult matchAndRewrite(ir::CatOp op, mlir::PatternRewriter& r) const override {
    const auto result = tensor_type(op.getResult());
    const mlir::Location l = op.getLoc();
    const int64_t dim = wrap(static_cast<int64_t>(op.getDim()), result.getRank());
    llvm::SmallVector<Value> inputs;
    for (Value input : op.getInputs())
      if (tensor_type(input).getRank() == result.getRank())
        inputs.push_back(input);  // not torch's legacy [0]
    // The result's `?` sizes: another dim's from the first input, the cat dim's the sum of the inputs'.
    llvm::SmallVector<Value> sizes;
    for (int64_t d = 0; d < result.getRank() && !inputs.empty(); ++d) {
      if (!result.isDynamicDim(d)) continue;
      if (d != dim) {
        sizes.push_back(r.create<mlir::tensor::DimOp>(l, inputs.front(), d));
        continue;
      }
      Value total = r.create<mlir::arith::ConstantIndexOp>(l, 0);
      for (Value input : inputs)
        total = r.create<mlir::arith::AddIOp>(
            l, total, mlir::getValueOrCreateConstantIndexOp(r, l, size_of(r, l, input, dim)));
      sizes.push_back(total);
    }
    Value out = r.create<mlir::tensor::EmptyOp>(l, result.getShape(), result.getElementType(), sizes);
    mlir::OpFoldResult offset = r.getIndexAttr(0);
    for (Value input : inputs) {
      auto type = tensor_type(input);
      // Inputs of another dtype are promoted, as eager cat does.
      if (type.getElementType() != result.getElementType()) {
        auto promoted = mlir::RankedTensorType::get(type.getShape(), result.getElementType());
        Value init = r.create<mlir::tensor::EmptyOp>(l, type.getShape(), result.getElementType(),
                                                     dynamic_sizes(r, l, type.getShape(), input));
        llvm::SmallVector<mlir::AffineMap> maps(2, r.getMultiDimIdentityMap(type.getRank()));
        llvm::SmallVector<mlir::utils::IteratorType> par(type.getRank(), mlir::utils::IteratorType::parallel);
        input = r.create<mlir::linalg::GenericOp>(
                     l, mlir::TypeRange{promoted}, mlir::ValueRange{input}, mlir::ValueRange{init}, maps, par,
                     [&](OpBuilder& b, mlir::Location nl, mlir::ValueRange a) {
                       b.create<mlir::linalg::YieldOp>(nl, cast_to(b, nl, a[0], result.getElementType()));
                     })
                    .getResult(0);
      }
      Window w;
      for (int64_t d = 0; d < result.getRank(); ++d) {
        w.offsets.push_back(d == dim ? offset : r.getIndexAttr(0));
        w.sizes.push_back(size_of(r, l, input, d));
        w.strides.push_back(r.getIndexAttr(1));
      }
      out = r.create<mlir::tensor::InsertSliceOp>(l, input, out, w.offsets, w.sizes, w.strides);
      const mlir::OpFoldResult size = w.sizes[dim];
      if (mlir::isa<mlir::Attribute>(offset) && mlir::isa<mlir::Attribute>(size))
        offset = r.getIndexAttr(mlir::getConstantIntValue(offset).value() +
                                mlir::getConstantIntValue(size).value());
      else
        offset = r.create<mlir::arith::AddIOp>(l, mlir::getValueOrCreateConstantIndexOp(r, l, offset),
                                               mlir::getValueOrCreateConstantIndexOp(r, l, size))
                     .getResult();
    }
    r.replaceOp(op, out);
    return mlir::success();
  }
};

// The `?` sizes of a creation op's result (it has no operand to read them
// from): graph_to_mlir names the function argument dim each one is
// (ir::kSizeArgsAttr: Note [Sizes in a generalized graph]). False when one
// is not named (the pattern fails: the graph compiles per size).
bool creation_sizes(OpBuilder& b, mlir::Operation* op, mlir::RankedTensorType result,
                    llvm::SmallVector<Value>& sizes) {
  for (int64_t d = 0; d < result.getRank(); ++d) {
    if (!result.isDynamicDim(d)) continue;
    Value size = named_size(b, op, d);
    if (!size) return false;
    sizes.push_back(size);
  }
  return true;
}

struct FullLowering : mlir::OpRewritePattern<ir::FullOp> {
  using OpRewritePattern::OpRewritePattern;
  mlir::LogicalResult matchAndRewrite(ir::FullOp op, mlir::PatternRewriter& r) const override {
    const auto result = tensor_type(op.getResult());
    const mlir::Location l = op.getLoc();
    llvm::SmallVector<Value> sizes;
    if (!creation_sizes(r, op, result, sizes)) return r.notifyMatchFailure(op, "a `?` dim with no size");
    Value value = cast_to(r, l, constant(r, l, r.getF64Type(), op.getValue().convertToDouble()),
                          result.getElementType());
    Value init = r.create<mlir::tensor::EmptyOp>(l, result.getShape(), result.getElementType(), sizes);
    r.replaceOp(op, r.create<mlir::linalg::FillOp>(l, value, init).getResult(0));
    return mlir::success();
  }
};

// A creation op whose element i (row-major) is a function of its indices,
// computed in f64 and cast to the element type; `sizes` are its `?` dims'.
using IndexBody = std::function<Value(OpBuilder&, mlir::Location, llvm::ArrayRef<Value> indices)>;
Value from_indices(OpBuilder& b, mlir::Location l, mlir::RankedTensorType result, const IndexBody& body,
                   mlir::ValueRange sizes = {}) {
  Value empty = b.create<mlir::tensor::EmptyOp>(l, result.getShape(), result.getElementType(), sizes);
  llvm::SmallVector<mlir::utils::IteratorType> par(result.getRank(), mlir::utils::IteratorType::parallel);
  return b
      .create<mlir::linalg::GenericOp>(
          l, mlir::TypeRange{result}, mlir::ValueRange{}, mlir::ValueRange{empty},
          llvm::SmallVector<mlir::AffineMap>{b.getMultiDimIdentityMap(result.getRank())}, par,
          [&](OpBuilder& nb, mlir::Location nl, mlir::ValueRange) {
            llvm::SmallVector<Value> indices;
            for (int64_t d = 0; d < result.getRank(); ++d) {
              Value i = nb.create<mlir::linalg::IndexOp>(nl, d);
              indices.push_back(nb.create<mlir::arith::IndexCastOp>(nl, nb.getI64Type(), i));
            }
            nb.create<mlir::linalg::YieldOp>(nl,
                                             cast_to(nb, nl, body(nb, nl, indices), result.getElementType()));
          })
      .getResult(0);
}

Value f64(OpBuilder& b, mlir::Location l, double v) { return constant(b, l, b.getF64Type(), v); }
Value to_f64(OpBuilder& b, mlir::Location l, Value i) {
  return b.create<mlir::arith::SIToFPOp>(l, b.getF64Type(), i);
}

struct ArangeLowering : mlir::OpRewritePattern<ir::ArangeOp> {
  using OpRewritePattern::OpRewritePattern;
  mlir::LogicalResult matchAndRewrite(ir::ArangeOp op, mlir::PatternRewriter& r) const override {
    const double start = op.getStart().convertToDouble(), step = op.getStep().convertToDouble();
    llvm::SmallVector<Value> sizes;
    if (!creation_sizes(r, op, tensor_type(op.getResult()), sizes))
      return r.notifyMatchFailure(op, "a `?` dim with no size");
    r.replaceOp(op, from_indices(
                        r, op.getLoc(), tensor_type(op.getResult()),
                        [&](OpBuilder& b, mlir::Location l, llvm::ArrayRef<Value> i) -> Value {
                          Value v = b.create<mlir::arith::MulFOp>(l, f64(b, l, step), to_f64(b, l, i[0]));
                          return b.create<mlir::arith::AddFOp>(l, f64(b, l, start), v);
                        },
                        sizes));
    return mlir::success();
  }
};

struct LinspaceLowering : mlir::OpRewritePattern<ir::LinspaceOp> {
  using OpRewritePattern::OpRewritePattern;
  mlir::LogicalResult matchAndRewrite(ir::LinspaceOp op, mlir::PatternRewriter& r) const override {
    const double start = op.getStart().convertToDouble(), end = op.getEnd().convertToDouble();
    const int64_t n = tensor_type(op.getResult()).getDimSize(0);
    const double step = n > 1 ? (end - start) / double(n - 1) : 0.0;
    // Symmetric from both ends, as the eager kernel (and PyTorch) computes it.
    r.replaceOp(op, from_indices(r, op.getLoc(), tensor_type(op.getResult()),
                                 [&](OpBuilder& b, mlir::Location l, llvm::ArrayRef<Value> i) -> Value {
                                   Value up = b.create<mlir::arith::AddFOp>(
                                       l, f64(b, l, start),
                                       b.create<mlir::arith::MulFOp>(l, f64(b, l, step), to_f64(b, l, i[0])));
                                   Value back = b.create<mlir::arith::SubIOp>(
                                       l, b.create<mlir::arith::ConstantIntOp>(l, n - 1, 64), i[0]);
                                   Value down = b.create<mlir::arith::SubFOp>(
                                       l, f64(b, l, end),
                                       b.create<mlir::arith::MulFOp>(l, f64(b, l, step), to_f64(b, l, back)));
                                   Value first_half = b.create<mlir::arith::CmpIOp>(
                                       l, mlir::arith::CmpIPredicate::slt, i[0],
                                       b.create<mlir::arith::ConstantIntOp>(l, n / 2, 64));
                                   return b.create<mlir::arith::SelectOp>(l, first_half, up, down);
                                 }));
    return mlir::success();
  }
};

struct EyeLowering : mlir::OpRewritePattern<ir::EyeOp> {
  using OpRewritePattern::OpRewritePattern;
  mlir::LogicalResult matchAndRewrite(ir::EyeOp op, mlir::PatternRewriter& r) const override {
    r.replaceOp(
        op, from_indices(r, op.getLoc(), tensor_type(op.getResult()),
                         [&](OpBuilder& b, mlir::Location l, llvm::ArrayRef<Value> i) -> Value {
                           Value diagonal =
                               b.create<mlir::arith::CmpIOp>(l, mlir::arith::CmpIPredicate::eq, i[0], i[1]);
                           return b.create<mlir::arith::SelectOp>(l, diagonal, f64(b, l, 1), f64(b, l, 0));
                         }));
    return mlir::success();
  }
};

// rand/randn/randint: a linalg.map (which elementwise fusion leaves alone,
// so the draws stay in row-major order, one per element) calling the
// runtime's ember_random_draw: the same generator and draws as eager, so a
// compiled replay makes the numbers eager would.
template <typename Op>
struct RandomLowering : mlir::OpRewritePattern<Op> {
  using mlir::OpRewritePattern<Op>::OpRewritePattern;
  mlir::LogicalResult matchAndRewrite(Op op, mlir::PatternRewriter& r) const override {
    const auto result = tensor_type(op.getResult());
    const mlir::Location l = op.getLoc();
    int32_t kind = 0;
    double low = 0, high = 0;
    if constexpr (std::is_same_v<Op, ir::RandnOp>) kind = 1;
    if constexpr (std::is_same_v<Op, ir::RandintOp>) {
      kind = 2;
      low = op.getLow().convertToDouble();
      high = op.getHigh().convertToDouble();
    }
    const bool f32 = result.getElementType().isF32();
    Value init = r.create<mlir::tensor::EmptyOp>(l, result.getShape(), result.getElementType());
    auto map = r.create<mlir::linalg::MapOp>(
        l, mlir::ValueRange{}, init, [&](OpBuilder& b, mlir::Location nl, mlir::ValueRange) {
          Value draw = b.create<mlir::func::CallOp>(
                            nl, kRandomDraw, b.getF64Type(),
                            mlir::ValueRange{b.create<mlir::arith::ConstantIntOp>(nl, kind, 32),
                                             b.create<mlir::arith::ConstantIntOp>(nl, f32 ? 1 : 0, 32),
                                             f64(b, nl, low), f64(b, nl, high)})
                           .getResult(0);
          b.create<mlir::linalg::YieldOp>(nl, cast_to(b, nl, draw, result.getElementType()));
        });
    r.replaceOp(op, map.getResult().front());
    return mlir::success();
  }
};

}  // namespace

void declare_random_draw(mlir::ModuleOp module) {
  bool uses = false;
  module.walk(
      [&](mlir::Operation* op) { uses = uses || mlir::isa<ir::RandOp, ir::RandnOp, ir::RandintOp>(op); });
  if (uses) declare_external(module, kRandomDraw);  // Note [External calls]
}

void populate_shape_lowerings(mlir::RewritePatternSet& patterns) {
  patterns.add<ReshapeLowering<ir::ViewOp>, ReshapeLowering<ir::SqueezeOp>, ReshapeLowering<ir::UnsqueezeOp>,
               SliceLowering, SelectLowering, SliceBackwardLowering, SelectBackwardLowering, CatLowering,
               FullLowering, ArangeLowering, LinspaceLowering, EyeLowering, RandomLowering<ir::RandOp>,
               RandomLowering<ir::RandnOp>, RandomLowering<ir::RandintOp>>(patterns.getContext());
}

}  // namespace ember::compiler::lowering
