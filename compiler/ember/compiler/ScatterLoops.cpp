//===- ScatterLoops.cpp - embedding gradients as a scatter-add loop -------===//
//
// See EmberScatterToLoops in Passes.td. linalg on tensors has no scatter,
// so embedding_backward was once a reduction over a one-hot comparison:
// O(N * E * D) for N indices into a table of E rows of D, which made the
// GPT training step's two embedding gradients 66 ms compiled against
// 1.7 ms eager (AMD Zen 5). Here it is the eager kernel's loop, O(N * D):
// the gradient's rows added into a zeroed buffer at their index, on
// buffers inside the tensor program as ember-attention-to-calls does (a
// read-only to_memref per operand, a fresh buffer returned as a tensor),
// so it needs no runtime library and exports keep working. An index
// outside the table adds nothing: the forward's embedding has checked the
// same indices already (and its check fails the call), so this only keeps
// a call that is failing anyway from writing outside the buffer.
//
//===----------------------------------------------------------------------===//

#include "ember/compiler/LoweringUtils.h"
#include "ember/ir/Dialect.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace ember::compiler {

#define GEN_PASS_DEF_EMBERSCATTERTOLOOPS
#include "ember/compiler/Passes.h.inc"

namespace {

using mlir::OpBuilder;
using mlir::Value;
using namespace lowering;

struct EmbeddingBackwardToLoops : mlir::OpRewritePattern<ir::EmbeddingBackwardOp> {
  using OpRewritePattern::OpRewritePattern;
  mlir::LogicalResult matchAndRewrite(ir::EmbeddingBackwardOp op, mlir::PatternRewriter& b) const override {
    const mlir::Location l = op.getLoc();
    const auto result = tensor_type(op.getResult());
    const mlir::Type element = result.getElementType();
    const int64_t rows = result.getDimSize(0), width = result.getDimSize(1);
    // n indices, `?` when their count is known only at run time (a `?` dim
    // among the indices' dims: the loop's trip count is then read from them).
    const auto indices_type = tensor_type(op.getIndices());
    const int64_t n =
        indices_type.hasStaticShape() ? indices_type.getNumElements() : mlir::ShapedType::kDynamic;
    Value flat_grad = reshape_to(b, l, op.getGrad(), mlir::RankedTensorType::get({n, width}, element));
    Value flat_indices =
        reshape_to(b, l, op.getIndices(), mlir::RankedTensorType::get({n}, indices_type.getElementType()));
    if (!flat_grad || !flat_indices)
      return b.notifyMatchFailure(op, "the indices do not flatten to one `?` dim");
    Value grad = strided_buffer(b, l, flat_grad), indices = strided_buffer(b, l, flat_indices);
    Value out = b.create<mlir::memref::AllocOp>(l, mlir::MemRefType::get({rows, width}, element));
    b.create<mlir::linalg::FillOp>(l, constant(b, l, element, 0.0), out);
    const auto index = [&](int64_t v) -> Value { return b.create<mlir::arith::ConstantIndexOp>(l, v); };
    Value zero = index(0), one = index(1);
    Value count =
        n == mlir::ShapedType::kDynamic ? Value(b.create<mlir::memref::DimOp>(l, indices, 0)) : index(n);
    b.create<mlir::scf::ForOp>(
        l, zero, count, one, mlir::ValueRange{},
        [&](OpBuilder& nb, mlir::Location nl, Value i, mlir::ValueRange) {
          Value row = nb.create<mlir::arith::IndexCastOp>(nl, nb.getIndexType(),
                                                          nb.create<mlir::memref::LoadOp>(nl, indices, i));
          Value inside = nb.create<mlir::arith::AndIOp>(
              nl, nb.create<mlir::arith::CmpIOp>(nl, mlir::arith::CmpIPredicate::sge, row, zero),
              nb.create<mlir::arith::CmpIOp>(nl, mlir::arith::CmpIPredicate::slt, row,
                                             nb.create<mlir::arith::ConstantIndexOp>(nl, rows)));
          nb.create<mlir::scf::IfOp>(nl, inside, [&](OpBuilder& tb, mlir::Location tl) {
            tb.create<mlir::scf::ForOp>(
                tl, zero, tb.create<mlir::arith::ConstantIndexOp>(tl, width), one, mlir::ValueRange{},
                [&](OpBuilder& db, mlir::Location dl, Value d, mlir::ValueRange) {
                  Value g = db.create<mlir::memref::LoadOp>(dl, grad, mlir::ValueRange{i, d});
                  Value acc = db.create<mlir::memref::LoadOp>(dl, out, mlir::ValueRange{row, d});
                  db.create<mlir::memref::StoreOp>(dl, Value(db.create<mlir::arith::AddFOp>(dl, acc, g)), out,
                                                   mlir::ValueRange{row, d});
                  db.create<mlir::scf::YieldOp>(dl);
                });
            tb.create<mlir::scf::YieldOp>(tl);
          });
          nb.create<mlir::scf::YieldOp>(nl);
        });
    b.replaceOp(op, Value(as_tensor(b, l, out)));
    return mlir::success();
  }
};

struct EmberScatterToLoops : impl::EmberScatterToLoopsBase<EmberScatterToLoops> {
  void runOnOperation() override {
    mlir::RewritePatternSet patterns(&getContext());
    patterns.add<EmbeddingBackwardToLoops>(&getContext());
    if (mlir::failed(mlir::applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

}  // namespace
}  // namespace ember::compiler
