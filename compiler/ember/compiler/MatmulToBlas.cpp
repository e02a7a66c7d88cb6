//===- MatmulToBlas.cpp - bufferized matmuls become cblas_?gemm calls ------===//
//
// Generated loops reach a fraction of OpenBLAS's speed on a matmul; calling
// the same BLAS the eager kernels use gives compiled code the same ceiling,
// and the same threads (OpenBLAS's OpenMP pool is the runtime's pool). The
// call takes raw pointers, so this runs on memrefs after the buffer
// deallocation pipeline and ember-pack-buffers: deallocs and live ranges
// then already end at the matmul it replaces, not at the pointer extraction
// before the call that now reads the buffer.
//
//===----------------------------------------------------------------------===//

#include "ember/compiler/ExternalCalls.h"
#include "ember/compiler/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Matchers.h"

namespace ember::compiler {

#define GEN_PASS_DEF_EMBERMATMULTOBLAS
#include "ember/compiler/Passes.h.inc"

namespace {

using mlir::OpBuilder;
using mlir::Value;

// CBLAS's enum values (cblas.h), fixed by the interface.
constexpr int kRowMajor = 101, kNoTrans = 111, kTrans = 112;

// A matrix operand as BLAS reads it: storage rows of unit stride, the
// distance between rows, and (for a batch) between matrices.
struct Layout {
  int64_t rows = 0, cols = 0, ld = 0, batch_stride = 0;
};

// The layout of a rank-2 or rank-3 memref with static strides and a unit
// innermost stride, or nothing (the matmul is then left to loops).
std::optional<Layout> layout_of(Value v) {
  auto type = mlir::dyn_cast<mlir::MemRefType>(v.getType());
  if (!type || !type.hasStaticShape()) return std::nullopt;
  llvm::SmallVector<int64_t> strides;
  int64_t offset;
  if (mlir::failed(mlir::getStridesAndOffset(type, strides, offset))) return std::nullopt;
  const int64_t r = type.getRank();
  for (int64_t s : strides)
    if (mlir::ShapedType::isDynamic(s)) return std::nullopt;
  Layout l{type.getDimSize(r - 2), type.getDimSize(r - 1), strides[r - 2], r == 3 ? strides[0] : 0};
  if (l.cols > 1 && strides[r - 1] != 1) return std::nullopt;
  // BLAS wants ld >= max(1, cols); a single row's stride is irrelevant.
  if (l.rows <= 1 || l.ld < l.cols) l.ld = std::max<int64_t>(l.cols, 1);
  return l;
}

// The address of a memref's first element as an !llvm.ptr.
Value pointer_of(OpBuilder& b, mlir::Location l, Value memref) {
  auto type = mlir::cast<mlir::MemRefType>(memref.getType());
  // A memref.view's byte shift is in its aligned pointer once lowered, but
  // --expand-strided-metadata folds the pointer of a view to its source's:
  // add the shift here. (Reshapes keep the first element where it is.)
  if (auto reshape = memref.getDefiningOp<mlir::memref::ExpandShapeOp>())
    return pointer_of(b, l, reshape.getSrc());
  if (auto reshape = memref.getDefiningOp<mlir::memref::CollapseShapeOp>())
    return pointer_of(b, l, reshape.getSrc());
  if (auto view = memref.getDefiningOp<mlir::memref::ViewOp>()) {
    Value source = b.create<mlir::memref::ExtractAlignedPointerAsIndexOp>(l, view.getSource());
    Value address = b.create<mlir::arith::IndexCastOp>(
        l, b.getI64Type(), b.create<mlir::arith::AddIOp>(l, source, view.getByteShift()));
    return b.create<mlir::LLVM::IntToPtrOp>(l, mlir::LLVM::LLVMPointerType::get(b.getContext()), address);
  }
  Value base = b.create<mlir::memref::ExtractAlignedPointerAsIndexOp>(l, memref);
  auto metadata = b.create<mlir::memref::ExtractStridedMetadataOp>(l, memref);
  const int64_t bytes = type.getElementTypeBitWidth() / 8;
  Value offset = b.create<mlir::arith::MulIOp>(l, metadata.getOffset(),
                                               b.create<mlir::arith::ConstantIndexOp>(l, bytes));
  Value address =
      b.create<mlir::arith::IndexCastOp>(l, b.getI64Type(), b.create<mlir::arith::AddIOp>(l, base, offset));
  return b.create<mlir::LLVM::IntToPtrOp>(l, mlir::LLVM::LLVMPointerType::get(b.getContext()), address);
}

Value advance(OpBuilder& b, mlir::Location l, Value ptr, Value index, int64_t elements, int64_t bytes) {
  Value step = b.create<mlir::arith::IndexCastOp>(
      l, b.getI64Type(),
      b.create<mlir::arith::MulIOp>(l, index, b.create<mlir::arith::ConstantIndexOp>(l, elements * bytes)));
  Value address =
      b.create<mlir::arith::AddIOp>(l, b.create<mlir::LLVM::PtrToIntOp>(l, b.getI64Type(), ptr), step);
  return b.create<mlir::LLVM::IntToPtrOp>(l, ptr.getType(), address);
}

// `func.func private @cblas_sgemm(...)` (or dgemm), from the registry of
// external calls (Note [External calls]).
mlir::func::FuncOp gemm_declaration(mlir::ModuleOp module, mlir::Type element) {
  return declare_external(module, element.isF32() ? "cblas_sgemm" : "cblas_dgemm");
}

bool is_zero_fill(mlir::Operation* op, Value out) {
  auto fill = mlir::dyn_cast_or_null<mlir::linalg::FillOp>(op);
  if (!fill || fill.getOutputs()[0] != out) return false;
  mlir::FloatAttr value;
  return mlir::matchPattern(fill.getInputs()[0], mlir::m_Constant(&value)) && value.getValue().isZero();
}

// Replaces one matmul-like op by a call (a loop of calls for a batch); one
// whose operands' layouts do not fit is left to the loop lowering.
void rewrite(mlir::linalg::LinalgOp op, mlir::ModuleOp module) {
  const bool batched = mlir::isa<mlir::linalg::BatchMatmulOp>(op.getOperation());
  const bool trans_a = mlir::isa<mlir::linalg::MatmulTransposeAOp>(op.getOperation());
  const bool trans_b = mlir::isa<mlir::linalg::MatmulTransposeBOp>(op.getOperation());
  if (!op.hasPureBufferSemantics()) return;
  Value a = op.getDpsInputs()[0], b = op.getDpsInputs()[1], c = op.getDpsInits()[0];
  auto element = mlir::cast<mlir::MemRefType>(c.getType()).getElementType();
  if (!element.isF32() && !element.isF64()) return;
  auto la = layout_of(a), lb = layout_of(b), lc = layout_of(c);
  if (!la || !lb || !lc) return;
  const int64_t m = lc->rows, n = lc->cols, k = trans_a ? la->rows : la->cols;
  if (m == 0 || n == 0) {  // nothing to write
    op->erase();
    return;
  }
  const int64_t batch = batched ? mlir::cast<mlir::MemRefType>(c.getType()).getDimSize(0) : 1;

  OpBuilder builder(op);
  const mlir::Location l = op.getLoc();
  // The zero fill right before is folded into beta = 0.
  mlir::Operation* previous = op->getPrevNode();
  const bool overwrite = is_zero_fill(previous, c);
  if (overwrite) previous->erase();
  const auto i32 = [&](int64_t v) -> Value { return builder.create<mlir::arith::ConstantIntOp>(l, v, 32); };
  const auto scalar = [&](double v) -> Value {
    return builder.create<mlir::arith::ConstantOp>(l, builder.getFloatAttr(element, v));
  };
  auto gemm = gemm_declaration(module, element);
  Value pa = pointer_of(builder, l, a), pb = pointer_of(builder, l, b), pc = pointer_of(builder, l, c);
  const int64_t bytes = element.getIntOrFloatBitWidth() / 8;
  const auto call = [&](OpBuilder& at, Value x, Value y, Value z) {
    // K == 0: BLAS scales C by beta, which gives the zeros of an empty sum.
    at.create<mlir::func::CallOp>(
        l, gemm,
        mlir::ValueRange{i32(kRowMajor), i32(trans_a ? kTrans : kNoTrans), i32(trans_b ? kTrans : kNoTrans),
                         i32(m), i32(n), i32(k), scalar(1.0), x, i32(la->ld), y, i32(lb->ld),
                         scalar(overwrite ? 0.0 : 1.0), z, i32(lc->ld)});
  };
  if (!batched) {
    call(builder, pa, pb, pc);
  } else {
    Value zero = builder.create<mlir::arith::ConstantIndexOp>(l, 0),
          one = builder.create<mlir::arith::ConstantIndexOp>(l, 1);
    Value count = builder.create<mlir::arith::ConstantIndexOp>(l, batch);
    builder.create<mlir::scf::ForOp>(l, zero, count, one, mlir::ValueRange{},
                                     [&](OpBuilder& body, mlir::Location, Value i, mlir::ValueRange) {
                                       call(body, advance(body, l, pa, i, la->batch_stride, bytes),
                                            advance(body, l, pb, i, lb->batch_stride, bytes),
                                            advance(body, l, pc, i, lc->batch_stride, bytes));
                                       body.create<mlir::scf::YieldOp>(l);
                                     });
  }
  op->erase();
}

struct EmberMatmulToBlas : impl::EmberMatmulToBlasBase<EmberMatmulToBlas> {
  void runOnOperation() override {
    llvm::SmallVector<mlir::linalg::LinalgOp> matmuls;
    getOperation().walk([&](mlir::linalg::LinalgOp op) {
      if (mlir::isa<mlir::linalg::MatmulOp, mlir::linalg::MatmulTransposeAOp,
                    mlir::linalg::MatmulTransposeBOp, mlir::linalg::BatchMatmulOp>(op.getOperation()))
        matmuls.push_back(op);
    });
    for (auto op : matmuls) rewrite(op, getOperation());
  }
};

}  // namespace
}  // namespace ember::compiler
