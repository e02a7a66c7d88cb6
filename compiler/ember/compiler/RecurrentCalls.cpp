//===- RecurrentCalls.cpp - lstm and gru as calls into ember's kernels -----===//
//
// See EmberRecurrentToCalls in Passes.td.
// ember.lstm and ember.gru and their gradients become calls of the
// runtime's whole-sequence kernels (Note [Fused LSTM], Note [Fused GRU]) on
// the operands' buffers, as attention does (Attention.cpp says why a call).
// The time loop is in the kernel, so the call takes any sequence length: a
// `?` T (or B) is read from the descriptors at run time, and the result
// buffers are allocated at the sizes of x. Eager and compiled recurrences
// are then the same arithmetic, bit for bit. Absent operands (no initial
// state, no gradient of the LSTM's cells) are passed as placeholders the
// kernel does not read, and `flags` says so.
//
//===----------------------------------------------------------------------===//

#include <string>

#include "ember/compiler/ExternalCalls.h"
#include "ember/compiler/LoweringUtils.h"
#include "ember/ir/Dialect.h"
#include "ember/kernels/gru.h"
#include "ember/kernels/lstm.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace ember::compiler::lowering {
namespace {

using mlir::Value;

// What the lowering needs to know of a recurrence's kernels.
struct Recurrence {
  const char* name;    // the kernels are ember_<name>[_backward]_f32/f64
  int64_t gates;       // the weights have gates * H rows
  int states;          // h0 (and c0): the operands after the biases
  int64_t bias_grads;  // the biases' gradients in the flat result: one sum (LSTM) or each (GRU)
  bool cell_grad;      // the backward may take the saved gates' gradient (the LSTM's cells)
};
constexpr Recurrence kLstm{"lstm", 4, 2, 1, true};
constexpr Recurrence kGru{"gru", 3, 1, 2, false};
static_assert(kernels::kLstmState == kernels::kGruState, "one flag bit says the state is given");

Recurrence recurrence_of(mlir::Operation* op) {
  return mlir::isa<ir::LstmOp, ir::LstmBackwardOp>(op) ? kLstm : kGru;
}

// The kernel `op` calls: ember_lstm_f32, ember_gru_backward_f64, ...
std::string kernel_of(mlir::Operation* op) {
  const bool backward = mlir::isa<ir::LstmBackwardOp, ir::GruBackwardOp>(op);
  return std::string("ember_") + recurrence_of(op).name + (backward ? "_backward_" : "_") +
         (tensor_type(op->getResult(0)).getElementType().isF64() ? "f64" : "f32");
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
mlir::func::FuncOp callee_of(mlir::Operation* op) {
  return declare_external(op->getParentOfType<mlir::ModuleOp>(), kernel_of(op));
}

// x, w_ih, w_hh, b_ih, b_hh and the states as the kernel's operands;
// without a state, a [1, 1] zero stands for each.
llvm::SmallVector<Value> forward_operands(mlir::OpBuilder& b, mlir::Location l, const Recurrence& r,
                                          mlir::ValueRange inputs, bool state) {
  llvm::SmallVector<Value> operands;
  for (int i = 0; i < 5; ++i) operands.push_back(strided_buffer(b, l, inputs[i]));
  const mlir::Type element = tensor_type(inputs[0]).getElementType();
  for (int i = 5; i < 5 + r.states; ++i)
    operands.push_back(strided_buffer(
        b, l, state ? inputs[i] : filled(b, l, mlir::RankedTensorType::get({1, 1}, element), 0.0)));
  return operands;
}

// Operands x, w_ih, w_hh, b_ih, b_hh[, states].
template <typename Op>
struct ForwardLowering : mlir::OpRewritePattern<Op> {
  using mlir::OpRewritePattern<Op>::OpRewritePattern;
  mlir::LogicalResult matchAndRewrite(Op op, mlir::PatternRewriter& b) const override {
    const Recurrence r = recurrence_of(op);
    const mlir::Location l = op.getLoc();
    auto inputs = op.getInputs();
    const bool state = int(inputs.size()) == 5 + r.states;
    auto type = tensor_type(op.getOut());
    auto callee = callee_of(op);
    if (!callee) return b.notifyMatchFailure(op, "the recurrent kernel is not declared");
    llvm::SmallVector<Value> operands = forward_operands(b, l, r, inputs, state);
    // The buffers are made before the call that writes them, the tensors read after it.
    Value out = alloc_like(b, l, type, inputs[0]),
          gates = alloc_like(b, l, tensor_type(op.getGates()), inputs[0]);
    operands.append({as_strided(b, l, out), as_strided(b, l, gates), flags_of(b, l, state, false)});
    b.create<mlir::func::CallOp>(l, callee, operands);
    b.replaceOp(op, {as_tensor(b, l, out), as_tensor(b, l, gates)});
    return mlir::success();
  }
};

// The flat gradient's length, at run time when it depends on a `?` dim:
// G H (I + H + bias_grads), + states B H with the state.
Value params_length(mlir::OpBuilder& b, mlir::Location l, const Recurrence& r, Value x, int64_t h,
                    bool state) {
  const auto index = [&](int64_t v) { return b.create<mlir::arith::ConstantIndexOp>(l, v); };
  Value i = b.create<mlir::tensor::DimOp>(l, x, 2);
  Value n = b.create<mlir::arith::MulIOp>(l, index(r.gates * h),
                                          b.create<mlir::arith::AddIOp>(l, i, index(h + r.bias_grads)));
  if (!state) return n;
  Value batch = b.create<mlir::tensor::DimOp>(l, x, 1);
  return b.create<mlir::arith::AddIOp>(l, n, b.create<mlir::arith::MulIOp>(l, batch, index(r.states * h)));
}

// Operands grad_out, x, w_ih, w_hh, b_ih, b_hh, out, gates[, states]
// [, grad_gates (the LSTM's)].
template <typename Op>
struct BackwardLowering : mlir::OpRewritePattern<Op> {
  using mlir::OpRewritePattern<Op>::OpRewritePattern;
  mlir::LogicalResult matchAndRewrite(Op op, mlir::PatternRewriter& b) const override {
    const Recurrence r = recurrence_of(op);
    const mlir::Location l = op.getLoc();
    auto inputs = op.getInputs();
    const bool state = int(inputs.size()) >= 8 + r.states;
    const bool cell_grad = r.cell_grad && int(inputs.size()) == 8 + (state ? r.states : 0) + 1;
    auto dx_type = tensor_type(op.getGradInput()), params_type = tensor_type(op.getGradParams());
    auto callee = callee_of(op);
    if (!callee) return b.notifyMatchFailure(op, "the recurrent kernel is not declared");
    llvm::SmallVector<Value> forward_inputs{inputs[1], inputs[2], inputs[3], inputs[4], inputs[5]};
    if (state)
      for (int s = 0; s < r.states; ++s) forward_inputs.push_back(inputs[8 + s]);
    const auto forward = forward_operands(b, l, r, forward_inputs, state);
    Value dx = alloc_like(b, l, dx_type, inputs[1]);
    llvm::SmallVector<Value> params_size;
    if (params_type.isDynamicDim(0))
      params_size.push_back(params_length(b, l, r, inputs[1], tensor_type(inputs[3]).getDimSize(1), state));
    Value params = b.create<mlir::memref::AllocOp>(
        l, mlir::MemRefType::get(params_type.getShape(), params_type.getElementType()), params_size);
    Value grad_out = strided_buffer(b, l, inputs[0]);
    llvm::SmallVector<Value> operands{grad_out};
    if (r.cell_grad) operands.push_back(cell_grad ? strided_buffer(b, l, inputs.back()) : grad_out);
    operands.append(forward.begin(), forward.begin() + 5);
    operands.append({strided_buffer(b, l, inputs[6]), strided_buffer(b, l, inputs[7])});
    operands.append(forward.begin() + 5, forward.end());
    operands.append({as_strided(b, l, dx), as_strided(b, l, params), flags_of(b, l, state, cell_grad)});
    b.create<mlir::func::CallOp>(l, callee, operands);
    b.replaceOp(op, {as_tensor(b, l, dx), as_tensor(b, l, params)});
    return mlir::success();
  }
};

}  // namespace
}  // namespace ember::compiler::lowering

namespace ember::compiler {

#define GEN_PASS_DEF_EMBERRECURRENTTOCALLS
#include "ember/compiler/Passes.h.inc"

namespace {

using namespace lowering;

struct EmberRecurrentToCalls : impl::EmberRecurrentToCallsBase<EmberRecurrentToCalls> {
  void runOnOperation() override {
    mlir::RewritePatternSet patterns(&getContext());
    patterns.add<ForwardLowering<ir::LstmOp>, BackwardLowering<ir::LstmBackwardOp>,
                 ForwardLowering<ir::GruOp>, BackwardLowering<ir::GruBackwardOp>>(&getContext());
    if (mlir::failed(lower_to_kernel_calls<ir::LstmOp, ir::LstmBackwardOp, ir::GruOp, ir::GruBackwardOp>(
            getOperation(), kernel_of, std::move(patterns))))
      signalPassFailure();
  }
};

}  // namespace
}  // namespace ember::compiler
