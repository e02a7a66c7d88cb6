//===- BoolTransfers.cpp - vector transfers of i1 buffers as scalars ------===//
//
// See EmberBoolTransfersToScalars in Passes.td: LLVM lays a vector of i1 out
// in memory as packed bits, a memref of i1 as one byte per element. A vector
// transfer of an i1 buffer (from the affine super-vectorizer) becomes an
// LLVM vector load or store, which reads or writes 16 bits where the buffer
// has 16 bytes: the other ops of the function then see wrong booleans (a
// compiled cross_entropy called every target out of range; a compiled
// `x > 0` of 16 elements returned two wrong flags). Here each lane of such a
// transfer is its own scalar load or store; the arithmetic around it stays
// vectorized.
//
//===----------------------------------------------------------------------===//

#include <map>

#include "ember/compiler/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Interfaces/VectorInterfaces.h"

namespace ember::compiler {

#define GEN_PASS_DEF_EMBERBOOLTRANSFERSTOSCALARS
#include "ember/compiler/Passes.h.inc"

namespace {

using mlir::Value;

bool is_sub_byte_buffer(mlir::VectorTransferOpInterface op) {
  auto buffer = mlir::dyn_cast<mlir::MemRefType>(op.getShapedType());
  return buffer && buffer.getElementTypeBitWidth() % 8 != 0;
}

// Where one lane (a position in the vector) of a transfer lives in the
// buffer, and whether that place may be past the end (then the caller
// guards the access). A vector dim the permutation map sends to a constant
// is a broadcast: every lane along it reads the same element.
struct Lane {
  llvm::SmallVector<Value> indices;
  Value inside;  // null when the lane is known to be inside
};

Lane lane_position(mlir::OpBuilder& b, mlir::VectorTransferOpInterface op, llvm::ArrayRef<int64_t> lane) {
  const mlir::Location l = op.getLoc();
  Lane out{llvm::SmallVector<Value>(op.getIndices().begin(), op.getIndices().end()), nullptr};
  for (unsigned v = 0; v < lane.size(); ++v) {
    auto dim = mlir::dyn_cast<mlir::AffineDimExpr>(op.getPermutationMap().getResult(v));
    if (!dim) continue;
    const unsigned d = dim.getPosition();
    Value& index = out.indices[d];
    if (lane[v] != 0)
      index = b.create<mlir::arith::AddIOp>(l, index, b.create<mlir::arith::ConstantIndexOp>(l, lane[v]));
    if (!op.isDimInBounds(v)) {
      Value size = b.create<mlir::memref::DimOp>(l, op.getSource(), d);
      Value inside = b.create<mlir::arith::CmpIOp>(l, mlir::arith::CmpIPredicate::ult, index, size);
      out.inside = out.inside ? b.create<mlir::arith::AndIOp>(l, out.inside, inside).getResult() : inside;
    }
  }
  return out;
}

// Every position of a vector of `shape`, in row-major order.
llvm::SmallVector<llvm::SmallVector<int64_t>> lanes_of(llvm::ArrayRef<int64_t> shape) {
  llvm::SmallVector<llvm::SmallVector<int64_t>> lanes{{}};
  for (int64_t size : shape) {
    llvm::SmallVector<llvm::SmallVector<int64_t>> longer;
    for (const auto& prefix : lanes)
      for (int64_t i = 0; i < size; ++i) {
        longer.push_back(prefix);
        longer.back().push_back(i);
      }
    lanes = std::move(longer);
  }
  return lanes;
}

void scalarize_read(mlir::vector::TransferReadOp read) {
  mlir::OpBuilder b(read);
  const mlir::Location l = read.getLoc();
  // Lanes along broadcast dims read one element: loaded once, splat.
  llvm::SmallVector<int64_t> read_shape(read.getVectorType().getShape());
  bool all_broadcast = true;
  for (unsigned v = 0; v < read_shape.size(); ++v) {
    if (!mlir::isa<mlir::AffineDimExpr>(read.getPermutationMap().getResult(v)))
      read_shape[v] = 1;
    else
      all_broadcast = false;
  }
  Value vector = b.create<mlir::vector::SplatOp>(l, read.getVectorType(), read.getPadding());
  std::map<llvm::SmallVector<int64_t>, Value> loaded;
  for (const auto& lane : lanes_of(read.getVectorType().getShape())) {
    llvm::SmallVector<int64_t> source = lane;
    for (unsigned v = 0; v < lane.size(); ++v)
      if (read_shape[v] == 1) source[v] = 0;
    if (auto it = loaded.find(source); it != loaded.end()) {
      if (!all_broadcast) vector = b.create<mlir::vector::InsertOp>(l, it->second, vector, lane);
      continue;
    }
    Lane at = lane_position(b, read, lane);
    Value element;
    if (!at.inside) {
      element = b.create<mlir::memref::LoadOp>(l, read.getSource(), at.indices);
    } else {
      auto guarded = b.create<mlir::scf::IfOp>(
          l, at.inside,
          [&](mlir::OpBuilder& then, mlir::Location tl) {
            then.create<mlir::scf::YieldOp>(
                tl, Value(then.create<mlir::memref::LoadOp>(tl, read.getSource(), at.indices)));
          },
          [&](mlir::OpBuilder& otherwise, mlir::Location el) {
            otherwise.create<mlir::scf::YieldOp>(el, read.getPadding());
          });
      element = guarded.getResult(0);
    }
    loaded[source] = element;
    vector = all_broadcast ? Value(b.create<mlir::vector::SplatOp>(l, read.getVectorType(), element))
                           : Value(b.create<mlir::vector::InsertOp>(l, element, vector, lane));
  }
  read.replaceAllUsesWith(vector);
  read.erase();
}

void scalarize_write(mlir::vector::TransferWriteOp write) {
  mlir::OpBuilder b(write);
  const mlir::Location l = write.getLoc();
  for (const auto& lane : lanes_of(write.getVectorType().getShape())) {
    Lane at = lane_position(b, write, lane);
    Value element = b.create<mlir::vector::ExtractOp>(l, write.getVector(), lane);
    if (!at.inside) {
      b.create<mlir::memref::StoreOp>(l, element, write.getSource(), at.indices);
      continue;
    }
    b.create<mlir::scf::IfOp>(l, at.inside, [&](mlir::OpBuilder& then, mlir::Location tl) {
      then.create<mlir::memref::StoreOp>(tl, element, write.getSource(), at.indices);
      then.create<mlir::scf::YieldOp>(tl);
    });
  }
  write.erase();
}

struct EmberBoolTransfersToScalars : impl::EmberBoolTransfersToScalarsBase<EmberBoolTransfersToScalars> {
  void runOnOperation() override {
    llvm::SmallVector<mlir::VectorTransferOpInterface> transfers;
    getOperation().walk([&](mlir::VectorTransferOpInterface op) {
      if (is_sub_byte_buffer(op)) transfers.push_back(op);
    });
    for (mlir::VectorTransferOpInterface op : transfers) {
      // The super-vectorizer makes 1-D transfers, row fusion N-D ones, both
      // without masks; a masked one would need its own rewrite, and lowering
      // it as it is would be the wrong answer this pass exists to prevent.
      // (Rows are at most kMaxRow lanes: the unrolled form stays bounded.)
      if (op.getMask() || !op.getShapedType().hasRank() || op.getVectorType().isScalable()) {
        op->emitError("ember-bool-transfers-to-scalars: cannot scalarize this transfer of an i1 buffer");
        return signalPassFailure();
      }
      if (auto read = mlir::dyn_cast<mlir::vector::TransferReadOp>(op.getOperation()))
        scalarize_read(read);
      else
        scalarize_write(mlir::cast<mlir::vector::TransferWriteOp>(op.getOperation()));
    }
  }
};

}  // namespace
}  // namespace ember::compiler
