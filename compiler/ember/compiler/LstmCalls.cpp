//===- LstmCalls.cpp - lstm as a call into ember's LSTM kernel -------------===//
//
// See EmberLstmToCalls in Passes.td.
// ember.lstm and ember.lstm_backward become calls of the runtime's LSTM
// kernel (Note [Fused LSTM]) on the operands' buffers, as attention does
// (Attention.cpp says why a call). The time loop is in the kernel, so the
// call takes any sequence length: a `?` T (or B) is read from the
// descriptors at run time, and the result buffers are allocated at the
// sizes of x. Eager and compiled LSTMs are then the same arithmetic, bit for
// bit. Absent operands (no initial state, no gradient of the cells) are
// passed as placeholders the kernel does not read, and `flags` says so.
//
//===----------------------------------------------------------------------===//

#include <string>

#include "ember/compiler/ExternalCalls.h"
#include "ember/compiler/LoweringUtils.h"
#include "ember/ir/Dialect.h"
#include "ember/kernels/lstm.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace ember::compiler::lowering {
namespace {

using mlir::Value;

std::string kernel_name(bool backward, mlir::Type element) {
  return std::string(backward ? "ember_lstm_backward_" : "ember_lstm_") + (element.isF64() ? "f64" : "f32");
}

// A fresh buffer of `type`, its `?` dims sized from those of `like` (same rank).
Value alloc_like(mlir::OpBuilder& b, mlir::Location l, mlir::RankedTensorType type, Value like) {
  llvm::SmallVector<std::pair<Value, int64_t>> size_from;
  for (int64_t d = 0; d < type.getRank(); ++d) size_from.push_back({like, d});
  return alloc_buffer(b, l, type.getShape(), type.getElementType(), size_from);
}

Value flags_of(mlir::OpBuilder& b, mlir::Location l, bool state, bool cell_grad) {
  return b.create<mlir::arith::ConstantIntOp>(
      l, (state ? kernels::kLstmState : 0) | (cell_grad ? kernels::kLstmCellGrad : 0), 64);
}

// The kernel's declaration, which lower_to_kernel_calls made.
mlir::func::FuncOp callee_of(mlir::Operation* op, bool backward, mlir::Type element) {
  return declare_external(op->getParentOfType<mlir::ModuleOp>(), kernel_name(backward, element));
}

// x, w_ih, w_hh, b_ih, b_hh, h0, c0 as the kernel's operands; without a
// state, a [1, 1] zero stands for h0 and c0.
llvm::SmallVector<Value> forward_operands(mlir::OpBuilder& b, mlir::Location l, mlir::ValueRange inputs,
                                          bool state) {
  llvm::SmallVector<Value> operands;
  for (int i = 0; i < 5; ++i) operands.push_back(strided_buffer(b, l, inputs[i]));
  const mlir::Type element = tensor_type(inputs[0]).getElementType();
  for (int i = 5; i < 7; ++i)
    operands.push_back(strided_buffer(
        b, l, state ? inputs[i] : filled(b, l, mlir::RankedTensorType::get({1, 1}, element), 0.0)));
  return operands;
}

struct LstmLowering : mlir::OpRewritePattern<ir::LstmOp> {
  using OpRewritePattern::OpRewritePattern;
  mlir::LogicalResult matchAndRewrite(ir::LstmOp op, mlir::PatternRewriter& b) const override {
    const mlir::Location l = op.getLoc();
    auto inputs = op.getInputs();
    const bool state = inputs.size() == 7;
    auto type = tensor_type(op.getOut());
    auto callee = callee_of(op, false, type.getElementType());
    if (!callee) return b.notifyMatchFailure(op, "the LSTM kernel is not declared");
    llvm::SmallVector<Value> operands = forward_operands(b, l, inputs, state);
    // The buffers are made before the call that writes them, the tensors read after it.
    Value out = alloc_like(b, l, type, inputs[0]),
          gates = alloc_like(b, l, tensor_type(op.getGates()), inputs[0]);
    operands.append({as_strided(b, l, out), as_strided(b, l, gates), flags_of(b, l, state, false)});
    b.create<mlir::func::CallOp>(l, callee, operands);
    b.replaceOp(op, {as_tensor(b, l, out), as_tensor(b, l, gates)});
    return mlir::success();
  }
};

// Operands grad_out, x, w_ih, w_hh, b_ih, b_hh, out, gates[, h0, c0][, grad_gates].
struct LstmBackwardLowering : mlir::OpRewritePattern<ir::LstmBackwardOp> {
  using OpRewritePattern::OpRewritePattern;
  mlir::LogicalResult matchAndRewrite(ir::LstmBackwardOp op, mlir::PatternRewriter& b) const override {
    const mlir::Location l = op.getLoc();
    auto inputs = op.getInputs();
    const bool state = inputs.size() >= 10, cell_grad = inputs.size() % 2 == 1;
    auto dx_type = tensor_type(op.getGradInput()), params_type = tensor_type(op.getGradParams());
    auto callee = callee_of(op, true, dx_type.getElementType());
    if (!callee) return b.notifyMatchFailure(op, "the LSTM kernel is not declared");
    llvm::SmallVector<Value> forward_inputs{inputs[1], inputs[2], inputs[3], inputs[4], inputs[5]};
    if (state) forward_inputs.append({inputs[8], inputs[9]});
    const auto forward = forward_operands(b, l, forward_inputs, state);
    Value dx = alloc_like(b, l, dx_type, inputs[1]);
    // The flat gradient's length, at run time when it depends on a `?` dim:
    // 4H (I + H + 1), + 2 B H with the state.
    llvm::SmallVector<Value> params_size;
    if (params_type.isDynamicDim(0)) {
      const int64_t h = tensor_type(inputs[3]).getDimSize(1);
      Value i = b.create<mlir::tensor::DimOp>(l, inputs[1], 2);
      Value batch = b.create<mlir::tensor::DimOp>(l, inputs[1], 1);
      const auto index = [&](int64_t v) { return b.create<mlir::arith::ConstantIndexOp>(l, v); };
      Value n =
          b.create<mlir::arith::MulIOp>(l, index(4 * h), b.create<mlir::arith::AddIOp>(l, i, index(h + 1)));
      if (state)
        n = b.create<mlir::arith::AddIOp>(l, n, b.create<mlir::arith::MulIOp>(l, batch, index(2 * h)));
      params_size.push_back(n);
    }
    Value params = b.create<mlir::memref::AllocOp>(
        l, mlir::MemRefType::get(params_type.getShape(), params_type.getElementType()), params_size);
    Value grad_out = strided_buffer(b, l, inputs[0]);
    llvm::SmallVector<Value> operands{grad_out, cell_grad ? strided_buffer(b, l, inputs.back()) : grad_out};
    operands.append(forward.begin(), forward.begin() + 5);
    operands.append({strided_buffer(b, l, inputs[6]), strided_buffer(b, l, inputs[7]), forward[5], forward[6],
                     as_strided(b, l, dx), as_strided(b, l, params), flags_of(b, l, state, cell_grad)});
    b.create<mlir::func::CallOp>(l, callee, operands);
    b.replaceOp(op, {as_tensor(b, l, dx), as_tensor(b, l, params)});
    return mlir::success();
  }
};

}  // namespace
}  // namespace ember::compiler::lowering

namespace ember::compiler {

#define GEN_PASS_DEF_EMBERLSTMTOCALLS
#include "ember/compiler/Passes.h.inc"

namespace {

using lowering::kernel_name;
using lowering::LstmBackwardLowering;
using lowering::LstmLowering;
using lowering::tensor_type;

struct EmberLstmToCalls : impl::EmberLstmToCallsBase<EmberLstmToCalls> {
  void runOnOperation() override {
    const auto kernel_of = [](mlir::Operation* op) {
      return kernel_name(mlir::isa<ir::LstmBackwardOp>(op), tensor_type(op->getResult(0)).getElementType());
    };
    mlir::RewritePatternSet patterns(&getContext());
    patterns.add<LstmLowering, LstmBackwardLowering>(&getContext());
    if (mlir::failed(lower_to_kernel_calls<ir::LstmOp, ir::LstmBackwardOp>(getOperation(), kernel_of,
                                                                           std::move(patterns))))
      signalPassFailure();
  }
};

}  // namespace
}  // namespace ember::compiler
