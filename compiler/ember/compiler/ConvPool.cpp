//===- ConvPool.cpp - conv2d and 2-D pooling to linalg's named ops ---------===//
//
// conv2d: the input zero-padded (tensor.pad), linalg.conv_2d_nchw_fchw with
// the strides and dilations into a zero-filled [N, O, OH, OW], then the bias
// as a broadcast add. max_pool2d pads with -inf (padding never wins, as in
// the eager kernel, which skips it) into linalg.pooling_nchw_max, whose
// maximumf keeps NaN as eager does; avg_pool2d pads with 0 and divides the
// window sum by kh * kw (padding counts, as in PyTorch's default).
// The gradient ops are generics over the input positions: conv2d's weight
// gradient is an affine reduction; the input gradients of conv2d and the
// pools sum, for each input position, over the output positions whose window
// contains it (a gather written as a reduction with a condition: quadratic in
// the image size, fine for the examples' 8x8 digits, slow for large images).
// A `?` batch is read at run time; other dims must be static.
//
//===----------------------------------------------------------------------===//

#include <limits>

#include "ember/compiler/LoweringUtils.h"
#include "ember/ir/Dialect.h"

namespace ember::compiler::lowering {
namespace {

using mlir::Value;

// x [N, C, H, W] with ph rows and pw columns of `value` on each side. With
// a `?` batch: a filled tensor with x inserted (tensor.pad of a `?` dim made
// one-shot bufferization fail: "operand does not dominate this use").
Value pad(mlir::OpBuilder& b, mlir::Location l, Value x, int64_t ph, int64_t pw, double value) {
  if (ph == 0 && pw == 0) return x;
  auto type = tensor_type(x);
  llvm::SmallVector<int64_t> shape(type.getShape());
  shape[2] += 2 * ph;
  shape[3] += 2 * pw;
  const Value fill = constant(b, l, type.getElementType(), value);
  if (type.hasStaticShape()) {
    llvm::SmallVector<mlir::OpFoldResult> low{b.getIndexAttr(0), b.getIndexAttr(0), b.getIndexAttr(ph),
                                              b.getIndexAttr(pw)};
    return b.create<mlir::tensor::PadOp>(l, mlir::RankedTensorType::get(shape, type.getElementType()), x, low,
                                         low, fill);
  }
  const Value padded = filled(b, l, shape, type.getElementType(), fill, x);
  llvm::SmallVector<mlir::OpFoldResult> offsets{b.getIndexAttr(0), b.getIndexAttr(0), b.getIndexAttr(ph),
                                                b.getIndexAttr(pw)};
  llvm::SmallVector<mlir::OpFoldResult> sizes, strides(4, b.getIndexAttr(1));
  for (int64_t d = 0; d < 4; ++d)
    sizes.push_back(type.isDynamicDim(d)
                        ? mlir::OpFoldResult(b.create<mlir::tensor::DimOp>(l, x, d).getResult())
                        : b.getIndexAttr(type.getDimSize(d)));
  return b.create<mlir::tensor::InsertSliceOp>(l, x, padded, offsets, sizes, strides);
}

// Convolutions and pools take a `?` dim only as the batch (dim 0): their
// window arithmetic reads the static heights and widths. Another `?` dim
// fails the pattern (the graph then compiles per size).
bool batch_only(mlir::ValueRange values) {
  for (Value v : values) {
    auto type = tensor_type(v);
    for (int64_t d = 1; d < type.getRank(); ++d)
      if (type.isDynamicDim(d)) return false;
  }
  return true;
}

// A tensor of `type`, every element `value`, its `?` batch read from `like`.
Value filled_batch(mlir::OpBuilder& b, mlir::Location l, mlir::RankedTensorType type, double value,
                   Value like) {
  return filled(b, l, type.getShape(), type.getElementType(), constant(b, l, type.getElementType(), value),
                like);
}

struct Conv2dLowering : mlir::OpRewritePattern<ir::Conv2dOp> {
  using OpRewritePattern::OpRewritePattern;
  mlir::LogicalResult matchAndRewrite(ir::Conv2dOp op, mlir::PatternRewriter& r) const override {
    const auto g = op.getGeometry();  // stride h, w, padding h, w, dilation h, w
    const auto inputs = op.getInputs();
    const auto result = tensor_type(op.getResult());
    if (!is_float(result.getElementType())) return mlir::failure();
    if (!batch_only(inputs) || !batch_only(op.getResult()))
      return r.notifyMatchFailure(op, "a `?` dim besides the batch");
    const mlir::Location l = op.getLoc();
    Value x = pad(r, l, inputs[0], g[2], g[3], 0.0);
    Value y = r.create<mlir::linalg::Conv2DNchwFchwOp>(
                   l, mlir::TypeRange{result}, mlir::ValueRange{x, inputs[1]},
                   mlir::ValueRange{filled_batch(r, l, result, 0.0, inputs[0])},
                   r.getI64TensorAttr({g[0], g[1]}), r.getI64TensorAttr({g[4], g[5]}))
                  .getResult(0);
    if (inputs.size() > 2) {  // bias [O] along dim 1
      llvm::SmallVector<mlir::AffineMap> maps{r.getMultiDimIdentityMap(4),
                                              mlir::AffineMap::get(4, 0, r.getAffineDimExpr(1)),
                                              r.getMultiDimIdentityMap(4)};
      llvm::SmallVector<mlir::utils::IteratorType> par(4, mlir::utils::IteratorType::parallel);
      Value init = empty(r, l, result.getShape(), result.getElementType(), inputs[0]);
      y = r.create<mlir::linalg::GenericOp>(
               l, mlir::TypeRange{result}, mlir::ValueRange{y, inputs[2]}, mlir::ValueRange{init}, maps, par,
               [](mlir::OpBuilder& b, mlir::Location nl, mlir::ValueRange a) {
                 b.create<mlir::linalg::YieldOp>(nl,
                                                 mlir::Value(b.create<mlir::arith::AddFOp>(nl, a[0], a[1])));
               })
              .getResult(0);
    }
    r.replaceOp(op, y);
    return mlir::success();
  }
};

template <typename Op, bool kMax>
struct PoolLowering : mlir::OpRewritePattern<Op> {
  using mlir::OpRewritePattern<Op>::OpRewritePattern;
  mlir::LogicalResult matchAndRewrite(Op op, mlir::PatternRewriter& r) const override {
    const auto g = op.getGeometry();  // kernel h, w, stride h, w, padding h, w
    const auto result = tensor_type(op.getResult());
    const mlir::Type element = result.getElementType();
    if (!is_float(element)) return mlir::failure();
    const mlir::Location l = op.getLoc();
    const double identity = kMax ? -std::numeric_limits<double>::infinity() : 0.0;
    if (!batch_only({op.getX(), op.getResult()}))
      return r.notifyMatchFailure(op, "a `?` dim besides the batch");
    Value x = pad(r, l, op.getX(), g[4], g[5], identity);
    Value window = r.create<mlir::tensor::EmptyOp>(l, llvm::ArrayRef<int64_t>{g[0], g[1]}, element);
    const auto strides = r.getI64TensorAttr({g[2], g[3]}), dilations = r.getI64TensorAttr({1, 1});
    Value y;
    if constexpr (kMax) {
      y = r.create<mlir::linalg::PoolingNchwMaxOp>(
               l, mlir::TypeRange{result}, mlir::ValueRange{x, window},
               mlir::ValueRange{filled_batch(r, l, result, identity, op.getX())}, strides, dilations)
              .getResult(0);
    } else {
      y = r.create<mlir::linalg::PoolingNchwSumOp>(
               l, mlir::TypeRange{result}, mlir::ValueRange{x, window},
               mlir::ValueRange{filled_batch(r, l, result, 0.0, op.getX())}, strides, dilations)
              .getResult(0);
      const double count = double(g[0] * g[1]);
      llvm::SmallVector<mlir::AffineMap> maps(2, r.getMultiDimIdentityMap(4));
      llvm::SmallVector<mlir::utils::IteratorType> par(4, mlir::utils::IteratorType::parallel);
      Value init = empty(r, l, result.getShape(), element, op.getX());
      y = r.create<mlir::linalg::GenericOp>(
               l, mlir::TypeRange{result}, mlir::ValueRange{y}, mlir::ValueRange{init}, maps, par,
               [&](mlir::OpBuilder& b, mlir::Location nl, mlir::ValueRange a) {
                 b.create<mlir::linalg::YieldOp>(nl, mlir::Value(b.create<mlir::arith::DivFOp>(
                                                         nl, a[0], constant(b, nl, element, count))));
               })
              .getResult(0);
    }
    r.replaceOp(op, y);
    return mlir::success();
  }
};

Value index_of(mlir::OpBuilder& b, mlir::Location l, int64_t dim) {
  return b.create<mlir::arith::IndexCastOp>(l, b.getI64Type(), b.create<mlir::linalg::IndexOp>(l, dim));
}
Value i64(mlir::OpBuilder& b, mlir::Location l, int64_t v) {
  return b.create<mlir::arith::ConstantIntOp>(l, v, 64);
}
Value in_range(mlir::OpBuilder& b, mlir::Location l, Value v, int64_t lo, int64_t hi) {  // lo <= v < hi
  Value a = b.create<mlir::arith::CmpIOp>(l, mlir::arith::CmpIPredicate::sge, v, i64(b, l, lo));
  Value c = b.create<mlir::arith::CmpIOp>(l, mlir::arith::CmpIPredicate::slt, v, i64(b, l, hi));
  return b.create<mlir::arith::AndIOp>(l, a, c);
}

llvm::SmallVector<mlir::utils::IteratorType> iterators(int parallel, int reduction) {
  llvm::SmallVector<mlir::utils::IteratorType> it(parallel, mlir::utils::IteratorType::parallel);
  it.append(reduction, mlir::utils::IteratorType::reduction);
  return it;
}

mlir::AffineMap map(mlir::OpBuilder& b, int dims, llvm::ArrayRef<mlir::AffineExpr> exprs) {
  return mlir::AffineMap::get(dims, 0, exprs, b.getContext());
}

// grad_w[o, c, i, j] = sum over n, oh, ow of grad[n, o, oh, ow] * x[n, c, oh*sh + i*dh - ph, ow*sw + j*dw -
// pw]
struct Conv2dBackwardWeightLowering : mlir::OpRewritePattern<ir::Conv2dBackwardWeightOp> {
  using OpRewritePattern::OpRewritePattern;
  mlir::LogicalResult matchAndRewrite(ir::Conv2dBackwardWeightOp op,
                                      mlir::PatternRewriter& r) const override {
    const auto g = op.getGeometry();  // stride h, w, padding h, w, dilation h, w
    const auto result = tensor_type(op.getResult());
    if (!is_float(result.getElementType())) return mlir::failure();
    if (!batch_only({op.getGrad(), op.getX()}))
      return r.notifyMatchFailure(op, "a `?` dim besides the batch");
    const mlir::Location l = op.getLoc();
    Value x = pad(r, l, op.getX(), g[2], g[3], 0.0);
    auto d = [&](unsigned k) { return r.getAffineDimExpr(k); };  // o c i j n oh ow
    llvm::SmallVector<mlir::AffineMap> maps{
        map(r, 7, {d(4), d(0), d(5), d(6)}),
        map(r, 7, {d(4), d(1), d(5) * g[0] + d(2) * g[4], d(6) * g[1] + d(3) * g[5]}),
        map(r, 7, {d(0), d(1), d(2), d(3)})};
    auto generic = r.create<mlir::linalg::GenericOp>(
        l, mlir::TypeRange{result}, mlir::ValueRange{op.getGrad(), x},
        mlir::ValueRange{filled(r, l, result, 0.0)}, maps, iterators(4, 3),
        [](mlir::OpBuilder& b, mlir::Location nl, mlir::ValueRange a) {
          Value p = b.create<mlir::arith::MulFOp>(nl, a[0], a[1]);
          b.create<mlir::linalg::YieldOp>(nl, mlir::Value(b.create<mlir::arith::AddFOp>(nl, a[2], p)));
        });
    r.replaceOp(op, generic.getResult(0));
    return mlir::success();
  }
};

// grad_x[n, c, h, w] = sum over o, oh, ow of grad[n, o, oh, ow] * weight[o, c, i, j]
// where h = oh*sh - ph + i*dh and w = ow*sw - pw + j*dw (i, j whole and in range).
struct Conv2dBackwardInputLowering : mlir::OpRewritePattern<ir::Conv2dBackwardInputOp> {
  using OpRewritePattern::OpRewritePattern;
  mlir::LogicalResult matchAndRewrite(ir::Conv2dBackwardInputOp op, mlir::PatternRewriter& r) const override {
    const auto g = op.getGeometry();
    const auto result = tensor_type(op.getResult());
    const mlir::Type element = result.getElementType();
    if (!is_float(element)) return mlir::failure();
    const auto wt = tensor_type(op.getWeight());
    const int64_t kh = wt.getDimSize(2), kw = wt.getDimSize(3);
    if (!batch_only({op.getGrad(), op.getWeight(), op.getResult()}))
      return r.notifyMatchFailure(op, "a `?` dim besides the batch");
    const mlir::Location l = op.getLoc();
    const Value weight = op.getWeight();
    auto d = [&](unsigned k) { return r.getAffineDimExpr(k); };  // n c h w o oh ow
    llvm::SmallVector<mlir::AffineMap> maps{map(r, 7, {d(0), d(4), d(5), d(6)}),
                                            map(r, 7, {d(0), d(1), d(2), d(3)})};
    auto generic = r.create<mlir::linalg::GenericOp>(
        l, mlir::TypeRange{result}, mlir::ValueRange{op.getGrad()},
        mlir::ValueRange{filled_batch(r, l, result, 0.0, op.getGrad())}, maps, iterators(4, 3),
        [&](mlir::OpBuilder& b, mlir::Location nl, mlir::ValueRange a) {
          // The kernel offset along one axis, and whether it is a tap.
          auto tap = [&](int64_t pos_dim, int64_t out_dim, int64_t stride, int64_t padding, int64_t dilation,
                         int64_t taps) -> std::pair<Value, Value> {
            Value off = b.create<mlir::arith::SubIOp>(
                nl, b.create<mlir::arith::AddIOp>(nl, index_of(b, nl, pos_dim), i64(b, nl, padding)),
                b.create<mlir::arith::MulIOp>(nl, index_of(b, nl, out_dim), i64(b, nl, stride)));
            Value k = b.create<mlir::arith::DivSIOp>(nl, off, i64(b, nl, dilation));
            Value whole = b.create<mlir::arith::CmpIOp>(
                nl, mlir::arith::CmpIPredicate::eq,
                b.create<mlir::arith::RemSIOp>(nl, off, i64(b, nl, dilation)), i64(b, nl, 0));
            Value ok =
                b.create<mlir::arith::AndIOp>(nl, whole, in_range(b, nl, off, 0, (taps - 1) * dilation + 1));
            // Clamped, so that the read stays inside the weight when it is not a tap.
            Value safe = b.create<mlir::arith::MaxSIOp>(
                nl, b.create<mlir::arith::MinSIOp>(nl, k, i64(b, nl, taps - 1)), i64(b, nl, 0));
            return {b.create<mlir::arith::IndexCastOp>(nl, b.getIndexType(), safe), ok};
          };
          auto [i, ok_i] = tap(2, 5, g[0], g[2], g[4], kh);
          auto [j, ok_j] = tap(3, 6, g[1], g[3], g[5], kw);
          Value o = b.create<mlir::linalg::IndexOp>(nl, 4), c = b.create<mlir::linalg::IndexOp>(nl, 1);
          Value w = b.create<mlir::tensor::ExtractOp>(nl, weight, mlir::ValueRange{o, c, i, j});
          Value sum = b.create<mlir::arith::AddFOp>(nl, a[1], b.create<mlir::arith::MulFOp>(nl, a[0], w));
          Value ok = b.create<mlir::arith::AndIOp>(nl, ok_i, ok_j);
          b.create<mlir::linalg::YieldOp>(nl,
                                          mlir::Value(b.create<mlir::arith::SelectOp>(nl, ok, sum, a[1])));
        });
    r.replaceOp(op, generic.getResult(0));
    return mlir::success();
  }
};

// The window of output (oh, ow) contains input (h, w): 0 <= h + ph - oh*sh < kh, and for w.
Value in_window(mlir::OpBuilder& b, mlir::Location l, llvm::ArrayRef<int64_t> g) {
  auto axis = [&](int64_t pos_dim, int64_t out_dim, int64_t k, int64_t s, int64_t p) {
    Value off = b.create<mlir::arith::SubIOp>(
        l, b.create<mlir::arith::AddIOp>(l, index_of(b, l, pos_dim), i64(b, l, p)),
        b.create<mlir::arith::MulIOp>(l, index_of(b, l, out_dim), i64(b, l, s)));
    return in_range(b, l, off, 0, k);
  };
  return b.create<mlir::arith::AndIOp>(l, axis(2, 4, g[0], g[2], g[4]), axis(3, 5, g[1], g[3], g[5]));
}

// avg: grad_x[n, c, h, w] = sum over the windows containing (h, w) of grad / (kh * kw).
struct AvgPool2dBackwardLowering : mlir::OpRewritePattern<ir::AvgPool2dBackwardOp> {
  using OpRewritePattern::OpRewritePattern;
  mlir::LogicalResult matchAndRewrite(ir::AvgPool2dBackwardOp op, mlir::PatternRewriter& r) const override {
    const auto g = op.getGeometry();  // kernel h, w, stride h, w, padding h, w
    const auto result = tensor_type(op.getResult());
    const mlir::Type element = result.getElementType();
    if (!is_float(element)) return mlir::failure();
    if (!batch_only({op.getGrad(), op.getResult()}))
      return r.notifyMatchFailure(op, "a `?` dim besides the batch");
    const mlir::Location l = op.getLoc();
    auto d = [&](unsigned k) { return r.getAffineDimExpr(k); };  // n c h w oh ow
    llvm::SmallVector<mlir::AffineMap> maps{map(r, 6, {d(0), d(1), d(4), d(5)}),
                                            map(r, 6, {d(0), d(1), d(2), d(3)})};
    auto generic = r.create<mlir::linalg::GenericOp>(
        l, mlir::TypeRange{result}, mlir::ValueRange{op.getGrad()},
        mlir::ValueRange{filled_batch(r, l, result, 0.0, op.getGrad())}, maps, iterators(4, 2),
        [&](mlir::OpBuilder& b, mlir::Location nl, mlir::ValueRange a) {
          Value share =
              b.create<mlir::arith::DivFOp>(nl, a[0], constant(b, nl, element, double(g[0] * g[1])));
          Value sum = b.create<mlir::arith::AddFOp>(nl, a[1], share);
          b.create<mlir::linalg::YieldOp>(
              nl, mlir::Value(b.create<mlir::arith::SelectOp>(nl, in_window(b, nl, g), sum, a[1])));
        });
    r.replaceOp(op, generic.getResult(0));
    return mlir::success();
  }
};

// max: each window's gradient goes to its first maximum (the first NaN if
// any), as the eager kernel; found by an index reduction over the window's
// valid positions, then gathered per input position.
struct MaxPool2dBackwardLowering : mlir::OpRewritePattern<ir::MaxPool2dBackwardOp> {
  using OpRewritePattern::OpRewritePattern;
  mlir::LogicalResult matchAndRewrite(ir::MaxPool2dBackwardOp op, mlir::PatternRewriter& r) const override {
    const auto g = op.getGeometry();
    const auto result = tensor_type(op.getResult()), grad = tensor_type(op.getGrad());
    const mlir::Type element = result.getElementType();
    if (!is_float(element)) return mlir::failure();
    if (!batch_only({op.getGrad(), op.getX()}))
      return r.notifyMatchFailure(op, "a `?` dim besides the batch");
    const mlir::Location l = op.getLoc();
    const int64_t h = result.getDimSize(2), w = result.getDimSize(3);
    Value x = pad(r, l, op.getX(), g[4], g[5], 0.0);
    auto d = [&](unsigned k) { return r.getAffineDimExpr(k); };  // n c oh ow i j
    auto index_type = mlir::RankedTensorType::get(grad.getShape(), r.getI64Type());
    Value best_value = filled_batch(r, l, grad, 0.0, op.getGrad());
    Value best_index = filled(r, l, grad.getShape(), r.getI64Type(), i64(r, l, -1), op.getGrad());
    // An unread [kh, kw] operand gives the window loops their sizes, as in linalg's pooling ops.
    Value window = r.create<mlir::tensor::EmptyOp>(l, llvm::ArrayRef<int64_t>{g[0], g[1]}, element);
    llvm::SmallVector<mlir::AffineMap> arg_maps{
        map(r, 6, {d(0), d(1), d(2) * g[2] + d(4), d(3) * g[3] + d(5)}), map(r, 6, {d(4), d(5)}),
        map(r, 6, {d(0), d(1), d(2), d(3)}), map(r, 6, {d(0), d(1), d(2), d(3)})};
    auto argmax = r.create<mlir::linalg::GenericOp>(
        l, mlir::TypeRange{grad, index_type}, mlir::ValueRange{x, window},
        mlir::ValueRange{best_value, best_index}, arg_maps, iterators(4, 2),
        [&](mlir::OpBuilder& b, mlir::Location nl, mlir::ValueRange a) {
          Value iy = b.create<mlir::arith::AddIOp>(
              nl, b.create<mlir::arith::MulIOp>(nl, index_of(b, nl, 2), i64(b, nl, g[2])),
              b.create<mlir::arith::SubIOp>(nl, index_of(b, nl, 4), i64(b, nl, g[4])));
          Value ix = b.create<mlir::arith::AddIOp>(
              nl, b.create<mlir::arith::MulIOp>(nl, index_of(b, nl, 3), i64(b, nl, g[3])),
              b.create<mlir::arith::SubIOp>(nl, index_of(b, nl, 5), i64(b, nl, g[5])));
          Value valid =
              b.create<mlir::arith::AndIOp>(nl, in_range(b, nl, iy, 0, h), in_range(b, nl, ix, 0, w));
          Value v = a[0], best = a[2], idx = a[3];
          Value none = b.create<mlir::arith::CmpIOp>(nl, mlir::arith::CmpIPredicate::slt, idx, i64(b, nl, 0));
          Value greater = b.create<mlir::arith::CmpFOp>(nl, mlir::arith::CmpFPredicate::OGT, v, best);
          Value v_nan = b.create<mlir::arith::CmpFOp>(nl, mlir::arith::CmpFPredicate::UNO, v, v);
          Value best_ok = b.create<mlir::arith::CmpFOp>(nl, mlir::arith::CmpFPredicate::ORD, best, best);
          Value better = b.create<mlir::arith::OrIOp>(
              nl, none,
              b.create<mlir::arith::OrIOp>(nl, greater, b.create<mlir::arith::AndIOp>(nl, v_nan, best_ok)));
          Value take = b.create<mlir::arith::AndIOp>(nl, valid, better);
          Value position =
              b.create<mlir::arith::AddIOp>(nl, b.create<mlir::arith::MulIOp>(nl, iy, i64(b, nl, w)), ix);
          b.create<mlir::linalg::YieldOp>(
              nl, mlir::ValueRange{b.create<mlir::arith::SelectOp>(nl, take, v, best),
                                   b.create<mlir::arith::SelectOp>(nl, take, position, idx)});
        });
    // grad_x[n, c, y, x] = sum over (oh, ow) whose best index is y * W + x of grad[n, c, oh, ow]
    auto e = [&](unsigned k) { return r.getAffineDimExpr(k); };  // n c y x oh ow
    llvm::SmallVector<mlir::AffineMap> maps{map(r, 6, {e(0), e(1), e(4), e(5)}),
                                            map(r, 6, {e(0), e(1), e(4), e(5)}),
                                            map(r, 6, {e(0), e(1), e(2), e(3)})};
    auto scatter = r.create<mlir::linalg::GenericOp>(
        l, mlir::TypeRange{result}, mlir::ValueRange{argmax.getResult(1), op.getGrad()},
        mlir::ValueRange{filled_batch(r, l, result, 0.0, op.getX())}, maps, iterators(4, 2),
        [&](mlir::OpBuilder& b, mlir::Location nl, mlir::ValueRange a) {
          Value position = b.create<mlir::arith::AddIOp>(
              nl, b.create<mlir::arith::MulIOp>(nl, index_of(b, nl, 2), i64(b, nl, w)), index_of(b, nl, 3));
          Value hit = b.create<mlir::arith::CmpIOp>(nl, mlir::arith::CmpIPredicate::eq, a[0], position);
          Value sum = b.create<mlir::arith::AddFOp>(nl, a[2], a[1]);
          b.create<mlir::linalg::YieldOp>(nl,
                                          mlir::Value(b.create<mlir::arith::SelectOp>(nl, hit, sum, a[2])));
        });
    r.replaceOp(op, scatter.getResult(0));
    return mlir::success();
  }
};

}  // namespace

void populate_conv_pool_lowerings(mlir::RewritePatternSet& patterns) {
  patterns.add<Conv2dLowering, PoolLowering<ir::MaxPool2dOp, true>, PoolLowering<ir::AvgPool2dOp, false>,
               Conv2dBackwardWeightLowering, Conv2dBackwardInputLowering, AvgPool2dBackwardLowering,
               MaxPool2dBackwardLowering>(patterns.getContext());
}

}  // namespace ember::compiler::lowering
