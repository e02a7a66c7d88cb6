//===- ConvPool.cpp - conv2d and 2-D pooling to linalg's named ops ---------===//
//
// conv2d: the input zero-padded (tensor.pad), linalg.conv_2d_nchw_fchw with
// the strides and dilations into a zero-filled [N, O, OH, OW], then the bias
// as a broadcast add. max_pool2d pads with -inf (padding never wins, as in
// the eager kernel, which skips it) into linalg.pooling_nchw_max, whose
// maximumf keeps NaN as eager does; avg_pool2d pads with 0 and divides the
// window sum by kh * kw (padding counts, as in PyTorch's default).
// Their gradient ops keep the eager kernels for now.
//
//===----------------------------------------------------------------------===//

#include <limits>

#include "ember/compiler/LoweringUtils.h"
#include "ember/ir/Dialect.h"

namespace ember::compiler::lowering {
namespace {

using mlir::Value;

mlir::RankedTensorType tensor_type(Value v) { return mlir::cast<mlir::RankedTensorType>(v.getType()); }

Value pad(mlir::OpBuilder& b, mlir::Location l, Value x, int64_t ph, int64_t pw, double value) {
  if (ph == 0 && pw == 0) return x;
  auto type = tensor_type(x);
  llvm::SmallVector<int64_t> shape(type.getShape());
  shape[2] += 2 * ph;
  shape[3] += 2 * pw;
  llvm::SmallVector<mlir::OpFoldResult> low{b.getIndexAttr(0), b.getIndexAttr(0), b.getIndexAttr(ph), b.getIndexAttr(pw)};
  return b.create<mlir::tensor::PadOp>(l, mlir::RankedTensorType::get(shape, type.getElementType()), x, low, low,
                                       constant(b, l, type.getElementType(), value));
}

Value filled(mlir::OpBuilder& b, mlir::Location l, mlir::RankedTensorType type, double value) {
  Value empty = b.create<mlir::tensor::EmptyOp>(l, type.getShape(), type.getElementType());
  return b.create<mlir::linalg::FillOp>(l, constant(b, l, type.getElementType(), value), empty).getResult(0);
}

struct Conv2dLowering : mlir::OpRewritePattern<ir::Conv2dOp> {
  using OpRewritePattern::OpRewritePattern;
  mlir::LogicalResult matchAndRewrite(ir::Conv2dOp op, mlir::PatternRewriter& r) const override {
    const auto g = op.getGeometry();  // stride h, w, padding h, w, dilation h, w
    const auto inputs = op.getInputs();
    const auto result = tensor_type(op.getResult());
    if (!is_float(result.getElementType())) return mlir::failure();
    const mlir::Location l = op.getLoc();
    Value x = pad(r, l, inputs[0], g[2], g[3], 0.0);
    Value y = r.create<mlir::linalg::Conv2DNchwFchwOp>(l, mlir::TypeRange{result}, mlir::ValueRange{x, inputs[1]},
                                                       mlir::ValueRange{filled(r, l, result, 0.0)},
                                                       r.getI64TensorAttr({g[0], g[1]}), r.getI64TensorAttr({g[4], g[5]}))
                  .getResult(0);
    if (inputs.size() > 2) {  // bias [O] along dim 1
      llvm::SmallVector<mlir::AffineMap> maps{r.getMultiDimIdentityMap(4),
                                              mlir::AffineMap::get(4, 0, r.getAffineDimExpr(1)),
                                              r.getMultiDimIdentityMap(4)};
      llvm::SmallVector<mlir::utils::IteratorType> par(4, mlir::utils::IteratorType::parallel);
      Value init = r.create<mlir::tensor::EmptyOp>(l, result.getShape(), result.getElementType());
      y = r.create<mlir::linalg::GenericOp>(l, mlir::TypeRange{result}, mlir::ValueRange{y, inputs[2]},
                                            mlir::ValueRange{init}, maps, par,
                                            [](mlir::OpBuilder& b, mlir::Location nl, mlir::ValueRange a) {
                                              b.create<mlir::linalg::YieldOp>(
                                                  nl, mlir::Value(b.create<mlir::arith::AddFOp>(nl, a[0], a[1])));
                                            })
              .getResult(0);
    }
    r.replaceOp(op, y);
    return mlir::success();
  }
};

template <typename Op, bool kMax> struct PoolLowering : mlir::OpRewritePattern<Op> {
  using mlir::OpRewritePattern<Op>::OpRewritePattern;
  mlir::LogicalResult matchAndRewrite(Op op, mlir::PatternRewriter& r) const override {
    const auto g = op.getGeometry();  // kernel h, w, stride h, w, padding h, w
    const auto result = tensor_type(op.getResult());
    const mlir::Type element = result.getElementType();
    if (!is_float(element)) return mlir::failure();
    const mlir::Location l = op.getLoc();
    const double identity = kMax ? -std::numeric_limits<double>::infinity() : 0.0;
    Value x = pad(r, l, op.getX(), g[4], g[5], identity);
    Value window = r.create<mlir::tensor::EmptyOp>(l, llvm::ArrayRef<int64_t>{g[0], g[1]}, element);
    const auto strides = r.getI64TensorAttr({g[2], g[3]}), dilations = r.getI64TensorAttr({1, 1});
    Value y;
    if constexpr (kMax) {
      y = r.create<mlir::linalg::PoolingNchwMaxOp>(l, mlir::TypeRange{result}, mlir::ValueRange{x, window},
                                                   mlir::ValueRange{filled(r, l, result, identity)}, strides, dilations)
              .getResult(0);
    } else {
      y = r.create<mlir::linalg::PoolingNchwSumOp>(l, mlir::TypeRange{result}, mlir::ValueRange{x, window},
                                                   mlir::ValueRange{filled(r, l, result, 0.0)}, strides, dilations)
              .getResult(0);
      const double count = double(g[0] * g[1]);
      llvm::SmallVector<mlir::AffineMap> maps(2, r.getMultiDimIdentityMap(4));
      llvm::SmallVector<mlir::utils::IteratorType> par(4, mlir::utils::IteratorType::parallel);
      Value init = r.create<mlir::tensor::EmptyOp>(l, result.getShape(), element);
      y = r.create<mlir::linalg::GenericOp>(l, mlir::TypeRange{result}, mlir::ValueRange{y}, mlir::ValueRange{init}, maps,
                                            par,
                                            [&](mlir::OpBuilder& b, mlir::Location nl, mlir::ValueRange a) {
                                              b.create<mlir::linalg::YieldOp>(
                                                  nl, mlir::Value(b.create<mlir::arith::DivFOp>(
                                                          nl, a[0], constant(b, nl, element, count))));
                                            })
              .getResult(0);
    }
    r.replaceOp(op, y);
    return mlir::success();
  }
};

}  // namespace

void populate_conv_pool_lowerings(mlir::RewritePatternSet& patterns) {
  patterns.add<Conv2dLowering, PoolLowering<ir::MaxPool2dOp, true>, PoolLowering<ir::AvgPool2dOp, false>>(
      patterns.getContext());
}

}  // namespace ember::compiler::lowering
