//===- Attention.cpp - attention as a call into ember's tiled kernel ------===//
//
// See EmberAttentionToCalls in Passes.td.
// ember.attention and ember.attention_backward become calls of the runtime's
// attention kernel (Note [Tiled attention]) on the operands' buffers, not
// loops: the kernel's blocked online softmax around small GEMMs is what
// makes attention fast and its memory linear in the sequence length, and
// writing it a second time as a tiled linalg lowering would give the same
// loops with twice the code to keep equal. Compiled and eager attention are
// then the same arithmetic, bit for bit. The call is built on tensors:
// each operand goes to a buffer (bufferization.to_memref, read_only), the
// results are fresh buffers (memref.alloc) that become tensors again
// (to_tensor restrict writable), so one-shot bufferization, the workspace
// packer and destination passing treat them as any other buffer.
// Operands are brought to 4-D ([batch, heads, rows, cols], leading unit
// dims added) and passed as strided descriptors; a bool mask becomes an
// additive one (0 or -inf); no mask is a [1, 1, 1, 1] zero.
//
//===----------------------------------------------------------------------===//

#include <limits>
#include <string>

#include "ember/compiler/ExternalCalls.h"
#include "ember/compiler/LoweringUtils.h"
#include "ember/ir/Dialect.h"
#include "ember/kernels/attention.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace ember::compiler::lowering {
namespace {

using mlir::Value;

std::string kernel_name(bool backward, mlir::Type element) {
  return std::string(backward ? "ember_attention_backward_" : "ember_attention_") +
         (element.isF64() ? "f64" : "f32");
}

// `t` with leading unit dims up to rank `rank`.
Value to_rank(mlir::OpBuilder& b, mlir::Location l, Value t, int64_t rank) {
  auto type = tensor_type(t);
  llvm::SmallVector<int64_t> shape(rank - type.getRank(), 1);
  shape.append(type.getShape().begin(), type.getShape().end());
  return reshape_to(b, l, t, mlir::RankedTensorType::get(shape, type.getElementType()));
}

// The mask operand as a 4-D additive tensor of `element`, or a [1,1,1,1] zero.
Value additive_mask(mlir::OpBuilder& b, mlir::Location l, mlir::ValueRange inputs, size_t at,
                    mlir::Type element) {
  if (inputs.size() <= at) return filled(b, l, mlir::RankedTensorType::get({1, 1, 1, 1}, element), 0.0);
  Value mask = to_rank(b, l, inputs[at], 4);
  auto type = tensor_type(mask);
  if (type.getElementType() == element) return mask;
  // bool: 0 where a query may attend, -inf where not.
  auto result = mlir::RankedTensorType::get(type.getShape(), element);
  Value init = empty(b, l, type.getShape(), element, mask);
  auto identity = b.getMultiDimIdentityMap(4);
  Value zero = constant(b, l, element, 0.0),
        neg_inf = constant(b, l, element, -std::numeric_limits<double>::infinity());
  return b
      .create<mlir::linalg::GenericOp>(
          l, result, mask, init, llvm::ArrayRef<mlir::AffineMap>{identity, identity},
          llvm::SmallVector<mlir::utils::IteratorType>(4, mlir::utils::IteratorType::parallel),
          [&](mlir::OpBuilder& nb, mlir::Location nl, mlir::ValueRange args) {
            nb.create<mlir::linalg::YieldOp>(
                nl, Value(nb.create<mlir::arith::SelectOp>(nl, args[0], zero, neg_inf)));
          })
      .getResult(0);
}

Value scalar_args(mlir::OpBuilder& b, mlir::Location l, double scale, bool causal, Value* flags) {
  *flags = b.create<mlir::arith::ConstantIntOp>(l, causal ? kernels::kAttentionCausal : 0, 64);
  return b.create<mlir::arith::ConstantOp>(l, b.getF64FloatAttr(scale));
}

struct AttentionLowering : mlir::OpRewritePattern<ir::AttentionOp> {
  using OpRewritePattern::OpRewritePattern;
  mlir::LogicalResult matchAndRewrite(ir::AttentionOp op, mlir::PatternRewriter& b) const override {
    const mlir::Location l = op.getLoc();
    auto inputs = op.getInputs();
    auto out_type = tensor_type(op.getOut()), lse_type = tensor_type(op.getLogsumexp());
    const mlir::Type element = out_type.getElementType();
    Value q = to_rank(b, l, inputs[0], 4), k = to_rank(b, l, inputs[1], 4), v = to_rank(b, l, inputs[2], 4);
    Value mask = additive_mask(b, l, inputs, 3, element);
    auto q4 = tensor_type(q), v4 = tensor_type(v);
    const llvm::SmallVector<int64_t> out_shape{q4.getDimSize(0), q4.getDimSize(1), q4.getDimSize(2),
                                               v4.getDimSize(3)};
    const llvm::SmallVector<int64_t> lse_shape{q4.getDimSize(0), q4.getDimSize(1), q4.getDimSize(2)};
    // The buffers are made before the call that writes them, the tensors
    // read after it.
    Value out_buffer = alloc_buffer(b, l, out_shape, element, {{q, 0}, {q, 1}, {q, 2}, {v, 3}});
    Value lse_buffer = alloc_buffer(b, l, lse_shape, element, {{q, 0}, {q, 1}, {q, 2}});
    Value flags;
    Value scale = scalar_args(b, l, op.getScale().convertToDouble(), op.getIsCausal(), &flags);
    auto callee = declare_external(op->getParentOfType<mlir::ModuleOp>(), kernel_name(false, element));
    if (!callee) return b.notifyMatchFailure(op, "the attention kernel is not declared");
    b.create<mlir::func::CallOp>(
        l, callee,
        mlir::ValueRange{strided_buffer(b, l, q), strided_buffer(b, l, k), strided_buffer(b, l, v),
                         strided_buffer(b, l, mask), as_strided(b, l, out_buffer),
                         as_strided(b, l, lse_buffer), scale, flags});
    b.replaceOp(op, {reshape_to(b, l, as_tensor(b, l, out_buffer), out_type),
                     reshape_to(b, l, as_tensor(b, l, lse_buffer), lse_type)});
    return mlir::success();
  }
};

// dq is a buffer of q's 4-D shape; dk and dv are the two column ranges of one
// [B, H, S, D + Dv] buffer (the op's second result), passed as strided views.
struct AttentionBackwardLowering : mlir::OpRewritePattern<ir::AttentionBackwardOp> {
  using OpRewritePattern::OpRewritePattern;
  mlir::LogicalResult matchAndRewrite(ir::AttentionBackwardOp op, mlir::PatternRewriter& b) const override {
    const mlir::Location l = op.getLoc();
    auto inputs = op.getInputs();
    auto dq_type = tensor_type(op.getGradQ()), dkv_type = tensor_type(op.getGradKv());
    const mlir::Type element = dq_type.getElementType();
    Value grad = to_rank(b, l, inputs[0], 4), q = to_rank(b, l, inputs[1], 4),
          k = to_rank(b, l, inputs[2], 4), v = to_rank(b, l, inputs[3], 4), out = to_rank(b, l, inputs[4], 4),
          lse = to_rank(b, l, inputs[5], 3);
    Value mask = additive_mask(b, l, inputs, 6, element);
    auto q4 = tensor_type(q), k4 = tensor_type(k), v4 = tensor_type(v);
    const int64_t d = k4.getDimSize(3), dv = v4.getDimSize(3);
    if (mlir::ShapedType::isDynamic(d) || mlir::ShapedType::isDynamic(dv))
      return b.notifyMatchFailure(op, "a `?` head dim");
    Value dq = alloc_buffer(b, l, q4.getShape(), element, {{q, 0}, {q, 1}, {q, 2}, {q, 3}});
    const llvm::SmallVector<int64_t> kv_shape{k4.getDimSize(0), k4.getDimSize(1), k4.getDimSize(2), d + dv};
    Value dkv = alloc_buffer(b, l, kv_shape, element, {{k, 0}, {k, 1}, {k, 2}, {k, 3}});
    // The two column ranges of dkv.
    const auto columns = [&](int64_t first, int64_t count) -> Value {
      llvm::SmallVector<mlir::OpFoldResult> offsets(4, b.getIndexAttr(0)), sizes,
          strides(4, b.getIndexAttr(1));
      offsets[3] = b.getIndexAttr(first);
      for (int64_t dim = 0; dim < 3; ++dim)
        sizes.push_back(k4.isDynamicDim(dim)
                            ? mlir::OpFoldResult(b.create<mlir::memref::DimOp>(l, dkv, dim).getResult())
                            : b.getIndexAttr(k4.getDimSize(dim)));
      sizes.push_back(b.getIndexAttr(count));
      return as_strided(b, l, b.create<mlir::memref::SubViewOp>(l, dkv, offsets, sizes, strides));
    };
    Value flags;
    Value scale = scalar_args(b, l, op.getScale().convertToDouble(), op.getIsCausal(), &flags);
    auto callee = declare_external(op->getParentOfType<mlir::ModuleOp>(), kernel_name(true, element));
    if (!callee) return b.notifyMatchFailure(op, "the attention kernel is not declared");
    b.create<mlir::func::CallOp>(
        l, callee,
        mlir::ValueRange{strided_buffer(b, l, grad), strided_buffer(b, l, q), strided_buffer(b, l, k),
                         strided_buffer(b, l, v), strided_buffer(b, l, out), strided_buffer(b, l, lse),
                         strided_buffer(b, l, mask), as_strided(b, l, dq), columns(0, d), columns(d, dv),
                         scale, flags});
    b.replaceOp(op, {reshape_to(b, l, as_tensor(b, l, dq), dq_type),
                     reshape_to(b, l, as_tensor(b, l, dkv), dkv_type)});
    return mlir::success();
  }
};

}  // namespace
}  // namespace ember::compiler::lowering

namespace ember::compiler {

#define GEN_PASS_DEF_EMBERATTENTIONTOCALLS
#include "ember/compiler/Passes.h.inc"

namespace {

using lowering::AttentionBackwardLowering;
using lowering::AttentionLowering;
using lowering::kernel_name;
using lowering::tensor_type;

struct EmberAttentionToCalls : impl::EmberAttentionToCallsBase<EmberAttentionToCalls> {
  void runOnOperation() override {
    const auto kernel_of = [](mlir::Operation* op) {
      return kernel_name(mlir::isa<ir::AttentionBackwardOp>(op),
                         tensor_type(op->getResult(0)).getElementType());
    };
    mlir::RewritePatternSet patterns(&getContext());
    patterns.add<AttentionLowering, AttentionBackwardLowering>(&getContext());
    if (mlir::failed(lower_to_kernel_calls<ir::AttentionOp, ir::AttentionBackwardOp>(
            getOperation(), kernel_of, std::move(patterns))))
      signalPassFailure();
  }
};

}  // namespace
}  // namespace ember::compiler
